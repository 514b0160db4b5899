// record_writer_test.cpp - the milter's writer thread against real SQLite
// files: submit() never waits, records are committed within the commit
// interval (or at once when a batch is full, or at stop), a locked or
// missing database holds records in memory until it takes them, records
// that wait too long or a full queue make submit() refuse, and a database
// deleted or replaced under the writer is noticed and reopened. Then the
// same writer on PostgreSQL: records reach the server, a server that is
// down at start or goes away is waited for (submit() refusing past
// record_timeout as for a locked file), and stop() stays bounded while
// the writer is stuck connecting.
#include "milter/record_writer.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/common/store/test_database.hpp"

namespace etrn {
namespace {

using namespace std::chrono_literals;
using testing::sample_message;
using RecordWriterTest = testing::TempDirTest;

constexpr WriterTiming kQuick{10ms, 5000ms};

MessageToRecord message(const std::string& queue_id) {
  return sample_message(queue_id, 1000, {"bob@customer.example"});
}

// Counts rows with a connection of its own (what another process would
// see); -1 when the database cannot be opened.
std::int64_t count(const std::string& path, const std::string& sql) {
  auto db = Database::open(path, OpenMode::read_write);
  if (!db) return -1;
  Statement& s = (*db)->prepare(sql);
  const std::int64_t n = s.step() ? s.column_int(0) : -1;
  s.reset();
  return n;
}

std::int64_t messages_in(const std::string& path) {
  return count(path, "SELECT count(*) FROM messages");
}

// Polls until `done` or the timeout; returns whether it came true.
template <typename Done>
bool eventually(Done done, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
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

// stop() on a database that takes nothing: it returns within `bound`,
// having committed nothing and counted `lost` records as lost.
void expect_stop_to_give_up(RecordWriter& writer, std::uint64_t lost,
                            std::chrono::milliseconds bound) {
  const auto started = std::chrono::steady_clock::now();
  const WriterCounts counts = writer.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, bound);
  EXPECT_EQ(counts.lost_at_stop, lost);
  EXPECT_EQ(counts.committed, 0u);
}

TEST_F(RecordWriterTest, ARecordIsCommittedWithinTheCommitInterval) {
  RecordWriter writer(db_path(), {200ms, 5000ms}, [] { return EpochSeconds{5000}; });
  ASSERT_TRUE(writer.open_now());
  const auto handed_over = std::chrono::steady_clock::now();
  ASSERT_EQ(writer.submit(message("4A1B")), Submission::queued);
  ASSERT_TRUE(eventually([&] { return messages_in(db_path()) == 1; }));
  const auto took = std::chrono::steady_clock::now() - handed_over;
  EXPECT_GT(took, 100ms) << "committed at once: the interval groups records";
  EXPECT_LT(took, 2s);
  EXPECT_EQ(count(db_path(), "SELECT state_changed_at FROM etrn_audit"), 5000)
      << "the writer's clock gives the recording time";
  // The row is visible to other connections a moment before the writer
  // thread counts it (the count follows the commit's log line).
  EXPECT_TRUE(eventually([&] { return writer.counts().committed == 1u; }));
}

TEST_F(RecordWriterTest, AFullBatchIsCommittedBeforeItsInterval) {
  RecordWriter writer(db_path(), {10000ms, 20000ms});
  ASSERT_TRUE(writer.open_now());
  for (std::size_t i = 0; i < RecordWriter::kBatchRecords; ++i)
    ASSERT_EQ(writer.submit(message("B" + std::to_string(i))), Submission::queued);
  EXPECT_TRUE(eventually([&] {
    return messages_in(db_path()) == static_cast<std::int64_t>(RecordWriter::kBatchRecords);
  }));
}

TEST_F(RecordWriterTest, ConcurrentSubmittersAreAllRecorded) {
  RecordWriter writer(db_path(), kQuick);
  ASSERT_TRUE(writer.open_now());
  constexpr int kThreads = 20, kPerThread = 10;
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "Q" + std::to_string(t) + "X" + std::to_string(i);
        if (writer.submit(message(id)) != Submission::queued) ++refused;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(refused.load(), 0);
  EXPECT_TRUE(eventually([&] { return messages_in(db_path()) == kThreads * kPerThread; }));
}

// How many of this process's threads run at `nice` (/proc/self/task/*/stat,
// field 19).
int threads_at_nice(int nice) {
  int n = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream after_name(stat.substr(stat.rfind(')') + 1));
    std::string field;
    for (int i = 3; i <= 19 && after_name >> field; ++i) {
    }
    if (field == std::to_string(nice)) ++n;
  }
  return n;
}

TEST_F(RecordWriterTest, TheWriterAndCheckpointThreadsRunBelowTheCallbacks) {
  ASSERT_EQ(threads_at_nice(RecordWriter::kThreadNice), 0);
  {
    RecordWriter writer(db_path(), kQuick);
    ASSERT_TRUE(writer.open_now());
    EXPECT_TRUE(eventually([] { return threads_at_nice(RecordWriter::kThreadNice) == 2; }));
    EXPECT_EQ(getpriority(PRIO_PROCESS, 0), 0);  // the calling thread is untouched
    EXPECT_EQ(writer.submit(message("NICE1")), Submission::queued);
    EXPECT_TRUE(eventually([&] { return messages_in(db_path()) == 1; }));
  }
  EXPECT_EQ(threads_at_nice(RecordWriter::kThreadNice), 0);
}

TEST_F(RecordWriterTest, SubmitDoesNotWaitForALockedDatabaseWhichGetsTheRecordsLater) {
  RecordWriter writer(db_path(), kQuick);
  ASSERT_TRUE(writer.open_now());
  std::unique_ptr<Database> other = holding_the_write_lock(db_path());
  ASSERT_TRUE(other);

  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i)
    ASSERT_EQ(writer.submit(message("L" + std::to_string(i))), Submission::queued);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 200ms) << "submit() waited for the lock";
  std::this_thread::sleep_for(700ms);  // longer than the writer's own busy timeout
  other.reset();                       // rolls back, releasing the lock
  EXPECT_TRUE(eventually([&] { return messages_in(db_path()) == 50; }));
}

