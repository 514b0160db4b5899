// options.cpp - command-line parsing (see options.hpp). Options may come
// before or after the command; an option that belongs to another command
// is a usage error, and so is an abbreviated one (Boost would otherwise
// guess, and a new option could change what an old abbreviation means).
#include "sweeper/options.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <charconv>
#include <sstream>

#include "common/config/config.hpp"
#include "common/util/sysexits.hpp"

namespace po = boost::program_options;

namespace etrn {

namespace {

struct CommandSpec {
  Command command;
  const char* name;
  const char* synopsis;
  const char* purpose;
};

const std::vector<CommandSpec>& command_table() {
  static const std::vector<CommandSpec> table = {
      {Command::sweep, "sweep", "[--dry-run] [--now TIME [--future-now]] [--metrics-file PATH]",
       "reconcile, warn, expire, bounce (the default command)"},
      {Command::report, "report",
       "[--json] [--state S] [--domain D] [--since TIME] [--queue-id ID] [--limit N]",
       "the audit records, one line each"},
      {Command::shape, "shape", "[--json] [-b N] [-t MINUTES]",
       "pending ETRN mail per domain by age (like qshape)"},
      {Command::history, "history", "[--json] QID|ADDRESS|MESSAGE-ID",
       "one message's whole story, across re-injected queue IDs (exit 1: none found)"},
      {Command::check_config, "check-config", "", "check the configuration"},
      {Command::show_config, "show-config", "[-n]",
       "the settings in effect (-n: only those not at their default, like postconf -n)"},
      {Command::check, "check", "[--age-warning D] [--age-critical D] ... [--no-milter]",
       "monitoring plugin: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN"},
      {Command::prune, "prune", "[--dry-run] [--before TIME | --address ADDR]",
       "delete closed history older than history_retention (--address: one address's)"},
      {Command::migrate, "migrate", "--to URI",
       "copy this host's SQLite database into a shared PostgreSQL one (idempotent, resumable)"},
  };
  return table;
}

struct OptionSpec {
  const char* names;       // Boost's form: "long,s"
  const char* value_name;  // nullptr: a flag
  const char* help;
  std::vector<Command> commands;  // empty: every command
};

const std::vector<OptionSpec>& option_table() {
  static const std::string config_help =
      "configuration file (default " + std::string(kDefaultConfigPath) + ")";
  static const std::vector<OptionSpec> table = {
      {"config,c", "FILE", config_help.c_str(), {}},
      {"database", "PATH", "database file or PostgreSQL URI (overrides the configuration)", {}},
      {"mta", "NAME", "postfix or sendmail (overrides the configuration)", {}},
      {"verbose,v", nullptr, "say what was done", {}},
      {"help,h", nullptr, "this text; after a command, that command's help", {}},
      {"version,V", nullptr, "the version", {}},
      {"dry-run,n",
       nullptr,
       "print the plan and change nothing (show-config: only the settings not at their default)",
       {Command::sweep, Command::prune, Command::show_config}},
      {"now",
       "TIME",
       "act as of TIME: epoch seconds, 2026-12-01T09:00:00Z, +49h, +3d, -2h",
       {Command::sweep}},
      {"future-now",
       nullptr,
       "let --now lie in the future without --dry-run: warn, expire and bounce early",
       {Command::sweep}},
      {"metrics-file",
       "PATH",
       "write a Prometheus textfile there after the sweep (over metrics_file)",
       {Command::sweep}},
      {"before",
       "TIME",
       "prune what was last changed before TIME, not history_retention ago",
       {Command::prune}},
      {"address",
       "ADDR",
       "erase this address's closed history, whatever its age (a privacy request)",
       {Command::prune}},
      {"to", "URI", "the PostgreSQL database to copy into", {Command::migrate}},
      {"age-warning", "D", "last successful sweep older than D: WARNING (1h)", {Command::check}},
      {"age-critical", "D", "... CRITICAL (3h)", {Command::check}},
      {"failed-warning", "N", "N runs in a row that failed: WARNING (2)", {Command::check}},
      {"failed-critical", "N", "... CRITICAL (4)", {Command::check}},
      {"outbox-warning", "N", "N DSNs waiting in the outbox: WARNING (1)", {Command::check}},
      {"outbox-critical", "N", "... CRITICAL (50)", {Command::check}},
      {"attention-warning", "N", "N recipients that need a person: WARNING (1)", {Command::check}},
      {"attention-critical", "N", "... CRITICAL (20)", {Command::check}},
      {"overdue-warning",
       "N",
       "N recipients an hour past their deadline, still queued: WARNING (1)",
       {Command::check}},
      {"overdue-critical", "N", "... CRITICAL (100)", {Command::check}},
      {"no-milter", nullptr, "do not look for the milter on its socket", {Command::check}},
      {"instance",
       "NAME",
       "only host NAME's rows and those naming no host; all: every host's (default for "
       "report and history; shape and check: this host)",
       {Command::report, Command::shape, Command::history, Command::check}},
      {"json",
       nullptr,
       "one JSON object per line",
       {Command::report, Command::shape, Command::history}},
      {"state", "S", "only queued, warned, expired, departed or attention", {Command::report}},
      {"domain", "D", "only recipients in domain D", {Command::report}},
      {"since",
       "TIME",
       "only recipients whose state changed at or after TIME (forms as --now)",
       {Command::report}},
      {"queue-id", "ID", "only the message with this queue ID", {Command::report}},
      {"limit", "N", "at most N lines (the oldest first)", {Command::report}},
      {"buckets,b",
       "N",
       "N age columns, each twice as wide as the one before (2 to 24)",
       {Command::shape}},
      {"first-bucket,t",
       "MINUTES",
       "the first age column's width in minutes (default 60)",
       {Command::shape}},
  };
  return table;
}

std::string long_name(const OptionSpec& spec) {
  const std::string names = spec.names;
  return names.substr(0, names.find(','));
}

bool belongs_to(const OptionSpec& spec, Command command) {
  return spec.commands.empty() ||
         std::find(spec.commands.begin(), spec.commands.end(), command) != spec.commands.end();
}

void add_option(po::options_description& group, const OptionSpec& spec) {
  if (spec.value_name == nullptr) {
    group.add_options()(spec.names, spec.help);
  } else {
    group.add_options()(spec.names, po::value<std::string>()->value_name(spec.value_name),
                        spec.help);
  }
}

// The options of one command (or, with none, the global ones).
po::options_description options_of(const std::optional<Command>& command,
                                   const std::string& title) {
  po::options_description group(title);
  for (const OptionSpec& spec : option_table()) {
    const bool global = spec.commands.empty();
    if (command ? (!global && belongs_to(spec, *command)) : global) add_option(group, spec);
  }
  return group;
}

const CommandSpec& spec_of(Command command) {
  for (const CommandSpec& spec : command_table())
    if (spec.command == command) return spec;
  throw std::logic_error("command missing from the table");
}

std::string synopsis_of(const CommandSpec& spec) {
  return *spec.synopsis == '\0' ? spec.name : std::string(spec.name) + ' ' + spec.synopsis;
}

Command command_named(const std::string& name) {
  for (const CommandSpec& spec : command_table())
    if (name == spec.name) return spec.command;
  std::string names;
  for (const CommandSpec& spec : command_table())
    names += (names.empty() ? "" : ", ") + std::string(spec.name);
  throw FatalError(ExitCode::usage, "unknown command '" + name + "' (want one of " + names + ")");
}

// "sweep", "report and shape", "report, shape and history".
std::string owners_of(const OptionSpec& spec) {
  std::string names;
  for (std::size_t i = 0; i < spec.commands.size(); ++i) {
    if (i > 0) names += i + 1 == spec.commands.size() ? " and " : ", ";
    names += spec_of(spec.commands[i]).name;
  }
  return names;
}

void refuse_foreign(const po::variables_map& vm, Command command) {
  for (const OptionSpec& spec : option_table()) {
    const std::string name = long_name(spec);
    if (vm.count(name) && !belongs_to(spec, command)) {
      throw FatalError(ExitCode::usage, "--" + name + " applies only to " + owners_of(spec) +
                                            ", not to " + spec_of(command).name);
    }
  }
}

std::optional<std::string> text_value(const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) return std::nullopt;
  return vm[name].as<std::string>();
}

std::optional<std::int64_t> number_value(const po::variables_map& vm, const char* name,
                                         std::int64_t low, std::int64_t high) {
  const auto text = text_value(vm, name);
  if (!text) return std::nullopt;
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || value < low || value > high) {
    throw FatalError(ExitCode::usage, "--" + std::string(name) + " " + *text +
                                          ": want a whole number from " + std::to_string(low) +
                                          " to " + std::to_string(high));
  }
  return value;
}

