// check_command.hpp - `check`: a monitoring plugin (Nagios, Icinga,
// monitoring-plugins conventions; health.hpp has the line and the rules).
// It reads the runs table and the records read-only, and asks the milter's
// socket whether a milter answers there. Whatever goes wrong while looking
// is UNKNOWN (3), never a sysexits code: a plugin's caller reads 0 to 3.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/config/config.hpp"
#include "common/util/result.hpp"
#include "sweeper/health.hpp"

namespace etrn {

struct CheckOptions {
  CheckThresholds thresholds;
  bool milter = true;  // --no-milter: do not look at the milter's socket
  // --instance: another host's name, or "all" (every host that ran a
  // sweep, health.hpp's evaluate_fleet_health); unset: this host. The
  // milter's socket is looked at only for this host.
  std::optional<std::string> instance;
};

// The thresholds given as (option, value), e.g. ("age-warning", "30m"),
// ("outbox-critical", "10"), over the defaults; 0 turns one off. An error
// names the option.
Result<CheckThresholds> parse_thresholds(
    const std::vector<std::pair<std::string, std::string>>& given);

// Prints the status line on stdout; returns the plugin's exit status.
int run_check(const Config& config, const CheckOptions& options);

// Whether something accepts a connection on a libmilter socket spec
// (unix:/path, local:/path, inet:PORT@HOST, inet6:PORT@HOST).
bool milter_answers(const std::string& socket_spec);

}  // namespace etrn
