// record_writer_test.cpp - the milter's group commit against real SQLite
// files: records are durable when record() returns, concurrent callers
// share commits, failures and timeouts come back as errors in time and the
// writer recovers.
#include "milter/record_writer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "tests/unit/common/store/test_database.hpp"

namespace etrn {
namespace {

using namespace std::chrono_literals;
using testing::sample_message;
using RecordWriterTest = testing::TempDirTest;

// Counts rows with a connection of its own (what another process would see).
std::int64_t count(const std::string& path, const std::string& sql) {
  auto db = Database::open(path, OpenMode::read_write);
  if (!db) {
    ADD_FAILURE() << "open " << path << ": " << db.error().message;
    return -1;
  }
  Statement& s = (*db)->prepare(sql);
  const std::int64_t n = s.step() ? s.column_int(0) : -1;
  s.reset();
  return n;
}

// Another connection (as another process would) in a transaction that
// holds the write lock.
std::unique_ptr<Database> holding_the_write_lock(const std::string& path) {
  auto db = Database::open(path, OpenMode::read_write);
  if (!db) {
    ADD_FAILURE() << "open " << path << ": " << db.error().message;
    return nullptr;
  }
  (*db)->exec("BEGIN EXCLUSIVE");
  return std::move(*db);
}

TEST_F(RecordWriterTest, ARecordIsInTheDatabaseWhenRecordReturns) {
  RecordWriter writer(db_path(), [] { return EpochSeconds{5000}; });
  const Status got = writer.record(sample_message("4A1B", 1000, {"bob@customer.example"}), 5s);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(count(db_path(), "SELECT count(*) FROM etrn_audit WHERE queue_id = '4A1B'"), 1);
  EXPECT_EQ(count(db_path(), "SELECT state_changed_at FROM etrn_audit"), 5000)
      << "the writer's clock gives the recording time";
}

TEST_F(RecordWriterTest, ConcurrentCallersAreAllRecorded) {
  RecordWriter writer(db_path());
  ASSERT_TRUE(writer.open_now());
  constexpr int kThreads = 20, kPerThread = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "Q" + std::to_string(t) + "X" + std::to_string(i);
        if (!writer.record(sample_message(id, 1000, {"bob@customer.example"}), 10s)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(count(db_path(), "SELECT count(*) FROM messages"), kThreads * kPerThread);
}

TEST_F(RecordWriterTest, AMissingDirectoryFailsAndTheWriterRecoversWhenItAppears) {
  const std::string path = (dir_ / "later" / "etrn.db").string();
  RecordWriter writer(path);
  EXPECT_FALSE(writer.open_now());
  const Status first = writer.record(sample_message("AAA1", 1000, {"bob@customer.example"}), 5s);
  ASSERT_FALSE(first);
  EXPECT_NE(first.error().message.find("cannot open database"), std::string::npos)
      << "got: " << first.error().message;

  std::filesystem::create_directory(dir_ / "later");
  const Status second = writer.record(sample_message("BBB2", 1000, {"bob@customer.example"}), 5s);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(count(path, "SELECT count(*) FROM messages"), 1);
}

TEST_F(RecordWriterTest, AFileThatIsNotADatabaseIsAnError) {
  {
    std::ofstream(db_path()) << "this is not a database, just text that is long enough to matter\n";
  }
  RecordWriter writer(db_path());
  const Status got = writer.record(sample_message("CCC3", 1000, {"bob@customer.example"}), 5s);
  EXPECT_FALSE(got);
}

TEST_F(RecordWriterTest, ALockedDatabaseTimesOutInsteadOfHangingTheCaller) {
  RecordWriter writer(db_path());
  ASSERT_TRUE(writer.open_now());
  std::unique_ptr<Database> other = holding_the_write_lock(db_path());
  ASSERT_TRUE(other);

  const auto started = std::chrono::steady_clock::now();
  const Status got = writer.record(sample_message("DDD4", 1000, {"bob@customer.example"}), 200ms);
  const auto took = std::chrono::steady_clock::now() - started;
  other.reset();  // rolls back, releasing the lock

  EXPECT_FALSE(got);
  EXPECT_LT(took, 2s) << "the caller must not wait for SQLite's busy timeout";
}

// The leader waits for the lock (its busy timeout is what is left of its
// own timeout), the others queue behind it: every caller must still return
// in time, and the writer must work again once the lock is gone.
TEST_F(RecordWriterTest, CallersQueuedBehindALockedCommitAllReturnInTime) {
  RecordWriter writer(db_path());
  ASSERT_TRUE(writer.open_now());
  std::unique_ptr<Database> other = holding_the_write_lock(db_path());
  ASSERT_TRUE(other);

  constexpr int kCallers = 5;
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      const std::string id = "LOCK" + std::to_string(i);
      if (writer.record(sample_message(id, 1000, {"bob@customer.example"}), 300ms)) ++succeeded;
    });
  }
  for (auto& th : threads) th.join();
  const auto took = std::chrono::steady_clock::now() - started;
  other.reset();  // rolls back, releasing the lock

  EXPECT_EQ(succeeded.load(), 0) << "a record was reported written while the database was locked";
  EXPECT_LT(took, 2s) << "callers behind a locked commit must not wait past their timeout";
  const Status after = writer.record(sample_message("AFTER1", 1000, {"bob@customer.example"}), 5s);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(count(db_path(), "SELECT count(*) FROM messages WHERE queue_id LIKE 'LOCK%'"), 0)
      << "a caller was answered with a failure but its record was written";
  EXPECT_EQ(count(db_path(), "SELECT count(*) FROM messages WHERE queue_id = 'AFTER1'"), 1);
}

TEST_F(RecordWriterTest, StopWritesWhatIsQueuedAndRefusesLaterRecords) {
  RecordWriter writer(db_path());
  ASSERT_TRUE(writer.record(sample_message("EEE5", 1000, {"bob@customer.example"}), 5s));
  writer.stop();
  const Status later = writer.record(sample_message("FFF6", 1000, {"bob@customer.example"}), 5s);
  EXPECT_FALSE(later);
  EXPECT_EQ(count(db_path(), "SELECT count(*) FROM messages"), 1);
}

}  // namespace
}  // namespace etrn
