// outbox.hpp - DSNs that are sent exactly once, whatever kills the sweeper.
//
// 1. enqueue: in one transaction, take the next outbox id, build the DSN
//    (its Message-ID is etrn-<kind>-<id>.<queue id>@<reporting mta>),
//    write it to <spool>/<id>.eml, insert the outbox row; once every file
//    of the batch and the directory are fsynced, commit.
// 2. deliver: child processes (a few, each with its share of the batch)
//    open one DsnSubmitter (one `sendmail -bs`) each; for each of its
//    DSNs a child takes flock(LOCK_EX) on the spool file,
//    submits it and, once the MTA accepted it, renames it to <id>.eml.sent;
//    it fsyncs the directory and exits; the parent waits for all. If the
//    parent dies, the children still finish. Then finalize every DSN whose .sent
//    marker is there: outbox sent_at, recipient states and events, in one
//    transaction. The spool files of finished DSNs are deleted at the end
//    of the run (remove_finished_files), not one by one: on ext4, creating
//    files among many just deleted is slow (__ext4_new_inode skips every
//    inode freed in the last minute), and it was half the sweeper's CPU.
// 3. recover (start of every run): for each row not sent, lock the spool
//    file (waiting up to kRecoveryLockWait for a child still running);
//    with .sent present, finalize without resubmitting; otherwise submit
//    again (the MTA never accepted it). Then every file in the spool that
//    no unsent row names is deleted.
// Exactly once holds whatever kills the sweeper or the child (the rename
// is done before the next DSN is submitted). A power failure can lose the
// renames not yet fsynced at the end of a batch; those DSNs are then sent
// a second time by recovery: at least once, never lost.
#pragma once

#include <chrono>
#include <functional>
#include <string>
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
  OutboxKind kind = OutboxKind::failed;
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

  Result<OutboxRow> enqueue(const DsnRequest& request, const DsnBuilder& build, EpochSeconds now);
  // Submits and finalizes. An error leaves the row for the next run's recovery.
  Status deliver(const OutboxRow& row, EpochSeconds now);

  // The same for a batch: one commit, a few children, one submitter each; a
  // result per job or row, in order. A job whose builder fails gets that
  // error and no row; the others go ahead.
  std::vector<Result<OutboxRow>> enqueue_all(const std::vector<DsnJob>& jobs, EpochSeconds now);
  std::vector<Status> deliver_all(const std::vector<OutboxRow>& rows, EpochSeconds now);
  // Finishes every row a previous run left unsent; returns how many.
  Result<int> recover(EpochSeconds now);

  // Deletes the spool files of the DSNs finished so far (the run's end).
  void remove_finished_files();

  const std::string& spool_directory() const { return spool_directory_; }

 private:
  Status submit_in_children(const std::vector<OutboxRow>& rows);
  Status recover_one(const OutboxRow& row, EpochSeconds now);
  void finalize(const OutboxRow& row, EpochSeconds now);
  void remove_orphans();

  Database& db_;
  Mta& mta_;
  std::string spool_directory_;
  std::vector<std::string> finished_;  // spool paths of finalized DSNs
};

// Writes `text` to `path` and fsyncs the file and its directory.
Status write_durably(const std::string& path, const std::string& text);
// Writes `text` to `path`; no fsync.
Status write_file(const std::string& path, const std::string& text);
Status fsync_file(const std::string& path);
Status fsync_directory(const std::string& directory);

}  // namespace etrn
