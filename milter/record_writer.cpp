// record_writer.cpp - leader/follower group commit and the checkpoint
// thread behind RecordWriter (see the header).
#include "milter/record_writer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <exception>
#include <utility>

namespace etrn {

namespace {

EpochSeconds system_now() {
  return static_cast<EpochSeconds>(std::time(nullptr));
}

// The time left until `deadline`, at least 1 ms (0 would mean "no busy
// handler": fail at once even when the lock is about to be released).
std::chrono::milliseconds time_left(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds(1));
}

Error timed_out(std::chrono::milliseconds timeout) {
  return make_error("the database did not answer within " + std::to_string(timeout.count()) +
                    " ms (the record may still be written later)");
}

}  // namespace

RecordWriter::RecordWriter(std::string database_path, Clock clock)
    : path_(std::move(database_path)), clock_(clock ? std::move(clock) : Clock(system_now)) {
  checkpointer_ = std::thread([this] { checkpoint_loop(); });
}

RecordWriter::~RecordWriter() {
  stop();
  {
    std::lock_guard lock(checkpoint_mutex_);
    checkpoint_stop_ = true;
  }
  checkpoint_wake_.notify_one();
  if (checkpointer_.joinable()) checkpointer_.join();
}

Status RecordWriter::record(MessageToRecord message, std::chrono::milliseconds timeout) {
  const Deadline deadline = std::chrono::steady_clock::now() + timeout;
  auto request = std::make_shared<Request>(std::move(message));
  std::unique_lock lock(mutex_);
  if (stopping_) return make_error("the milter is shutting down");
  queue_.push_back(request);
  return wait_for(request, lock, deadline, timeout);
}

// Leads a commit whenever none is running; otherwise sleeps until this
// request's commit has ended, it is this caller's turn to lead, or the
// deadline.
Status RecordWriter::wait_for(const RequestPtr& request, std::unique_lock<std::mutex>& lock,
                              Deadline deadline, std::chrono::milliseconds timeout) {
  while (!request->result) {
    if (!committing_) {
      lead_commit(lock, deadline);
      continue;
    }
    if (request->wake.wait_until(lock, deadline) == std::cv_status::timeout && !request->result) {
      // Not taken yet: drop it, so nothing is recorded that was answered as failed.
      std::erase(queue_, request);
      if (!committing_ && !queue_.empty()) queue_.front()->wake.notify_one();
      commit_done_.notify_all();  // stop() may be waiting for the queue to empty
      return timed_out(timeout);
    }
  }
  return *request->result;
}

// Takes everything queued, writes it without the lock, hands each member its
// result and wakes the oldest caller still waiting to lead the next commit.
// Returns with the lock held again.
void RecordWriter::lead_commit(std::unique_lock<std::mutex>& lock, Deadline deadline) {
  committing_ = true;
  std::vector<RequestPtr> batch;
  batch.swap(queue_);
  lock.unlock();
  const Status status = write_batch(batch, deadline);
  lock.lock();
  committing_ = false;
  for (const RequestPtr& r : batch) r->result = status;
  if (!queue_.empty()) batch.push_back(queue_.front());  // the next leader
  lock.unlock();
  // Woken without the lock held, so they need not wait for it; `batch`
  // keeps each request (and its condition variable) alive meanwhile.
  for (const RequestPtr& r : batch) r->wake.notify_one();
  commit_done_.notify_all();
  lock.lock();
}

void RecordWriter::stop() {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  // Callers still queued are waiting: one of them leads their commit.
  commit_done_.wait(lock, [this] { return !committing_ && queue_.empty(); });
}

Status RecordWriter::open_now() {
  std::unique_lock lock(mutex_);
  commit_done_.wait(lock, [this] { return !committing_; });
  committing_ = true;  // keeps leaders away from db_ while it opens
  lock.unlock();
  Status status = ensure_open(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  lock.lock();
  committing_ = false;
  if (!queue_.empty()) queue_.front()->wake.notify_one();
  commit_done_.notify_all();
  return status;
}

Status RecordWriter::ensure_open(Deadline deadline) {
  if (db_) return ok_status();
  auto opened = Database::open(path_, OpenMode::read_write_create,
                               static_cast<int>(time_left(deadline).count()));
  if (!opened) return make_error("cannot open database: " + opened.error().message);
  db_ = std::move(opened.value());
  // Replaces SQLite's automatic checkpoint, which would run in the leader.
  db_->on_wal_commit([this](int wal_pages) { on_wal_commit(wal_pages); });
  return ok_status();
}

Status RecordWriter::write_batch(std::vector<RequestPtr>& batch, Deadline deadline) {
  Status status = ok_status();
  try {
    status = ensure_open(deadline);
    if (status) {
      // A database locked by another process fails this batch in time.
      db_->set_busy_timeout(time_left(deadline));
      std::vector<MessageToRecord> messages;
      messages.reserve(batch.size());
      for (auto& r : batch) messages.push_back(std::move(r->message));
      auto written = record_messages(*db_, messages, RecordSource::milter, clock_());
      if (!written) {
        status = make_error(written.error().message);
        db_.reset();  // reopen on the next batch: the file may have been replaced or fixed
      }
    }
  } catch (const std::exception& e) {
    status = make_error(std::string("database error: ") + e.what());
    db_.reset();
  }
  if (!status)
    spdlog::error("recording {} message(s) failed: {}", batch.size(), status.error().message);
  return status;
}

// Called by the committing thread after each commit.
void RecordWriter::on_wal_commit(int wal_pages) {
  if (wal_pages < kCheckpointFrames) return;
  {
    std::lock_guard lock(checkpoint_mutex_);
    checkpoint_wanted_ = true;
  }
  checkpoint_wake_.notify_one();
}

// Passive checkpoints with a connection of its own: they copy what no
// reader still needs and never block the writer.
void RecordWriter::checkpoint_loop() {
  std::unique_ptr<Database> db;
  std::unique_lock lock(checkpoint_mutex_);
  for (;;) {
    checkpoint_wake_.wait(lock, [this] { return checkpoint_stop_ || checkpoint_wanted_; });
    if (checkpoint_stop_) return;
    checkpoint_wanted_ = false;
    lock.unlock();
    const Status done = checkpoint(db);
    if (!done) {
      spdlog::warn("WAL checkpoint of {} failed (retried as the WAL grows): {}", path_,
                   done.error().message);
      db.reset();
    }
    lock.lock();
  }
}

// Opens the checkpointer's connection on first use (or after a failure).
Status RecordWriter::checkpoint(std::unique_ptr<Database>& db) const {
  if (!db) {
    auto opened = Database::open(path_, OpenMode::read_write);
    if (!opened) return opened.error();
    db = std::move(opened.value());
  }
  return db->checkpoint();
}

}  // namespace etrn
