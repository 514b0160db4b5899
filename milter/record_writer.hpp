// record_writer.hpp - the milter's one database writer (group commit).
//
// libmilter calls end of message from many threads, but SQLite wants one
// writer. Callbacks hand their MessageToRecord to record(), which returns
// once the record is durable (committed, WAL fsync'ed), has failed, or
// `timeout` has passed.
//
// Group commit without a writer thread (leader/follower): the first caller
// that finds no commit in progress becomes the leader and, in its own
// thread, records everything queued so far (its record and those of the
// callers that arrived during the previous commit) with one
// record_messages() call: one transaction and one fsync for all of them.
// The others wait on their own condition variable; when a commit ends, its
// members are woken with the result and the oldest waiting caller leads the
// next one. This saves the two thread hand-offs per message a writer thread
// costs. The leader's SQLite busy timeout is what is left of its own
// `timeout`, so a database locked by another process fails the batch in
// time; a follower whose timeout passes returns an error at once (its record
// is dropped if not yet taken, otherwise it may still be written).
//
// WAL checkpoints run in a thread of their own (with its own connection),
// started when the WAL has grown past kCheckpointFrames, so that copying the
// WAL into the database and its fsync are not on any end-of-message path.
//
// If the database cannot be opened (missing directory, permissions,
// corruption) the requests of that batch fail and the next batch tries to
// open it again; after a failed write the connection is reopened too.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/store/database.hpp"
#include "common/store/records.hpp"
#include "common/util/result.hpp"

namespace etrn {

class RecordWriter {
 public:
  using Clock = std::function<EpochSeconds()>;
  // WAL size (frames = pages, 16 MiB) that starts a checkpoint. Four times
  // SQLite's default: the pages every commit touches (the ends of each
  // b-tree) are then copied once per checkpoint, not four times.
  static constexpr int kCheckpointFrames = 4000;

  // The database is opened by the first commit (or open_now()).
  explicit RecordWriter(std::string database_path, Clock clock = nullptr);
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // Records one message and waits for it to be durable (or to fail).
  Status record(MessageToRecord message, std::chrono::milliseconds timeout);
  // Records what is queued, then refuses later record() calls.
  void stop();
  // Opens the database now (at start-up, to log a problem early).
  Status open_now();

  const std::string& database_path() const { return path_; }

 private:
  using Deadline = std::chrono::steady_clock::time_point;
  struct Request {
    explicit Request(MessageToRecord m) : message(std::move(m)) {}
    MessageToRecord message;
    std::optional<Status> result;  // set when its commit has ended
    std::condition_variable wake;  // its caller waits on this
  };
  using RequestPtr = std::shared_ptr<Request>;

  Status wait_for(const RequestPtr& request, std::unique_lock<std::mutex>& lock, Deadline deadline,
                  std::chrono::milliseconds timeout);
  void lead_commit(std::unique_lock<std::mutex>& lock, Deadline deadline);
  Status write_batch(std::vector<RequestPtr>& batch, Deadline deadline);
  Status ensure_open(Deadline deadline);
  void on_wal_commit(int wal_pages);
  void checkpoint_loop();
  Status checkpoint(std::unique_ptr<Database>& db) const;

  const std::string path_;
  const Clock clock_;
  std::mutex mutex_;  // guards the queue and the flags below
  std::vector<RequestPtr> queue_;
  bool committing_ = false;  // a leader is writing (and owns db_)
  bool stopping_ = false;
  std::condition_variable commit_done_;  // for stop() and open_now()
  std::unique_ptr<Database> db_;         // used only by the leader of the moment
  // The checkpointer: woken by on_wal_commit, owns its own connection.
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  bool checkpoint_wanted_ = false;
  bool checkpoint_stop_ = false;
  std::thread checkpointer_;
};

}  // namespace etrn
