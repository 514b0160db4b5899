// record_writer.cpp - the writer thread's group commit, its retries and
// its checks that the database is still the one it opened (see the header).
#include "milter/record_writer.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <exception>
#include <iterator>
#include <utility>

#include "common/model/record_log_line.hpp"
#include "milter/message_collector.hpp"

namespace etrn {

namespace {

using namespace std::chrono_literals;

// Linux takes a thread ID where POSIX says process: this lowers only the
// calling thread. Failure only leaves it at the process's priority.
void lower_this_threads_priority() {
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), RecordWriter::kThreadNice);
}

// How long one commit waits for another connection's lock before it
// counts as failed (and is tried again): short, so that stop() and new
// timing take effect soon.
constexpr auto kBusyTimeout = 500ms;
// Pause after a failure that is not a lock (missing, read-only, full).
constexpr auto kRetryAfterFailure = 1s;
// How often an idle writer checks that its database is still there.
constexpr auto kFileCheckInterval = 1s;
// How long open_now() waits for the first connection (a PostgreSQL host
// that does not answer holds it for connect_timeout, 10 s by default).
constexpr auto kOpenWait = 3s;
// A failure that goes on is logged again at most this often.
constexpr auto kFailureLogInterval = 60s;

EpochSeconds system_now() {
  return static_cast<EpochSeconds>(std::time(nullptr));
}

double milliseconds_between(std::chrono::steady_clock::time_point from,
                            std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

}  // namespace

std::string_view not_queued_because(Submission submission) {
  switch (submission) {
    case Submission::queued:
      return "";
    case Submission::queue_full:
      return "the record queue is full";
    case Submission::database_late:
      return "the database has not taken records for longer than record_timeout";
    case Submission::stopping:
      return "the milter is stopping";
  }
  return "";
}

void RecordWriter::Batch::append(Batch&& later) {
  records.insert(records.end(), std::make_move_iterator(later.records.begin()),
                 std::make_move_iterator(later.records.end()));
  handed_over.insert(handed_over.end(), later.handed_over.begin(), later.handed_over.end());
  later.records.clear();
  later.handed_over.clear();
}

RecordWriter::RecordWriter(std::string database, WriterTiming timing, Clock clock,
                           std::size_t capacity)
    : path_(std::move(database)),
      printable_path_(database_for_messages(path_)),
      clock_(clock ? std::move(clock) : Clock(system_now)),
      capacity_(capacity),
      timing_(timing),
      upkeep_(DatabaseUpkeep::for_target(path_, kThreadNice)) {
  writer_ = std::thread([this] { writer_loop(); });
}

RecordWriter::~RecordWriter() {
  stop();
}

Submission RecordWriter::submit(MessageToRecord message) {
  const TimePoint now = SteadyClock::now();
  std::unique_lock lock(mutex_);
  Submission answer = Submission::queued;
  if (stopping_) {
    answer = Submission::stopping;
  } else if (waiting_.size() + in_flight_ >= capacity_) {
    answer = Submission::queue_full;
  } else if (records_are_late(now)) {
    answer = Submission::database_late;
  }
  if (answer != Submission::queued) {
    ++counts_.refused;
    return answer;
  }
  waiting_.records.push_back(std::move(message));
  waiting_.handed_over.push_back(now);
  // The writer sleeps until the oldest record is due: only a first record
  // or a full batch changes when that is.
  const bool wake = waiting_.size() == 1 || waiting_.size() == kBatchRecords;
  lock.unlock();
  if (wake) wake_.notify_one();
  return Submission::queued;
}

Status RecordWriter::open_now() {
  std::unique_lock lock(mutex_);
  open_wanted_ = true;
  open_result_.reset();
  wake_.notify_one();
  const bool answered =
      opened_.wait_for(lock, kOpenWait, [this] { return open_result_.has_value() || stopping_; });
  if (!answered)
    return make_error("database " + printable_path_ + ": no answer within " +
                      std::to_string(kOpenWait.count()) + " s (the writer goes on trying)");
  return open_result_ ? *open_result_ : make_error("the milter is stopping");
}

