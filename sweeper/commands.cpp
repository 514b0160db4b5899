// commands.cpp - the command dispatcher (see commands.hpp). Cron-friendly:
// silent on success unless --verbose; warnings and errors go to stderr and
// syslog.
#include "sweeper/commands.hpp"

#include <cstdlib>
#include <iostream>

#include "common/config/config.hpp"
#include "common/config/config_keys.hpp"
#include "common/log/log.hpp"
#include "common/store/database.hpp"
#include "common/util/sysexits.hpp"
#include "sweeper/check_command.hpp"
#include "sweeper/history_command.hpp"
#include "sweeper/migrate_command.hpp"
#include "sweeper/prune_command.hpp"
#include "sweeper/report_command.hpp"
#include "sweeper/shape_command.hpp"
#include "sweeper/sweep_command.hpp"

namespace etrn {

namespace {

ConfigParse load_with_overrides(const Options& options) {
  ConfigParse parse = load_config_file(options.config_path);
  if (options.database) apply_config_override(parse, "database", *options.database);
  if (options.mta) apply_config_override(parse, "mta", *options.mta);
  return parse;
}

void print_errors(const ConfigParse& parse) {
  for (const ConfigError& error : parse.errors)
    std::cerr << "etrn-sweeper: " << error.to_string() << "\n";
}

int check_config(const ConfigParse& parse) {
  if (!parse.ok()) {
    print_errors(parse);
    return to_int(ExitCode::config);
  }
  std::cout << "configuration OK\n";
  return 0;
}

SweepOptions sweep_options(const Options& options) {
  SweepOptions sweep;
  sweep.dry_run = options.dry_run;
  sweep.verbose = options.verbose;
  sweep.now = options.now;
  sweep.future_now = options.future_now;
  sweep.metrics_file = options.metrics_file;
  return sweep;
}

// Runs a command on a valid configuration. The store's failures end it
// (database.hpp, "Errors"): a busy database is temporary (75, rerun),
// anything else an I/O error (74).
int run_configured(const Options& options, const Config& config) {
  try {
    switch (options.command) {
      case Command::report:
        return run_report(config, options);
      case Command::shape:
        return run_shape(config, options);
      case Command::history:
        return run_history(config, options);
      case Command::prune:
        return run_prune(
            with_own_instance(config, *make_mta(config)),
            PruneOptions{
                .dry_run = options.dry_run, .before = options.before, .address = options.address});
      case Command::migrate:
        return run_migrate(with_own_instance(config, *make_mta(config)), *options.migrate_to);
      case Command::sweep:
      case Command::check_config:
      case Command::check:
      case Command::show_config:
        break;
    }
    auto mta = make_mta(config);
    return run_sweep(config, *mta, sweep_options(options));
  } catch (const DatabaseError& e) {
    if (e.is_busy())
      throw FatalError(ExitCode::temp_fail, std::string("database busy: ") + e.what());
    throw FatalError(ExitCode::io_error, std::string("database error: ") + e.what());
  }
}

// A monitoring plugin says UNKNOWN (3) for what keeps it from looking,
// bad arguments and configuration included, and logs nothing.
int check(const Options& options, const ConfigParse& parse) {
  if (!parse.ok()) {
    std::cout << unknown_health("configuration: " + parse.errors.front().to_string()).line << "\n";
    return static_cast<int>(CheckState::unknown);
  }
  auto thresholds = parse_thresholds(options.check_thresholds);
  if (!thresholds) {
    std::cout << unknown_health(thresholds.error().message).line << "\n";
    return static_cast<int>(CheckState::unknown);
  }
  return run_check(parse.config, CheckOptions{*thresholds, options.check_milter, options.instance});
}

// syslog gets what the sweep did (log_level); stderr only problems, so cron
// mails nothing on success (--verbose: everything). Under systemd stderr is
// the journal, which has the syslog lines already.
LogSinks sweeper_log_sinks(const Config& config, bool verbose) {
  LogSinks sinks;
  sinks.syslog_level = verbose ? "info" : config.log_level;
  if (std::getenv("JOURNAL_STREAM") == nullptr) sinks.stderr_level = verbose ? "info" : "warning";
  return sinks;
}

}  // namespace

int run_command(const Options& options) {
  if (options.help) {
    std::cout << (options.command_given ? command_help(options.command) : usage_text());
    return 0;
  }
  if (options.version) {
    std::cout << "etrn-sweeper " << ETRN_VERSION << "\n";
    return 0;
  }
  const ConfigParse parse = load_with_overrides(options);
  if (options.command == Command::check_config) return check_config(parse);
  if (options.command == Command::check) return check(options, parse);
  if (!parse.ok()) {
    print_errors(parse);
    return to_int(ExitCode::config);
  }
  if (options.command == Command::show_config) {
    std::cout << render_config(parse.config,
                               options.dry_run ? ConfigRender::changed : ConfigRender::effective);
    return 0;
  }
  const Config& config = parse.config;
  setup_logging("etrn-sweeper", sweeper_log_sinks(config, options.verbose));
  return run_configured(options, config);
}

}  // namespace etrn