TEST_F(RecordWriterTest, RecordsWaitingPastTheRecordTimeoutMakeSubmitRefuseUntilACommit) {
  RecordWriter writer(db_path(), {10ms, 300ms});
  ASSERT_TRUE(writer.open_now());
  std::unique_ptr<Database> other = holding_the_write_lock(db_path());
  ASSERT_TRUE(other);
  ASSERT_EQ(writer.submit(message("EARLY1")), Submission::queued);
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(writer.submit(message("LATE1")), Submission::database_late);
  other.reset();
  // The writer's own count, not the row: the row is visible at the COMMIT,
  // a moment before the writer has taken the batch off its books (under
  // ASan that moment was long enough for AFTER1 to be refused as late).
  ASSERT_TRUE(eventually([&] { return writer.counts().committed == 1; }));
  EXPECT_EQ(messages_in(db_path()), 1);
  EXPECT_EQ(writer.submit(message("AFTER1")), Submission::queued)
      << "once the database takes records again, new ones are queued";
  EXPECT_TRUE(eventually([&] { return messages_in(db_path()) == 2; }));
  EXPECT_EQ(count(db_path(), "SELECT count(*) FROM messages WHERE queue_id = 'LATE1'"), 0);
  EXPECT_EQ(writer.counts().refused, 1u);
}

TEST_F(RecordWriterTest, AFullQueueRefusesMoreRecords) {
  RecordWriter writer((dir_ / "missing" / "etrn.db").string(), kQuick, nullptr, 2);
  EXPECT_EQ(writer.submit(message("F1")), Submission::queued);
  EXPECT_EQ(writer.submit(message("F2")), Submission::queued);
  EXPECT_EQ(writer.submit(message("F3")), Submission::queue_full);
  EXPECT_EQ(writer.counts().refused, 1u);
}