void RecordWriter::set_timing(WriterTiming timing) {
  {
    std::lock_guard lock(mutex_);
    timing_ = timing;
  }
  wake_.notify_one();
}

WriterCounts RecordWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      stopping_ = true;
      stop_deadline_ = SteadyClock::now() + timing_.record_timeout;
    }
  }
  wake_.notify_one();
  opened_.notify_all();
  if (writer_.joinable()) writer_.join();
  upkeep_->stop();
  return counts();
}

WriterCounts RecordWriter::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

// ---- the writer thread --------------------------------------------------

void RecordWriter::writer_loop() {
  lower_this_threads_priority();
  std::unique_lock lock(mutex_);
  for (;;) {
    if (open_wanted_) {
      serve_open_request(lock);
      continue;
    }
    const TimePoint now = SteadyClock::now();
    if (stopping_ && (waiting_.empty() || now >= stop_deadline_)) break;
    if (!waiting_.empty() && now >= commit_due()) {
      commit_waiting(lock);
    } else if (waiting_.empty() && now >= next_file_check_) {
      check_file_while_idle(lock);
    } else {
      wake_.wait_until(lock, next_wake());
    }
  }
  give_up_on_waiting(lock);
}

void RecordWriter::serve_open_request(std::unique_lock<std::mutex>& lock) {
  open_wanted_ = false;
  lock.unlock();
  const Status status = current_database();
  lock.lock();
  open_result_ = status;
  opened_.notify_all();
}

// When the oldest waiting record must be committed (the lock held, some waiting).
RecordWriter::TimePoint RecordWriter::commit_due() const {
  if (stopping_ || waiting_.size() >= kBatchRecords) return retry_at_;
  const TimePoint due = waiting_.handed_over.front() + timing_.commit_interval -
                        std::min<SteadyClock::duration>(last_commit_took_, timing_.commit_interval);
  return std::max(due, retry_at_);
}

RecordWriter::TimePoint RecordWriter::next_wake() const {
  TimePoint wake = waiting_.empty() ? next_file_check_ : commit_due();
  if (stopping_) wake = std::min(wake, stop_deadline_);
  return wake;
}

bool RecordWriter::records_are_late(TimePoint now) const {
  std::optional<TimePoint> oldest;
  if (in_flight_ > 0) {
    oldest = in_flight_since_;
  } else if (!waiting_.empty()) {
    oldest = waiting_.handed_over.front();
  }
  return oldest && now - *oldest > timing_.commit_interval + timing_.record_timeout;
}

// Commits everything waiting; on failure puts it back in front of what
// arrived meanwhile. Called and returns with the lock held.
void RecordWriter::commit_waiting(std::unique_lock<std::mutex>& lock) {
  Batch batch;
  std::swap(batch, waiting_);
  in_flight_ = batch.size();
  in_flight_since_ = batch.handed_over.front();
  const auto busy_retry = std::max<std::chrono::milliseconds>(timing_.commit_interval, 10ms);
  lock.unlock();
  const TimePoint started = SteadyClock::now();
  const Attempt attempt = write_batch(batch);
  const TimePoint finished = SteadyClock::now();
  report_commit(batch, attempt, finished);
  lock.lock();
  in_flight_ = 0;
  next_file_check_ = finished + kFileCheckInterval;
  if (attempt.status) {
    counts_.committed += batch.size();
    last_commit_took_ = finished - started;
    retry_at_ = {};
    return;
  }
  batch.append(std::move(waiting_));
  std::swap(batch, waiting_);
  retry_at_ = finished + (attempt.busy ? busy_retry : kRetryAfterFailure);
}

