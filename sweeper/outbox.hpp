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
//    A child also logs "refused <id> <why>" for a DSN the MTA refused for
//    good (a 5xx after its content, a permanent exit status) and "failed
//    <id> <why>" for one it did not take this time; recovery reads only
//    the accepted ids.
// 3. refusals: a refused DSN is cut down to the original's headers
//    (headers_only_dsn) and submitted once more in a second round; refused
//    again, or not accepted for the kMaxDsnAttempts-th time, it is given
//    up (RefusalHandler: attention and the postmaster for a failure DSN).
//    A DSN not accepted for another reason stays in the outbox with its
//    attempts counted and a next attempt kDsnRetryFirst later, doubling
//    up to kDsnRetryLongest: it is in flight, and the planner plans
//    nothing else for its recipients meanwhile.
// 4. recover (start of every run): lock every sent log left in the spool
//    (waiting up to kRecoveryLockWait for a child still running), finalize
//    the unsent rows they name without resubmitting, delete the logs. Then
//    each other unsent row that is due: is its message still queued (the
//    same arrival time, where no delivery is under way)? Gone: the DSN is
//    not sent (event dsn_dropped; the sender of mail that was delivered
//    must not hear it failed). Queued: it is submitted again (the MTA never
//    accepted it), as in 2 and 3. A row that cannot be judged now waits
//    for the next run; nothing here stops the run. Rows of schema v3 and
//    older have a spool file instead of a text, and a <file>.sent marker
//    once accepted; recovery reads both.
// Exactly once holds whatever kills the sweeper or a child, except a
// SIGKILL of a child between the MTA's acceptance and the log write: a
// child holds back SIGTERM, SIGINT and SIGHUP until the DSN in hand is
// logged, then logs the rest of its share as not submitted. A power failure
// can lose log lines not yet fsynced: those DSNs are sent a second time by
// recovery: at least once, never lost.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/mta/mta.hpp"
#include "common/store/database.hpp"
#include "common/store/sweep_store.hpp"

namespace etrn {

inline constexpr std::chrono::seconds kRecoveryLockWait{60};
// Temporary failures: the first retry 15 minutes later, doubling up to 4
// hours; the sixth failure counts as a refusal.
inline constexpr EpochSeconds kDsnRetryFirst = 15 * 60;
inline constexpr EpochSeconds kDsnRetryLongest = 4 * 3600;
inline constexpr int kMaxDsnAttempts = 6;
// When a DSN whose `failed_attempts`-th submission was not accepted is tried next.
EpochSeconds retry_delay(int failed_attempts);
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

// What became of a DSN handed to deliver_all.
enum class DsnFate {
  sent,        // accepted by the MTA and recorded
  retrying,    // not accepted this time: it stays in the outbox (in flight)
  given_up,    // undeliverable: the RefusalHandler took it
  unrecorded,  // handling it failed in the database: the next run's recovery finishes it
};

struct DsnDelivery {
  DsnFate fate = DsnFate::retrying;
  std::string detail;  // why, when it was not sent
};

// What recovery did.
struct Recovery {
  int finished = 0;                   // sent before a crash, or now
  int dropped = 0;                    // their message left the queue: not sent
  std::vector<std::string> problems;  // rows left for the next run, with why
};

class RefusalHandler;

class Outbox {
 public:
  Outbox(Database& db, Mta& mta, std::string spool_directory, RefusalHandler& refusals);

  // Records a batch of DSNs (one commit), a result per job, in order. A job
  // whose builder fails gets that error and no row; the others go ahead.
  std::vector<Result<OutboxRow>> enqueue_all(const std::vector<DsnJob>& jobs, EpochSeconds now);
  Result<OutboxRow> enqueue(const DsnRequest& request, const DsnBuilder& build, EpochSeconds now);
  // Submits a batch (a few children, one submitter each), finalizes what
  // the MTA accepted, and handles the rest (3. above); a result per row.
  std::vector<DsnDelivery> deliver_all(std::vector<OutboxRow> rows, EpochSeconds now);
  // Finishes the rows a previous run left unsent, as far as it can now.
  Recovery recover(EpochSeconds now);

  // Deletes the sent logs of the DSNs finished so far (the run's end).
  void remove_finished_files();

 private:
  struct SubmissionLog;
  // What the children's logs say of each row, or an error if none could run.
  Result<SubmissionLog> submit_in_children(const std::vector<const OutboxRow*>& rows, int round);
  // One round over rows[pending]: submit, finalize the accepted, reschedule
  // or give up the others; returns those to try again as headers only.
  std::vector<std::size_t> deliver_round(std::vector<OutboxRow>& rows,
                                         const std::vector<std::size_t>& pending,
                                         std::vector<DsnDelivery>& fates, int round,
                                         EpochSeconds now);
  // A row the MTA did not take: retried later, cut down, or given up.
  DsnDelivery handle_unaccepted(OutboxRow& row, const std::string& why, bool refused,
                                EpochSeconds now);
  void reschedule(const OutboxRow& row, const std::string& why, EpochSeconds now);
  Result<SubmissionLog> read_sent_logs();
  Status load_legacy_text(OutboxRow& row);
  // Is the message of an unsent row still queued, so that its DSN may go?
  Status still_queued(const OutboxRow& row);
  void drop(const OutboxRow& row, const std::string& why, EpochSeconds now);
  // Event dsn_resubmitted for each recipient of a DSN recovery submits
  // again, saying whether a copy may have gone out already.
  void note_resubmission(const OutboxRow& row, bool logged_not_taken, EpochSeconds now);
  void finalize_all(const std::vector<const OutboxRow*>& rows, EpochSeconds now);
  void remove_orphans();

  Database& db_;
  Mta& mta_;
  std::string spool_directory_;
  RefusalHandler& refusals_;
  std::vector<std::string> finished_;  // files to delete once their rows are final
};

}  // namespace etrn
