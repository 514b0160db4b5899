// run_journal.cpp - the runs table and the metrics file (see run_journal.hpp).
#include "sweeper/run_journal.hpp"

#include <spdlog/spdlog.h>

#include <ctime>
#include <exception>

#include "common/store/runs.hpp"
#include "common/util/posix_file.hpp"
#include "common/util/sysexits.hpp"
#include "sweeper/health.hpp"

namespace etrn {

namespace {

// Enough runs to see a day of failures at one sweep every 15 minutes.
constexpr int kRunsLookedAt = 200;

}  // namespace

RunJournal::RunJournal(const std::string& database, const std::string& instance,
                       std::string metrics_file, EpochSeconds started_at, EpochSeconds acted_as)
    : metrics_file_(std::move(metrics_file)), began_(std::chrono::steady_clock::now()) {
  auto db = Database::open(database, OpenMode::read_write_create);
  // The error names the database as messages may (never its password).
  if (!db) throw FatalError(ExitCode::cant_create, db.error().message);
  db_ = std::move(db).value();
  db_->work_for_instance(instance);
  id_ = begin_run(*db_, started_at, acted_as);
  run_.id = id_;
  run_.started_at = started_at;
  run_.acted_as = acted_as;
}

void RunJournal::finish(int exit_status, const RunCounts& counts, const std::string& error) {
  const EpochSeconds now = std::time(nullptr);
  run_.finished_at = now;
  run_.exit_status = exit_status;
  run_.counts = counts;
  run_.error = error;
  try {
    finish_run(*db_, id_, now, exit_status, counts, error);
    if (!metrics_file_.empty()) write_metrics(run_, now);
  } catch (const std::exception& e) {
    spdlog::warn("recording the end of this run failed: {}", e.what());
  }
}

void RunJournal::write_metrics(const RunRow& run, EpochSeconds now) {
  MetricsFacts facts;
  facts.run = run;
  facts.duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began_).count();
  if (auto last = last_successful_run(*db_)) facts.last_success = last->finished_at;
  facts.failed_in_a_row = failed_in_a_row(recent_runs(*db_, kRunsLookedAt), now, kRunKilledAfter);
  facts.counts = record_counts(*db_, now - kOverdueAfter);
  if (Status written = replace_file(metrics_file_, metrics_text(facts), 0644); !written)
    spdlog::warn("writing the metrics file failed: {}", written.error().message);
}

}  // namespace etrn
