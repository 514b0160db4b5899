// outbox.hpp - DSNs that are sent exactly once, whatever kills the sweeper.
//
// 1. enqueue: take the next outbox ids, build each DSN (its Message-ID is
//    etrn-<kind>-<id>.<queue id>@<reporting mta>), then insert the batch's
//    rows with the DSNs' texts in one transaction. Nothing is
//    written outside the database: thousands of spool files created among
//    just deleted ones cost half the sweeper's CPU on ext4.
// 2. deliver: the parent creates a "sent log" per child,
//    <spool>/sent-<first outbox id>-<k>.log, takes flock(LOCK_EX) on it
//    and forks the child (a few children, each with its share of the
//    batch), which inherits the lock. Each child opens one DsnSubmitter
//    (one `sendmail -bs`), submits its DSNs and, right after the MTA
//    accepted one, appends its outbox id to its log (before the next
//    submission); at the end it fsyncs the log and exits, which releases
//    the lock. If the parent dies, the children still finish. The parent
//    waits for all, then finalizes every DSN its logs name (outbox sent_at,
//    text dropped, recipient states and events) in one transaction. The
//    logs are deleted at the end of the run.
// 3. recover (start of every run): lock every sent log left in the spool
//    (waiting up to kRecoveryLockWait for a child still running), finalize
//    the unsent rows they name without resubmitting, delete the logs, and
//    submit the other unsent rows again (the MTA never accepted them).
//    Rows of schema v3 and older have a spool file instead of a text, and
//    a <file>.sent marker once accepted; recovery reads both.
// Exactly once holds whatever kills the sweeper or a child, except in the
// instant between the MTA's acceptance and the log write. A power failure
// can lose log lines not yet fsynced: those DSNs are sent a second time by
// recovery: at least once, never lost.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/mta/mta.hpp"
#include "common/store/database.hpp"
#include "common/store/sweep_store.hpp"

namespace etrn {

inline constexpr std::chrono::seconds kRecoveryLockWait{60};
// A batch of DSNs is shared among this many submission children at most,
// each with at least kRowsPerSubmissionChild DSNs.
inline constexpr std::size_t kSubmissionChildren = 4;
inline constexpr std::size_t kRowsPerSubmissionChild = 16;

struct DsnRequest {
  std::int64_t message_id = 0;
  std::string queue_id;
  std::string sender;  // the DSN's recipient
  DsnKind kind = DsnKind::failed;
  std::vector<std::int64_t> recipient_ids;
  std::string reporting_mta;
};

// Builds the DSN text given its Message-ID.
using DsnBuilder = std::function<Result<std::string>(const std::string& dsn_message_id)>;

struct DsnJob {
  DsnRequest request;
  DsnBuilder build;
};

class Outbox {
 public:
  Outbox(Database& db, Mta& mta, std::string spool_directory);

  // Records a batch of DSNs (one commit), a result per job, in order. A job
  // whose builder fails gets that error and no row; the others go ahead.
  std::vector<Result<OutboxRow>> enqueue_all(const std::vector<DsnJob>& jobs, EpochSeconds now);
  Result<OutboxRow> enqueue(const DsnRequest& request, const DsnBuilder& build, EpochSeconds now);
  // Submits a batch (a few children, one submitter each) and finalizes what
  // the MTA accepted; a result per row. An error leaves the row for the next
  // run's recovery.
  std::vector<Status> deliver_all(const std::vector<OutboxRow>& rows, EpochSeconds now);
  // Finishes every row a previous run left unsent; returns how many.
  Result<int> recover(EpochSeconds now);

  // Deletes the sent logs of the DSNs finished so far (the run's end).
  void remove_finished_files();

 private:
  // The outbox ids the children's logs name, or an error if none could run.
  Result<std::unordered_set<std::int64_t>> submit_in_children(const std::vector<OutboxRow>& rows);
  Result<std::unordered_set<std::int64_t>> read_sent_logs();
  Status load_legacy_text(OutboxRow& row);
  void finalize_all(const std::vector<const OutboxRow*>& rows, EpochSeconds now);
  void remove_orphans();

  Database& db_;
  Mta& mta_;
  std::string spool_directory_;
  std::vector<std::string> finished_;  // files to delete once their rows are final
};

}  // namespace etrn