// The words after the command: history takes exactly one, the others none.
void take_arguments(Options& o, const std::vector<std::string>& words) {
  const std::size_t wanted = o.command == Command::history ? 1 : 0;
  if (o.command == Command::history && words.size() < 2 && !o.help) {
    throw FatalError(ExitCode::usage, "history needs a queue ID, an address or a Message-ID");
  }
  if (words.size() > wanted + 1)
    throw FatalError(ExitCode::usage, "unexpected argument '" + words[wanted + 1] + "'");
  if (wanted == 1 && words.size() == 2) o.lookup = words[1];
}

void check_combinations(const Options& o) {
  if (o.future_now && !o.now) throw FatalError(ExitCode::usage, "--future-now needs --now TIME");
  if (o.before && o.address)
    throw FatalError(ExitCode::usage, "--before and --address are two kinds of prune: give one");
  if (o.command == Command::migrate && !o.migrate_to && !o.help)
    throw FatalError(ExitCode::usage, "migrate needs --to URI");
  if (o.instance && o.instance->empty())
    throw FatalError(ExitCode::usage, "--instance: give a host's name, or all");
  if (o.mta && *o.mta != "postfix" && *o.mta != "sendmail")
    throw FatalError(ExitCode::usage, "--mta " + *o.mta + ": want postfix or sendmail");
}

