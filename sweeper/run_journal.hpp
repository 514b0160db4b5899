// run_journal.hpp - every sweep run in the runs table (runs.hpp), and the
// metrics file written after it (health.hpp has the format).
//
// The run's row is written with a connection of its own before the sweep
// begins, so that a run that fails, or is killed, is still seen by
// `check`. Finishing never hides the run's own outcome: a failure to write
// the end or the metrics file is logged, and the run's exit status stands.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/model/run.hpp"
#include "common/store/database.hpp"

namespace etrn {

class RunJournal {
 public:
  // Opens (creating) the database and starts the run; throws FatalError
  // (73) when the database cannot be opened, DatabaseError when it fails.
  // `instance`: the host the run is for (the runs row names it).
  RunJournal(const std::string& database, const std::string& instance, std::string metrics_file,
             EpochSeconds started_at, EpochSeconds acted_as);
  void finish(int exit_status, const RunCounts& counts, const std::string& error);

 private:
  void write_metrics(const RunRow& run, EpochSeconds now);

  std::unique_ptr<Database> db_;
  std::string metrics_file_;
  std::int64_t id_ = 0;
  RunRow run_;
  std::chrono::steady_clock::time_point began_;
};

}  // namespace etrn
