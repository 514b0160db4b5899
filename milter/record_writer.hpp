// record_writer.hpp - the milter's one database writer (group commit).
//
// libmilter calls end of message from many threads, but SQLite wants one
// writer. Callbacks hand their MessageToRecord to record() and wait (at most
// `timeout`) for the answer; a single writer thread owns the Database,
// takes everything queued so far and records it with one record_messages()
// call, so one transaction and one fsync serve many messages. A record is
// durable when record() returns ok.
//
// If the database cannot be opened (missing directory, permissions,
// corruption) the requests of that batch fail and the next batch tries to
// open it again; after a failed write the connection is reopened too.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
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

  // Starts the writer thread; the database is opened on the first batch.
  explicit RecordWriter(std::string database_path, Clock clock = nullptr);
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // Records one message and waits for it to be durable (or to fail).
  Status record(MessageToRecord message, std::chrono::milliseconds timeout);
  // Records what is queued, then stops the thread. Later record() calls fail.
  void stop();
  // Opens the database now (at start-up, to log a problem early).
  Status open_now();

  const std::string& database_path() const { return path_; }

 private:
  struct Request {
    MessageToRecord message;
    std::promise<Status> done;
  };

  void run();
  void write_batch(std::vector<Request>& batch);
  Status ensure_open();

  const std::string path_;
  const Clock clock_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Request> queue_;
  bool stopping_ = false;
  std::mutex db_mutex_;  // guards db_ between the writer and open_now()
  std::unique_ptr<Database> db_;
  std::thread thread_;
};

}  // namespace etrn