TEST_F(RecordWriterTest, AMissingDirectoryHoldsRecordsUntilItAppears) {
  const std::string path = (dir_ / "later" / "etrn.db").string();
  RecordWriter writer(path, kQuick);
  const Status opened = writer.open_now();
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("does not exist"), std::string::npos)
      << "got: " << opened.error().message;
  ASSERT_EQ(writer.submit(message("AAA1")), Submission::queued);
  std::this_thread::sleep_for(200ms);
  std::filesystem::create_directory(dir_ / "later");
  EXPECT_TRUE(eventually([&] { return messages_in(path) == 1; }));
}

TEST_F(RecordWriterTest, AFileThatIsNotADatabaseIsAnError) {
  {
    std::ofstream(db_path()) << "this is not a database, just text that is long enough to matter\n";
  }
  RecordWriter writer(db_path(), kQuick);
  EXPECT_FALSE(writer.open_now());
}

TEST_F(RecordWriterTest, StopCommitsWhatIsQueuedAtOnceAndRefusesLaterRecords) {
  RecordWriter writer(db_path(), {10000ms, 5000ms});
  ASSERT_TRUE(writer.open_now());
  for (const char* id : {"EEE5", "EEE6", "EEE7"})
    ASSERT_EQ(writer.submit(message(id)), Submission::queued);
  EXPECT_EQ(messages_in(db_path()), 0) << "committed before its interval";
  const auto started = std::chrono::steady_clock::now();
  const WriterCounts counts = writer.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(counts.committed, 3u);
  EXPECT_EQ(messages_in(db_path()), 3);
  EXPECT_EQ(writer.submit(message("FFF6")), Submission::stopping);
}

TEST_F(RecordWriterTest, StopGivesUpOnADatabaseThatStaysLockedAndCountsTheLoss) {
  RecordWriter writer(db_path(), {10ms, 300ms});
  ASSERT_TRUE(writer.open_now());
  std::unique_ptr<Database> other = holding_the_write_lock(db_path());
  ASSERT_TRUE(other);
  ASSERT_EQ(writer.submit(message("LOST1")), Submission::queued);
  ASSERT_EQ(writer.submit(message("LOST2")), Submission::queued);
  expect_stop_to_give_up(writer, 2, 3000ms);
}

TEST_F(RecordWriterTest, ADeletedDatabaseIsRecreatedAndTheNextRecordsGoIntoIt) {
  RecordWriter writer(db_path(), kQuick);
  ASSERT_TRUE(writer.open_now());
  ASSERT_EQ(writer.submit(message("OLD1")), Submission::queued);
  ASSERT_TRUE(eventually([&] { return messages_in(db_path()) == 1; }));
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db_path() + suffix);

  ASSERT_EQ(writer.submit(message("NEW1")), Submission::queued);
  ASSERT_TRUE(eventually([&] { return messages_in(db_path()) == 1; }));
  EXPECT_EQ(count(db_path(), "SELECT count(*) FROM messages WHERE queue_id = 'NEW1'"), 1);
}

// Only the main file deleted: its -wal and -shm, left at the path, would
// be taken for the journal of a new database there. The idle writer
// notices within a second, removes them and creates the database anew, so
// that another connection (the sweeper) can use the path again.
TEST_F(RecordWriterTest, ADeletedMainFileIsNoticedWhileIdleAndItsLeftoversRemoved) {
  RecordWriter writer(db_path(), kQuick);
  ASSERT_TRUE(writer.open_now());
  ASSERT_EQ(writer.submit(message("OLD1")), Submission::queued);
  ASSERT_TRUE(eventually([&] { return messages_in(db_path()) == 1; }));
  const auto old_wal = std::filesystem::status(db_path() + "-wal");
  ASSERT_TRUE(std::filesystem::exists(old_wal));
  std::filesystem::remove(db_path());

  EXPECT_TRUE(eventually([&] { return messages_in(db_path()) == 0; }, 5000ms))
      << "the path must hold a working (new, empty) database again";
  ASSERT_EQ(writer.submit(message("NEW1")), Submission::queued);
  EXPECT_TRUE(eventually([&] {
    return count(db_path(), "SELECT count(*) FROM messages WHERE queue_id = 'NEW1'") == 1;
  }));
}

