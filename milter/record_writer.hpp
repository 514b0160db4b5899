// record_writer.hpp - the milter's one database writer: end of message
// hands its record over and answers at once; a thread of its own commits.
//
// The promise (README, "What is guaranteed"): a record is committed within
// commit_interval (default 100 ms) of end of message. A crash or power
// loss loses at most the records of that interval; the next sweep adopts
// those messages from the queue. SIGTERM commits everything before exit.
// The MTA's queue is the source of truth, so no reply waits for the disk.
//
// The protocol:
// - submit() (an end-of-message thread) appends the record to a bounded
//   queue in memory, under a mutex held for a few moves, and returns. It
//   refuses the record, for on_error to decide, when kCapacity records are
//   waiting, when the oldest waiting record is older than commit_interval
//   plus record_timeout (the database is locked, full, read-only or gone:
//   queueing more would only hold more in memory), or once stop() began.
// - The writer thread commits everything waiting in one transaction and
//   one fsync when the oldest waiting record is due (handed over
//   commit_interval ago, less what the last commit took, so that the
//   commit ends in time) or kBatchRecords are waiting, whichever comes
//   first. Logging "recorded ..." happens here, after the commit.
// - A failed commit puts its records back at the head of the queue and is
//   tried again (after commit_interval when the database was locked, after
//   a second otherwise, reopening the connection: the file may have been
//   fixed or replaced). No record is dropped while the milter runs; the
//   refusals above are what bounds memory.
// - Before and after each commit, and once a second when idle, the writer
//   checks that the database path still names the file it has open
//   (database_files.hpp). If not, it says so in the log, reopens the path
//   (creating the database anew if it is gone) and, when the change came
//   during a commit, writes that batch again into the new file: no record
//   is reported as recorded into a file that was already gone.
// - stop() refuses new records, commits what is waiting at once (trying a
//   failing database for up to record_timeout), logs every record it
//   could not write with its queue ID, and ends the thread.
//
// What depends on where the database lives (an SQLite file's identity
// checks and WAL checkpoint thread; nothing for a PostgreSQL server) is
// the DatabaseUpkeep chosen once from the target (database_upkeep.hpp).
// On an SQLite file the identity checks above apply; a PostgreSQL URI
// names no file, so its database is never "deleted or replaced".
//
// PostgreSQL down (at start, or going down while the milter runs): each
// attempt fails at once on a refused connection, or after connect_timeout
// (10 s unless the URI sets it) on a host that does not answer; the batch
// is retried as above, opening a new connection, and submit() refuses
// records past record_timeout meanwhile, without waiting for the writer.
// A stuck connect delays stop() too: stop() returns within record_timeout
// plus one attempt (one connect_timeout, or one statement) after it began.
//
// The writer and checkpoint threads run at nice kThreadNice: a commit of
// a thousand records takes a core for several milliseconds, and the
// threads answering the MTA must not wait behind it. Nothing is late for it: records wait in
// memory, and a writer that still falls behind makes submit() refuse as
// above (bench/README.md, benchmark 2, has the figures).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/store/database.hpp"
#include "common/store/records.hpp"
#include "common/util/result.hpp"
#include "milter/database_upkeep.hpp"

namespace etrn {

// The [milter] keys that pace the writer.
struct WriterTiming {
  std::chrono::milliseconds commit_interval{100};
  std::chrono::milliseconds record_timeout{5000};
};

// What submit() did with a record.
enum class Submission {
  queued,         // it will be committed within commit_interval
  queue_full,     // kCapacity records are waiting
  database_late,  // waiting records are past commit_interval + record_timeout
  stopping,       // stop() has begun
};
// Why a record was not queued, for the log ("" for queued).
std::string_view not_queued_because(Submission submission);

struct WriterCounts {
  std::uint64_t committed = 0;     // records committed
  std::uint64_t refused = 0;       // submit() answers other than queued
  std::uint64_t lost_at_stop = 0;  // records stop() could not write
};

class RecordWriter {
 public:
  using Clock = std::function<EpochSeconds()>;
  // Waiting records that start a commit before their interval is up.
  static constexpr std::size_t kBatchRecords = 1000;
  // Records held in memory at most (about 50 MB at 1 KB each).
  static constexpr std::size_t kCapacity = 50000;
  // The writer and checkpoint threads' nice value (the callbacks keep 0).
  static constexpr int kThreadNice = 10;

  // Starts the writer thread (and an SQLite file's checkpoint thread; create
  // it with the signals blocked that the threads should not take).
  // `database` is Database::open's target: an SQLite file or a PostgreSQL
  // URI. The database is opened by open_now() or by the first commit.
  RecordWriter(std::string database, WriterTiming timing, Clock clock = nullptr,
               std::size_t capacity = kCapacity);
  ~RecordWriter();  // stop()
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // Hands a record over; never waits for the database.
  Submission submit(MessageToRecord message);
  // Opens the database now (at start-up, to report a problem early);
  // waits for at most 3 s (a server that does not answer: an error, and
  // the writer goes on trying).
  Status open_now();
  // A reload's new commit_interval and record_timeout.
  void set_timing(WriterTiming timing);
  // Commits what is waiting, then ends the thread (see above). Idempotent.
  WriterCounts stop();
  WriterCounts counts() const;

  const std::string& database() const { return path_; }

 private:
  using SteadyClock = std::chrono::steady_clock;
  using TimePoint = SteadyClock::time_point;

  // Records in the order they were handed over; `records` is contiguous
  // because the store takes a span.
  struct Batch {
    std::vector<MessageToRecord> records;
    std::vector<TimePoint> handed_over;
    bool empty() const { return records.empty(); }
    std::size_t size() const { return records.size(); }
    void append(Batch&& later);
  };
  struct Attempt {
    Status status = ok_status();
    bool busy = false;  // is_busy() (locked; a lost connection): worth retrying soon
  };

  void writer_loop();
  void serve_open_request(std::unique_lock<std::mutex>& lock);
  void commit_waiting(std::unique_lock<std::mutex>& lock);
  void check_file_while_idle(std::unique_lock<std::mutex>& lock);
  void give_up_on_waiting(std::unique_lock<std::mutex>& lock);
  TimePoint commit_due() const;
  TimePoint next_wake() const;
  bool records_are_late(TimePoint now) const;

  Attempt write_batch(const Batch& batch);
  Status current_database();
  Status open_database();
  void close_database();
  void forget_replaced_database();
  void report_commit(const Batch& batch, const Attempt& attempt, TimePoint finished);

  const std::string path_;
  const std::string printable_path_;  // for the log: a URI without its password
  const Clock clock_;
  const std::size_t capacity_;

  mutable std::mutex mutex_;  // guards everything down to wake_
  WriterTiming timing_;
  Batch waiting_;
  std::size_t in_flight_ = 0;  // records being committed (out of waiting_)
  TimePoint in_flight_since_{};
  TimePoint retry_at_{};  // after a failed commit, not before this
  SteadyClock::duration last_commit_took_{};
  TimePoint next_file_check_{};
  bool stopping_ = false;
  TimePoint stop_deadline_{};
  bool open_wanted_ = false;
  std::optional<Status> open_result_;
  WriterCounts counts_;
  std::condition_variable wake_;    // the writer thread waits on this
  std::condition_variable opened_;  // open_now() waits on this

  // The writer thread's own (no lock).
  std::unique_ptr<Database> db_;
  const std::unique_ptr<DatabaseUpkeep> upkeep_;
  std::optional<TimePoint> failing_since_;
  std::string last_error_;
  TimePoint last_error_logged_{};

  std::thread writer_;
};

}  // namespace etrn
