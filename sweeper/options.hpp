// options.hpp - the command line of etrn-sweeper (interface.md), parsed
// with Boost.Program_options into plain values. Usage errors throw
// FatalError(usage).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace etrn {

enum class Command { sweep, report, shape, check_config, prune };
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
  // prune (and --dry-run)
  std::optional<std::string> before;
  std::optional<std::string> address;
  // report
  ReportFormat report_format = ReportFormat::text;  // --json
  std::optional<std::string> state;
};

Options parse_options(const std::vector<std::string>& args);  // args without argv[0]
std::string usage_text();

}  // namespace etrn