// Nothing else opens the path before the writer has noticed: a connection
// opened there in between would take the old -wal file for the new
// database's (SQLite's own hazard of replacing a database in use).
TEST_F(RecordWriterTest, AReplacedDatabaseIsReopened) {
  RecordWriter writer(db_path(), kQuick);
  ASSERT_TRUE(writer.open_now());
  ASSERT_EQ(writer.submit(message("OLD1")), Submission::queued);
  ASSERT_TRUE(eventually([&] { return messages_in(db_path()) == 1; }));
  const std::string other = (dir_ / "other.db").string();
  {
    auto db = Database::open(other, OpenMode::read_write_create);
    ASSERT_TRUE(db);
  }
  std::filesystem::rename(other, db_path());
  std::this_thread::sleep_for(1500ms);  // the idle writer checks once a second

  ASSERT_EQ(writer.submit(message("NEW1")), Submission::queued);
  EXPECT_TRUE(eventually([&] {
    return count(db_path(), "SELECT count(*) FROM messages WHERE queue_id = 'NEW1'") == 1;
  }));
  EXPECT_EQ(count(db_path(), "SELECT count(*) FROM messages WHERE queue_id = 'OLD1'"), 0);
}

// ---- on PostgreSQL ----------------------------------------------------------

// The writer's server is the test cluster, reached through a symbolic link
// to its socket directory: removing the link (and ending the writer's
// session) is a server gone away, putting it back a server come back,
// without stopping the cluster that other tests share.
class RecordWriterOnPostgres : public testing::TempDirTest {
 protected:
  void SetUp() override {
    engine_ = SqlEngine::postgresql;
    TempDirTest::SetUp();
    link_ = dir_ / "pg";
    ETRN_REQUIRE_PREREQUISITE(testing::PostgresCluster::get() != nullptr,
                              "a PostgreSQL test cluster: " + testing::PostgresCluster::why());
    const std::string cluster = testing::PostgresCluster::get()->directory();
    const std::string store = db_target();  // the cluster's own socket: for checks
    const std::string host = "host=" + cluster;
    writer_uri_ = store;
    writer_uri_.replace(writer_uri_.find(host), host.size(), "host=" + link_.string());
    // A password in the URI (the trusted socket ignores it) that no log
    // line may show.
    writer_uri_ += "&application_name=" + application_name_ + "&password=s3cret";
  }

  void server_comes_back() {
    std::filesystem::create_directory_symlink(testing::PostgresCluster::get()->directory(), link_);
  }
  // New connections fail at once; the writer's open one is ended.
  void server_goes_away() {
    std::filesystem::remove(link_);
    auto admin = open_db();
    ASSERT_TRUE(admin);
    admin->exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
        application_name_ + "'");
  }
  std::int64_t rows(const std::string& sql) { return count(db_target(), sql); }

  std::filesystem::path link_;
  const std::string application_name_ = "etrn_writer_test_" + std::to_string(getpid());
  std::string writer_uri_;
};

TEST_F(RecordWriterOnPostgres, RecordsReachTheServerWithoutAFileCheckpointThread) {
  server_comes_back();
  RecordWriter writer(writer_uri_, kQuick, [] { return EpochSeconds{5000}; });
  ASSERT_TRUE(writer.open_now());
  EXPECT_TRUE(eventually([] { return threads_at_nice(RecordWriter::kThreadNice) == 1; }))
      << "want the writer thread alone: the server checkpoints its own log";
  for (const char* id : {"PG1", "PG2", "PG3"})
    ASSERT_EQ(writer.submit(message(id)), Submission::queued);
  ASSERT_TRUE(eventually([&] { return writer.counts().committed == 3u; }));
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_audit WHERE state_changed_at = 5000"), 3);
}

TEST_F(RecordWriterOnPostgres, AServerDownAtStartGetsTheRecordsOnceItIsThere) {
  RecordWriter writer(writer_uri_, kQuick);
  const auto started = std::chrono::steady_clock::now();
  const Status opened = writer.open_now();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s) << "a refused connection fails at once";
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().message.find("s3cret"), std::string::npos)
      << "the password is in the error: " << opened.error().message;
  ASSERT_EQ(writer.submit(message("EARLY1")), Submission::queued);
  std::this_thread::sleep_for(300ms);
  server_comes_back();
  EXPECT_TRUE(eventually([&] { return writer.counts().committed == 1u; }));
  EXPECT_EQ(rows("SELECT count(*) FROM messages WHERE queue_id = 'EARLY1'"), 1);
}

