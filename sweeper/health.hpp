// health.hpp - what `etrn-sweeper check` and the metrics file say about the
// sweeper, from the runs table and the records (pure: facts in, text out).
//
// `check` follows the monitoring-plugins conventions: one status line,
// "ETRN-SWEEPER STATE - what | perfdata", and exit 0 OK, 1 WARNING,
// 2 CRITICAL, 3 UNKNOWN. A value at or above a threshold raises the state.
// The metrics file is node_exporter's textfile collector format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/model/run.hpp"
#include "common/util/epoch_seconds.hpp"

namespace etrn {

// How many runs in a row, newest first, did not sweep: ended with a status
// other than 0 or 1, or never ended and started more than `killed_after`
// seconds before `now` (a run that old is not running any more). Stops at
// the first that swept; a young run without an end is still running and
// neither counts nor stops the count.
int failed_in_a_row(const std::vector<RunRow>& newest_first, EpochSeconds now,
                    EpochSeconds killed_after);

struct HealthFacts {
  EpochSeconds now = 0;
  bool any_run = false;                      // a sweep was ever recorded
  std::optional<EpochSeconds> last_success;  // when the last sweep that swept ended
  int failed_in_a_row = 0;
  std::string last_error;  // of the latest failed run
  std::int64_t outbox_backlog = 0;
  std::int64_t attention = 0;  // recipients kept on hold for a person
  std::int64_t overdue = 0;    // past their deadline and still waiting
  std::string milter_socket;   // "" when not checked
  bool milter_socket_answers = false;
};

struct Threshold {
  std::int64_t warning = 0;
  std::int64_t critical = 0;
};

struct CheckThresholds {
  Threshold age{3600, 3 * 3600};  // seconds since the last sweep that swept
  Threshold failed{2, 4};         // runs in a row that did not sweep
  Threshold outbox{1, 50};        // DSNs not yet handed to the MTA
  Threshold attention{1, 20};     // recipients kept on hold for a person
  Threshold overdue{1, 100};      // recipients past their deadline, still waiting
};

enum class CheckState { ok = 0, warning = 1, critical = 2, unknown = 3 };

struct CheckResult {
  CheckState state = CheckState::unknown;
  std::string line;  // with perfdata, no newline
};

CheckResult evaluate_health(const HealthFacts& facts, const CheckThresholds& limits);

// `check --instance all`: each host judged alone, the worst state for all,
// the worst host first in the words ("2 host(s); mx2: ...; mx1: ..."), each
// perfdata label quoted after its host's name ('mx2 outbox'=3;1;50;0).
// No host yet: as evaluate_health on a store without runs.
using HostFacts = std::pair<std::string, HealthFacts>;
CheckResult evaluate_fleet_health(const std::vector<HostFacts>& hosts,
                                  const CheckThresholds& limits);
// For a check that could not gather its facts (no configuration, no database).
CheckResult unknown_health(const std::string& why);

// An hour past its deadline, a recipient still waiting is overdue: every
// sweep since should have expired it.
inline constexpr EpochSeconds kOverdueAfter = 3600;
// A run without an end that started longer ago than this was killed.
inline constexpr EpochSeconds kRunKilledAfter = 6 * 3600;

struct MetricsFacts {
  RunRow run;  // the run that just ended
  double duration_seconds = 0;
  std::optional<EpochSeconds> last_success;
  int failed_in_a_row = 0;
  RecordCounts counts;
};

// The textfile: every metric with HELP and TYPE, label values escaped.
std::string metrics_text(const MetricsFacts& facts);

}  // namespace etrn
