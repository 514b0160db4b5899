// runs.hpp - every sweep run (the `runs` table, schema version 8), and the
// counts that `check` and the metrics file read beside it.
//
// A run is written when it starts and completed when it ends, so a run
// that never ends (killed, the machine lost) stays without an end. Reads
// and writes throw DatabaseError (database.hpp, "Errors").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/model/run.hpp"
#include "common/store/database.hpp"

namespace etrn {

// Starts a run; returns its id. Commits at once (its own transaction), so
// that a run killed later is still seen.
std::int64_t begin_run(Database& db, EpochSeconds started_at, EpochSeconds acted_as);
void finish_run(Database& db, std::int64_t id, EpochSeconds finished_at, int exit_status,
                const RunCounts& counts, const std::string& error);

// The latest `limit` runs, newest first.
std::vector<RunRow> recent_runs(Database& db, int limit);
// The hosts that have run a sweep in this store, by name; '' only when no
// run names one (a store from before schema 11).
std::vector<std::string> run_instances(Database& db);
// The latest run that ended with `exit_status` 0 or 1 (it swept), if any.
std::optional<RunRow> last_successful_run(Database& db);

// The recipients by domain and state, the outbox backlog, the DSNs sent,
// and the recipients still waiting whose deadline passed before `overdue_before`.
RecordCounts record_counts(Database& db, EpochSeconds overdue_before);

}  // namespace etrn