TEST_F(RecordWriterOnPostgres, AServerThatGoesAwayMakesSubmitRefuseLateRecordsAndThenComesBack) {
  server_comes_back();
  RecordWriter writer(writer_uri_, {10ms, 300ms});
  ASSERT_TRUE(writer.open_now());
  ASSERT_EQ(writer.submit(message("BEFORE1")), Submission::queued);
  ASSERT_TRUE(eventually([&] { return writer.counts().committed == 1u; }));

  server_goes_away();
  const auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(writer.submit(message("DURING1")), Submission::queued);
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(writer.submit(message("LATE1")), Submission::database_late);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s) << "submit() waited for the server";
  EXPECT_EQ(writer.counts().refused, 1u);

  server_comes_back();
  ASSERT_TRUE(eventually([&] { return writer.counts().committed == 2u; }));
  EXPECT_EQ(writer.submit(message("AFTER1")), Submission::queued)
      << "once the server takes records again, new ones are queued";
  EXPECT_TRUE(eventually([&] { return writer.counts().committed == 3u; }));
  EXPECT_EQ(
      rows("SELECT count(*) FROM messages WHERE queue_id IN ('BEFORE1', 'DURING1', 'AFTER1')"), 3);
  EXPECT_EQ(rows("SELECT count(*) FROM messages WHERE queue_id = 'LATE1'"), 0);
}

TEST_F(RecordWriterOnPostgres, StopGivesUpOnAServerThatStaysDownAndCountsTheLoss) {
  RecordWriter writer(writer_uri_, {10ms, 300ms});
  ASSERT_EQ(writer.submit(message("LOST1")), Submission::queued);
  ASSERT_EQ(writer.submit(message("LOST2")), Submission::queued);
  expect_stop_to_give_up(writer, 2, 3000ms);
}

// A TCP listener that never answers: the kernel completes the handshake,
// and libpq then waits for the server's reply until connect_timeout.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        listen(fd_, 16) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot listen on the loopback";
    }
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string silent_server_uri(const SilentListener& silent, int connect_timeout) {
  return "postgresql://etrn:s3cret@127.0.0.1:" + std::to_string(silent.port()) +
         "/etrn?connect_timeout=" + std::to_string(connect_timeout);
}

TEST_F(RecordWriterOnPostgres, OpenNowGivesUpOnAServerThatDoesNotAnswer) {
  SilentListener silent;
  RecordWriter writer(silent_server_uri(silent, 6), kQuick);
  const auto started = std::chrono::steady_clock::now();
  const Status opened = writer.open_now();
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(opened);
  EXPECT_GT(took, 2500ms);
  EXPECT_LT(took, 5s) << "open_now() waited for connect_timeout (6 s)";
  EXPECT_NE(opened.error().message.find("no answer"), std::string::npos) << opened.error().message;
  EXPECT_EQ(opened.error().message.find("s3cret"), std::string::npos) << opened.error().message;
}

TEST_F(RecordWriterOnPostgres, StopIsBoundedWhileTheWriterIsStuckConnecting) {
  SilentListener silent;
  const std::string uri = silent_server_uri(silent, 2);
  RecordWriter writer(uri, {10ms, 300ms});
  ASSERT_EQ(writer.submit(message("STUCK1")), Submission::queued);
  std::this_thread::sleep_for(100ms);  // the writer is connecting now
  const auto submitted = std::chrono::steady_clock::now();
  EXPECT_EQ(writer.submit(message("STUCK2")), Submission::queued);
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(writer.submit(message("STUCK3")), Submission::database_late)
      << "record_timeout holds while the writer waits for the server";
  EXPECT_LT(std::chrono::steady_clock::now() - submitted, 1s);
  // record_timeout + one connect_timeout, with room for a loaded machine.
  expect_stop_to_give_up(writer, 2, 2300ms + 1500ms);
}

}  // namespace
}  // namespace etrn