void RecordWriter::check_file_while_idle(std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  if (db_ && !upkeep_->unchanged()) {
    forget_replaced_database();
    if (Status reopened = open_database(); !reopened)
      spdlog::error("reopening the database failed (retried with the next record): {}",
                    reopened.error().message);
  }
  lock.lock();
  next_file_check_ = SteadyClock::now() + kFileCheckInterval;
}

// After stop(): what the database did not take in time is lost; say which.
void RecordWriter::give_up_on_waiting(std::unique_lock<std::mutex>& lock) {
  Batch left;
  std::swap(left, waiting_);
  counts_.lost_at_stop += left.size();
  lock.unlock();
  for (const MessageToRecord& r : left.records) {
    spdlog::error(
        "{}: NOT recorded: the database did not take it before the milter stopped (the next "
        "sweep adopts it from the queue)",
        r.message.queue_id);
  }
  close_database();
  lock.lock();
}

RecordWriter::Attempt RecordWriter::write_batch(const Batch& batch) {
  try {
    if (Status current = current_database(); !current) return {current, false};
    db_->set_busy_timeout(kBusyTimeout);
    insert_messages(*db_, batch.records, RecordSource::milter, clock_());
    if (!upkeep_->unchanged()) {
      // The file went during the commit: the batch is in no file anyone reads.
      forget_replaced_database();
      if (Status reopened = open_database(); !reopened) return {reopened, false};
      insert_messages(*db_, batch.records, RecordSource::milter, clock_());
    }
    return {};
  } catch (const DatabaseError& e) {
    if (!e.is_busy()) close_database();  // reopened next time: the file may be fixed or replaced
    return {make_error(e.what()), e.is_busy()};
  } catch (const std::exception& e) {
    close_database();
    return {make_error(std::string("database error: ") + e.what()), false};
  }
}

// The open connection, checked against the path; (re)opened when needed.
Status RecordWriter::current_database() {
  if (db_ && !upkeep_->unchanged()) forget_replaced_database();
  if (db_) return ok_status();
  return open_database();
}

Status RecordWriter::open_database() {
  auto opened =
      Database::open(path_, OpenMode::read_write_create, static_cast<int>(kBusyTimeout.count()));
  if (!opened) return make_error(opened.error().message);
  db_ = std::move(opened.value());
  upkeep_->opened(*db_);
  return ok_status();
}

// Closes the connection; one whose file is gone must leave the names alone.
void RecordWriter::close_database() {
  if (db_ && !upkeep_->unchanged()) {
    forget_replaced_database();
  } else {
    db_.reset();
  }
}

void RecordWriter::forget_replaced_database() {
  spdlog::error(
      "database {} was deleted or replaced while the milter had it open: reopening it "
      "(created anew if it is gone); what was recorded in the old file is not in the new "
      "one, and the next sweep adopts those messages from the queue",
      printable_path_);
  for (const std::string& name : upkeep_->forget(std::move(db_)))
    spdlog::warn("removed {}, left behind by the old database file", name);
}

// The log lines of one commit: each record, or the failure (once, again
// when it changes or a minute later), and the recovery.
void RecordWriter::report_commit(const Batch& batch, const Attempt& attempt, TimePoint finished) {
  if (attempt.status) {
    if (failing_since_) {
      spdlog::warn("the database takes records again, after {:.1f} s",
                   milliseconds_between(*failing_since_, finished) / 1000);
      failing_since_.reset();
      last_error_.clear();
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      LogLine line = record_log_line("recorded", batch.records[i]);
      line.field("commit_ms",
                 fmt::format("{:.1f}", milliseconds_between(batch.handed_over[i], finished)));
      spdlog::info("{}", line.str());
    }
    return;
  }
  const std::string& error = attempt.status.error().message;
  if (!failing_since_) failing_since_ = finished;
  if (error == last_error_ && finished - last_error_logged_ < kFailureLogInterval) return;
  spdlog::error("cannot record {} message(s) yet (retrying): {}", batch.size(), error);
  last_error_ = error;
  last_error_logged_ = finished;
}

}  // namespace etrn
