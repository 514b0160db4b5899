// database_upkeep.cpp - an SQLite file's upkeep (the identity checks and
// the checkpoint thread) and a PostgreSQL server's (none); see the header.
#include "milter/database_upkeep.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "common/store/postgres_database.hpp"
#include "milter/database_files.hpp"

namespace etrn {

namespace {

using namespace std::chrono_literals;

// The checkpointer's wait for a lock when it opens its connection.
constexpr auto kCheckpointBusyTimeout = 1000ms;

class ServerUpkeep final : public DatabaseUpkeep {
 public:
  void opened(Database& /*db*/) override {}
  bool unchanged() const override { return true; }
  std::vector<std::string> forget(std::unique_ptr<Database> /*db*/) override { return {}; }
  void stop() override {}
};

class SqliteFileUpkeep final : public DatabaseUpkeep {
 public:
  SqliteFileUpkeep(std::string path, int thread_nice)
      : path_(std::move(path)),
        checkpointer_([this, thread_nice] { checkpoint_loop(thread_nice); }) {}
  ~SqliteFileUpkeep() override { stop(); }

  void opened(Database& db) override {
    // Replaces SQLite's automatic checkpoint, which would run in the writer's thread.
    db.on_wal_commit([this](int wal_pages) { on_wal_commit(wal_pages); });
    files_ = DatabaseFiles::remember(path_);
    std::lock_guard lock(mutex_);
    checkpoint_file_ = identity_of(path_);
  }

  bool unchanged() const override { return files_.unchanged(); }

  std::vector<std::string> forget(std::unique_ptr<Database> db) override {
    {
      std::lock_guard lock(mutex_);
      checkpoint_file_.reset();
    }
    db->leave_files_at_close();
    db.reset();
    return files_.remove_orphaned_companions();
  }

  void stop() override {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    if (checkpointer_.joinable()) checkpointer_.join();
  }

 private:
  // Called by the writer thread after each commit, inside SQLite.
  void on_wal_commit(int wal_pages) {
    if (wal_pages < kCheckpointFrames) return;
    {
      std::lock_guard lock(mutex_);
      wanted_ = true;
    }
    wake_.notify_one();
  }

  // Passive checkpoints with a connection of its own, opened for each one
  // and only while the path names the file the writer has open (opening a
  // new database beside the old -wal file would mix the two).
  void checkpoint_loop(int thread_nice) {
    // Linux takes a thread ID where POSIX says process: this lowers only
    // this thread. Failure only leaves it at the process's priority.
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), thread_nice);
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stop_ || wanted_; });
      if (stop_) return;
      wanted_ = false;
      const std::optional<FileIdentity> expected = checkpoint_file_;
      lock.unlock();
      if (expected && identity_of(path_) == expected) checkpoint();
      lock.lock();
    }
  }

  void checkpoint() {
    auto db = Database::open(path_, OpenMode::read_write,
                             static_cast<int>(kCheckpointBusyTimeout.count()));
    const Status done = db ? (*db)->checkpoint() : Status(db.error());
    if (!done)
      spdlog::warn("WAL checkpoint of {} failed (retried as the WAL grows): {}", path_,
                   done.error().message);
  }

  const std::string path_;
  DatabaseFiles files_;  // the writer thread's own

  std::mutex mutex_;  // guards the three below
  std::condition_variable wake_;
  bool wanted_ = false;
  bool stop_ = false;
  std::optional<FileIdentity> checkpoint_file_;  // checkpoint only this file

  std::thread checkpointer_;  // last: it starts at construction
};

}  // namespace

std::unique_ptr<DatabaseUpkeep> DatabaseUpkeep::for_target(const std::string& target,
                                                           int thread_nice) {
  if (is_postgres_uri(target)) return std::make_unique<ServerUpkeep>();
  return std::make_unique<SqliteFileUpkeep>(target, thread_nice);
}

}  // namespace etrn
