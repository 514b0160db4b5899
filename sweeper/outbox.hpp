// outbox.hpp - DSNs that are sent exactly once, whatever kills the sweeper.
//
// 1. enqueue: in one transaction, take the next outbox id, build the DSN
//    (its Message-ID is etrn-<kind>-<id>.<queue id>@<reporting mta>),
//    write it to <spool>/<id>.eml (fsync file and directory), insert the
//    outbox row, commit.
// 2. deliver: a child process takes flock(LOCK_EX) on the spool file,
//    submits it (Mta::submit_dsn) and, once the MTA accepted it, renames it
//    to <id>.eml.sent (fsync directory) and exits; the parent waits. If
//    the parent dies, the child still finishes. Then finalize: outbox
//    sent_at, recipient states and events in one transaction; the spool
//    file is deleted.
// 3. recover (start of every run): for each row not sent, lock the spool
//    file (waiting up to kRecoveryLockWait for a child still running);
//    with .sent present, finalize without resubmitting; otherwise submit
//    again (the MTA never accepted it).
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

class Outbox {
 public:
  Outbox(Database& db, Mta& mta, std::string spool_directory);

  Result<OutboxRow> enqueue(const DsnRequest& request, const DsnBuilder& build, EpochSeconds now);
  // Submits and finalizes. An error leaves the row for the next run's recovery.
  Status deliver(const OutboxRow& row, EpochSeconds now);
  // Finishes every row a previous run left unsent; returns how many.
  Result<int> recover(EpochSeconds now);

  const std::string& spool_directory() const { return spool_directory_; }

 private:
  Status submit_in_child(const OutboxRow& row);
  Status recover_one(const OutboxRow& row, EpochSeconds now);
  void finalize(const OutboxRow& row, EpochSeconds now);

  Database& db_;
  Mta& mta_;
  std::string spool_directory_;
};

// Writes `text` to `path` and fsyncs the file and its directory.
Status write_durably(const std::string& path, const std::string& text);
Status fsync_directory(const std::string& directory);

}  // namespace etrn
