// options.cpp - command-line parsing (see options.hpp). Options may come
// before or after the command; an option that belongs to another command
// is a usage error.
#include "sweeper/options.hpp"

#include <boost/program_options.hpp>
#include <sstream>

#include "common/config/config.hpp"
#include "common/util/sysexits.hpp"

namespace po = boost::program_options;

namespace etrn {

namespace {

// check's thresholds: (option, help). check_command.cpp reads the values.
constexpr std::pair<const char*, const char*> kCheckThresholdOptions[] = {
    {"age-warning", "last successful sweep older than this: WARNING (default 1h)"},
    {"age-critical", "... CRITICAL (default 3h)"},
    {"failed-warning", "runs in a row that failed: WARNING (default 2)"},
    {"failed-critical", "... CRITICAL (default 4)"},
    {"outbox-warning", "DSNs waiting in the outbox: WARNING (default 1)"},
    {"outbox-critical", "... CRITICAL (default 50)"},
    {"attention-warning", "recipients that need a person: WARNING (default 1)"},
    {"attention-critical", "... CRITICAL (default 20)"},
    {"overdue-warning",
     "recipients an hour past their deadline, still queued: WARNING (default 1)"},
    {"overdue-critical", "... CRITICAL (default 100)"},
};

po::options_description described_options() {
  po::options_description global("Options");
  static const std::string config_help =
      "configuration file (default " + std::string(kDefaultConfigPath) + ")";
  global.add_options()("config,c", po::value<std::string>(), config_help.c_str())(
      "database", po::value<std::string>(), "database file (overrides the configuration)")(
      "mta", po::value<std::string>(), "postfix or sendmail (overrides the configuration)")(
      "verbose,v", "say what was done")("help,h", "this text")("version,V", "the version");
  po::options_description sweep("sweep");
  sweep.add_options()("dry-run,n", "print the plan; change nothing")(
      "now", po::value<std::string>(),
      "act as of TIME: epoch seconds, 2026-12-01T09:00:00Z, +49h, +3d")(
      "metrics-file", po::value<std::string>(),
      "write a Prometheus textfile there after the sweep (over metrics_file)");
  po::options_description report("report");
  report.add_options()("json", "one JSON object per line")(
      "state", po::value<std::string>(), "only queued, warned, expired, departed or attention");
  po::options_description check("check (a value at or above a threshold raises the state)");
  for (const auto& [name, help] : kCheckThresholdOptions)
    check.add_options()(name, po::value<std::string>(), help);
  check.add_options()("no-milter", "do not look for the milter on its socket");
  po::options_description prune("prune (and --dry-run)");
  prune.add_options()("before", po::value<std::string>(),
                      "prune what was last changed before TIME, not history_retention ago")(
      "address", po::value<std::string>(),
      "erase this address's closed history, whatever its age (a privacy request)");
  po::options_description all;
  all.add(global).add(sweep).add(report).add(check).add(prune);
  return all;
}

Command command_named(const std::string& name) {
  if (name == "sweep") return Command::sweep;
  if (name == "report") return Command::report;
  if (name == "shape") return Command::shape;
  if (name == "check-config") return Command::check_config;
  if (name == "check") return Command::check;
  if (name == "prune") return Command::prune;
  if (name == "show-config") return Command::show_config;
  throw FatalError(ExitCode::usage,
                   "unknown command '" + name +
                       "' (want sweep, report, shape, check, check-config, prune or show-config)");
}

void refuse_foreign(const po::variables_map& vm, Command command) {
  const auto only_for = [&](const char* option, Command owner, const char* owner_name) {
    if (vm.count(option) && command != owner) {
      throw FatalError(ExitCode::usage,
                       std::string("--") + option + " applies only to " + owner_name);
    }
  };
  // show-config -n: only what is not at its default (postconf -n).
  if (command != Command::prune && command != Command::show_config)
    only_for("dry-run", Command::sweep, "sweep, prune and show-config (-n)");
  only_for("now", Command::sweep, "sweep");
  only_for("json", Command::report, "report");
  only_for("state", Command::report, "report");
  only_for("metrics-file", Command::sweep, "sweep");
  only_for("no-milter", Command::check, "check");
  for (const auto& [name, help] : kCheckThresholdOptions) only_for(name, Command::check, "check");
  only_for("before", Command::prune, "prune");
  only_for("address", Command::prune, "prune");
}

template <typename T>
std::optional<T> optional_value(const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) return std::nullopt;
  return vm[name].as<T>();
}

}  // namespace

std::string usage_text() {
  std::ostringstream out;
  out << "usage: etrn-sweeper [-c FILE] [--database PATH] [--mta postfix|sendmail] [-v] COMMAND\n"
         "  sweep  [--dry-run] [--now TIME]   reconcile, warn, expire, bounce (default)\n"
         "  report [--json] [--state S]       the audit records, one line each\n"
         "  shape                             pending ETRN mail per domain by age\n"
         "  check-config                      check the configuration\n"
         "  check  [thresholds] [--no-milter]  monitoring plugin: exit 0 OK, 1 WARNING, 2 "
         "CRITICAL, 3 UNKNOWN\n"
         "  prune  [--dry-run] [--before TIME | --address ADDR]\n"
         "                                    delete closed history older than "
         "history_retention\n"
         "  show-config [-n]                  the effective settings (-n: only those not at "
         "their default)\n\n"
      << described_options();
  return out.str();
}

Options parse_options(const std::vector<std::string>& args) {
  po::options_description all = described_options();
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::vector<std::string>>());
  po::options_description everything;
  everything.add(all).add(hidden);
  po::positional_options_description positional;
  positional.add("command", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(everything).positional(positional).run(), vm);
  } catch (const po::error& e) {
    throw FatalError(ExitCode::usage, e.what());
  }
  Options o;
  auto words =
      optional_value<std::vector<std::string>>(vm, "command").value_or(std::vector<std::string>{});
  if (words.size() > 1) throw FatalError(ExitCode::usage, "unexpected argument '" + words[1] + "'");
  if (!words.empty()) o.command = command_named(words[0]);
  refuse_foreign(vm, o.command);
  o.config_path = optional_value<std::string>(vm, "config").value_or(kDefaultConfigPath);
  o.database = optional_value<std::string>(vm, "database");
  o.mta = optional_value<std::string>(vm, "mta");
  o.verbose = vm.count("verbose") > 0;
  o.help = vm.count("help") > 0;
  o.version = vm.count("version") > 0;
  o.dry_run = vm.count("dry-run") > 0;
  o.now = optional_value<std::string>(vm, "now");
  o.report_format = vm.count("json") > 0 ? ReportFormat::json : ReportFormat::text;
  o.state = optional_value<std::string>(vm, "state");
  o.metrics_file = optional_value<std::string>(vm, "metrics-file");
  for (const auto& [name, help] : kCheckThresholdOptions)
    if (vm.count(name)) o.check_thresholds.emplace_back(name, vm[name].as<std::string>());
  o.check_milter = vm.count("no-milter") == 0;
  o.before = optional_value<std::string>(vm, "before");
  o.address = optional_value<std::string>(vm, "address");
  return o;
}

}  // namespace etrn
