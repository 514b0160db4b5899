// options.hpp - the command line of etrn-sweeper (interface.md), parsed
// with Boost.Program_options into plain values. Usage errors throw
// FatalError(usage) with a message that says what to change.
//
// One table (options.cpp) lists every option with the commands it belongs
// to: it drives the parser, the refusal of another command's options, the
// overview (--help) and each command's own help (COMMAND --help).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace etrn {

enum class Command {
  sweep,
  report,
  shape,
  check_config,
  check,
  prune,
  show_config,
  history,
  migrate
};
enum class ReportFormat { text, json };

struct Options {
  Command command = Command::sweep;
  bool command_given = false;  // false: sweep by default; --help shows the overview
  std::string config_path;     // -c; kDefaultConfigPath when not given
  std::optional<std::string> database;
  std::optional<std::string> mta;
  bool verbose = false;
  bool help = false;
  bool version = false;
  // sweep
  bool dry_run = false;  // also prune's, and show-config's -n
  std::optional<std::string> now;
  bool future_now = false;  // --now may lie in the future without --dry-run
  std::optional<std::string> metrics_file;
  // prune
  std::optional<std::string> before;
  std::optional<std::string> address;
  // migrate
  std::optional<std::string> migrate_to;  // the PostgreSQL URI
  // check: thresholds (durations as text, checked by the command), --no-milter
  std::vector<std::pair<std::string, std::string>> check_thresholds;  // (option, value)
  bool check_milter = true;
  // report, shape, history and check: whose rows (a host's name or "all")
  std::optional<std::string> instance;
  // report and shape
  ReportFormat report_format = ReportFormat::text;  // --json
  // report
  std::optional<std::string> state;
  std::optional<std::string> domain;
  std::optional<std::string> since;  // TIME, as --now
  std::optional<std::string> queue_id;
  std::optional<std::int64_t> limit;
  // shape (qshape's -b and -t)
  std::optional<int> buckets;
  std::optional<int> first_bucket_minutes;
  // history
  std::string lookup;  // QID, ADDRESS or MESSAGE-ID
};

Options parse_options(const std::vector<std::string>& args);  // args without argv[0]
// The overview: every command and every option (--help; help2man's man page).
std::string usage_text();
// One command's synopsis, purpose and options (COMMAND --help).
std::string command_help(Command command);

}  // namespace etrn
