// run.hpp - a sweep run as the runs table keeps it, and the counts of
// records that monitoring reads beside it (data only).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "common/util/epoch_seconds.hpp"

namespace etrn {

// What a run did, as the executor counts it.
struct RunCounts {
  int departed = 0;
  int adopted = 0;
  int warned = 0;
  int expired = 0;
  int dsns_sent = 0;
  int removed = 0;
  int split = 0;
  int errors = 0;         // messages left for the next run
  int need_a_person = 0;  // messages kept on hold for a person
};

struct RunRow {
  std::int64_t id = 0;
  EpochSeconds started_at = 0;
  EpochSeconds acted_as = 0;  // --now, or started_at
  std::optional<EpochSeconds> finished_at;
  std::optional<int> exit_status;  // none: the run has not ended (running or killed)
  RunCounts counts;
  std::string error;  // why it failed, when it did
};

// The state of the records, for monitoring.
struct RecordCounts {
  // Recipients by (domain, state), every state.
  std::map<std::pair<std::string, std::string>, std::int64_t> recipients;
  std::int64_t outbox_backlog = 0;  // DSNs written but not yet handed to the MTA
  // Recipients still queued or warned whose deadline passed before `overdue_before`.
  std::int64_t overdue = 0;
  std::map<std::string, std::int64_t> dsns_sent;  // by kind (delayed, failed), all time
};

}  // namespace etrn
