// outbox.hpp - DSNs that are sent exactly once, whatever kills the sweeper.
//
// 1. enqueue: in one transaction, take the next outbox id, build the DSN
//    (its Message-ID is etrn-<kind>-<id>.<queue id>@<reporting mta>),
//    write it to <spool>/<id>.eml, insert the outbox row; once every file
//    of the batch and the directory are fsynced, commit.
// 2. deliver: a child process opens one DsnSubmitter (one `sendmail -bs`)
//    for the batch; for each DSN it takes flock(LOCK_EX) on the spool file,
//    submits it and, once the MTA accepted it, renames it to <id>.eml.sent;
//    it fsyncs the directory and exits; the parent waits. If the parent
//    dies, the child still finishes. Then finalize every DSN whose .sent
//    marker is there: outbox sent_at, recipient states and events, in one
//    transaction; the spool files are deleted.
// 3. recover (start of every run): for each row not sent, lock the spool
//    file (waiting up to kRecoveryLockWait for a child still running);
//    with .sent present, finalize without resubmitting; otherwise submit
//    again (the MTA never accepted it).
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

  // The same for a batch, with one commit, one child and one submitter; a
  // result per job or row, in order. A job whose builder fails gets that
  // error and no row; the others go ahead.
  std::vector<Result<OutboxRow>> enqueue_all(const std::vector<DsnJob>& jobs, EpochSeconds now);
  std::vector<Status> deliver_all(const std::vector<OutboxRow>& rows, EpochSeconds now);
  // Finishes every row a previous run left unsent; returns how many.
  Result<int> recover(EpochSeconds now);

  const std::string& spool_directory() const { return spool_directory_; }

 private:
  Status submit_in_child(const std::vector<OutboxRow>& rows);
  Status recover_one(const OutboxRow& row, EpochSeconds now);
  void finalize(const OutboxRow& row, EpochSeconds now);

  Database& db_;
  Mta& mta_;
  std::string spool_directory_;
};

// Writes `text` to `path` and fsyncs the file and its directory.
Status write_durably(const std::string& path, const std::string& text);
// Writes `text` to `path`; no fsync.
Status write_file(const std::string& path, const std::string& text);
Status fsync_file(const std::string& path);
Status fsync_directory(const std::string& directory);

}  // namespace etrn
