// options.hpp - the command line of etrn-sweeper (interface.md), parsed
// with Boost.Program_options into plain values. Usage errors throw
// FatalError(usage).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace etrn {

enum class Command { sweep, report, shape, check_config, check, prune, show_config };
enum class ReportFormat { text, json };

struct Options {
  Command command = Command::sweep;
  std::string config_path;  // -c; kDefaultConfigPath when not given
  std::optional<std::string> database;
  std::optional<std::string> mta;
  bool verbose = false;
  bool help = false;
  bool version = false;
  // sweep
  bool dry_run = false;
  std::optional<std::string> now;
  std::optional<std::string> metrics_file;
  // prune (and --dry-run)
  std::optional<std::string> before;
  std::optional<std::string> address;
  // report
  ReportFormat report_format = ReportFormat::text;  // --json
  std::optional<std::string> state;
  // check: thresholds (durations as text, checked by the command), --no-milter
  std::vector<std::pair<std::string, std::string>> check_thresholds;  // (option, value)
  bool check_milter = true;
};

Options parse_options(const std::vector<std::string>& args);  // args without argv[0]
std::string usage_text();

}  // namespace etrn