po::variables_map parsed(const std::vector<std::string>& args) {
  po::options_description everything;
  for (const OptionSpec& spec : option_table()) add_option(everything, spec);
  everything.add_options()("command", po::value<std::vector<std::string>>());
  po::positional_options_description positional;
  positional.add("command", -1);
  const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  po::variables_map vm;
  try {
    po::store(
        po::command_line_parser(args).options(everything).positional(positional).style(style).run(),
        vm);
  } catch (const po::error& e) {
    throw FatalError(ExitCode::usage, e.what());
  }
  return vm;
}

}  // namespace

std::string usage_text() {
  std::ostringstream out;
  out << "usage: etrn-sweeper [-c FILE] [--database PATH] [--mta postfix|sendmail] [-v] COMMAND\n";
  for (const CommandSpec& spec : command_table()) {
    out << "  " << synopsis_of(spec) << "\n      " << spec.purpose << "\n";
  }
  out << "\n'etrn-sweeper COMMAND --help' shows one command's options.\n\n"
      << options_of(std::nullopt, "Options");
  for (const CommandSpec& spec : command_table()) {
    po::options_description own = options_of(spec.command, std::string(spec.name) + " options");
    if (!own.options().empty()) out << "\n" << own;
  }
  return out.str();
}

std::string command_help(Command command) {
  const CommandSpec& spec = spec_of(command);
  std::ostringstream out;
  out << "usage: etrn-sweeper [-c FILE] [--database PATH] [--mta postfix|sendmail] [-v] "
      << synopsis_of(spec) << "\n  " << spec.purpose << "\n\n";
  po::options_description own = options_of(command, std::string(spec.name) + " options");
  if (!own.options().empty()) out << own << "\n";
  out << options_of(std::nullopt, "Options");
  return out.str();
}

Options parse_options(const std::vector<std::string>& args) {
  const po::variables_map vm = parsed(args);
  Options o;
  o.help = vm.count("help") > 0;
  const auto words = vm.count("command") ? vm["command"].as<std::vector<std::string>>()
                                         : std::vector<std::string>{};
  if (!words.empty()) o.command = command_named(words[0]), o.command_given = true;
  take_arguments(o, words);
  refuse_foreign(vm, o.command);
  o.config_path = text_value(vm, "config").value_or(kDefaultConfigPath);
  o.database = text_value(vm, "database");
  o.mta = text_value(vm, "mta");
  o.verbose = vm.count("verbose") > 0;
  o.version = vm.count("version") > 0;
  o.dry_run = vm.count("dry-run") > 0;
  o.now = text_value(vm, "now");
  o.future_now = vm.count("future-now") > 0;
  o.metrics_file = text_value(vm, "metrics-file");
  o.before = text_value(vm, "before");
  o.address = text_value(vm, "address");
  o.migrate_to = text_value(vm, "to");
  for (const OptionSpec& spec : option_table()) {
    const std::string name = long_name(spec);
    if (spec.commands == std::vector<Command>{Command::check} && spec.value_name && vm.count(name))
      o.check_thresholds.emplace_back(name, vm[name].as<std::string>());
  }
  o.check_milter = vm.count("no-milter") == 0;
  o.report_format = vm.count("json") > 0 ? ReportFormat::json : ReportFormat::text;
  o.state = text_value(vm, "state");
  o.domain = text_value(vm, "domain");
  o.since = text_value(vm, "since");
  o.queue_id = text_value(vm, "queue-id");
  o.instance = text_value(vm, "instance");
  o.limit = number_value(vm, "limit", 1, INT64_MAX);
  if (auto b = number_value(vm, "buckets", 2, 24)) o.buckets = static_cast<int>(*b);
  if (auto t = number_value(vm, "first-bucket", 1, 7 * 24 * 60))
    o.first_bucket_minutes = static_cast<int>(*t);
  check_combinations(o);
  return o;
}

}  // namespace etrn
