// record_writer.cpp - the writer thread behind RecordWriter (see the header).
#include "milter/record_writer.hpp"

#include <spdlog/spdlog.h>

#include <ctime>
#include <exception>
#include <utility>

namespace etrn {

namespace {

EpochSeconds system_now() {
  return static_cast<EpochSeconds>(std::time(nullptr));
}

}  // namespace

RecordWriter::RecordWriter(std::string database_path, Clock clock)
    : path_(std::move(database_path)), clock_(clock ? std::move(clock) : Clock(system_now)) {
  thread_ = std::thread([this] { run(); });
}

RecordWriter::~RecordWriter() {
  stop();
}

Status RecordWriter::record(MessageToRecord message, std::chrono::milliseconds timeout) {
  std::future<Status> result;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return make_error("the milter is shutting down");
    queue_.push_back(Request{std::move(message), {}});
    result = queue_.back().done.get_future();
  }
  wake_.notify_one();
  if (result.wait_for(timeout) != std::future_status::ready) {
    return make_error("the database did not answer within " + std::to_string(timeout.count()) +
                      " ms (the record may still be written later)");
  }
  return result.get();
}

void RecordWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

Status RecordWriter::open_now() {
  std::lock_guard lock(db_mutex_);
  return ensure_open();
}

void RecordWriter::run() {
  for (;;) {
    std::vector<Request> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is written
      while (!queue_.empty()) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    write_batch(batch);
  }
}

Status RecordWriter::ensure_open() {
  if (db_) return ok_status();
  auto opened = Database::open(path_, OpenMode::read_write_create);
  if (!opened) return make_error("cannot open database: " + opened.error().message);
  db_ = std::move(opened.value());
  return ok_status();
}

void RecordWriter::write_batch(std::vector<Request>& batch) {
  Status status = ok_status();
  try {
    std::lock_guard lock(db_mutex_);
    status = ensure_open();
    if (status) {
      std::vector<MessageToRecord> messages;
      messages.reserve(batch.size());
      for (auto& r : batch) messages.push_back(std::move(r.message));
      auto written = record_messages(*db_, messages, RecordSource::milter, clock_());
      if (!written) {
        status = make_error(written.error().message);
        db_.reset();  // reopen on the next batch: the file may have been replaced or fixed
      }
    }
  } catch (const std::exception& e) {
    status = make_error(std::string("database error: ") + e.what());
    std::lock_guard lock(db_mutex_);
    db_.reset();
  }
  if (!status)
    spdlog::error("recording {} message(s) failed: {}", batch.size(), status.error().message);
  for (auto& r : batch) r.done.set_value(status);
}

}  // namespace etrn
