// test_database.hpp - helpers for store tests: a database per test, and
// sample records.
//
// TempDirTest: an SQLite file in a fresh temporary directory per test
// (support/temp_dir.hpp), for what only SQLite has (files, WAL, pragmas).
// EngineTest: the same test on each engine (a value-parameterized fixture;
// ETRN_ON_BOTH_ENGINES instantiates it): SQLite as above, and PostgreSQL in
// a fresh schema in the private test cluster (support/postgres_cluster.hpp).
// A missing cluster skips, and fails under scripts/test (prerequisite.hpp).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <ostream>
#include <string>

#include "common/model/message.hpp"
#include "common/store/database.hpp"
#include "common/store/records.hpp"
#include "tests/unit/support/postgres_cluster.hpp"
#include "tests/unit/support/prerequisite.hpp"
#include "tests/unit/support/temp_dir.hpp"

namespace etrn::testing {

class TempDirTest : public TemporaryDirectoryTest {
 protected:
  void TearDown() override {
    if (!postgres_uri_.empty()) {
      if (HasFailure()) {
        std::cerr << "test store left in " << postgres_uri_ << "\n";
      } else if (PostgresCluster* cluster = PostgresCluster::get()) {
        cluster->drop_store(postgres_uri_);
      }
    }
    TemporaryDirectoryTest::TearDown();
  }

  std::string db_path() const { return (dir_ / "etrn.db").string(); }

  // What Database::open is given: the SQLite file, or the URI of the
  // test's own PostgreSQL schema (created on first use).
  std::string db_target() {
    if (engine_ == SqlEngine::sqlite) return db_path();
    if (postgres_uri_.empty()) postgres_uri_ = PostgresCluster::get()->create_store();
    return postgres_uri_;
  }

  std::unique_ptr<Database> open_db(OpenMode mode = OpenMode::read_write_create,
                                    int busy_timeout_ms = 5000) {
    const std::string target = db_target();
    auto db = Database::open(target, mode, busy_timeout_ms);
    if (!db) ADD_FAILURE() << "open " << target << ": " << db.error().message;
    return db ? std::move(db).value() : nullptr;
  }

  bool on_postgres() const { return engine_ == SqlEngine::postgresql; }

  SqlEngine engine_ = SqlEngine::sqlite;
  std::string postgres_uri_;
};

class EngineTest : public TempDirTest, public ::testing::WithParamInterface<SqlEngine> {
 protected:
  void SetUp() override {
    engine_ = GetParam();
    TempDirTest::SetUp();
    if (on_postgres()) {
      ETRN_REQUIRE_PREREQUISITE(PostgresCluster::get() != nullptr,
                                "a PostgreSQL test cluster: " + PostgresCluster::why());
    }
  }
};

inline std::string engine_name(const ::testing::TestParamInfo<SqlEngine>& info) {
  return info.param == SqlEngine::postgresql ? "postgresql" : "sqlite";
}

// Holds another connection's lock until destroyed, so that a write on a
// second connection waits and then fails as busy: on SQLite the write lock
// (BEGIN IMMEDIATE), on PostgreSQL a lock on the tables a record writes.
class HeldWriteLock {
 public:
  explicit HeldWriteLock(Database& db) : transaction_(db) {
    if (db.engine() == SqlEngine::postgresql)
      db.exec("LOCK TABLE messages, recipients, events IN EXCLUSIVE MODE");
  }

 private:
  Transaction transaction_;
};

// What a busy error's message says on `engine`.
inline std::string busy_words(SqlEngine engine) {
  return engine == SqlEngine::postgresql ? "lock timeout" : "locked";
}

inline MessageToRecord sample_message(std::string queue_id, EpochSeconds arrival,
                                      std::vector<std::string> addresses) {
  MessageToRecord item;
  item.message.queue_id = std::move(queue_id);
  item.message.arrival_time = arrival;
  item.message.envelope.sender = "alice@sender.example";
  item.message.priority = Priority::normal;
  item.message.size = 1234;
  item.message.message_id = "<1@sender.example>";
  for (std::string& address : addresses) {
    RecipientRecord r;
    r.domain = address.substr(address.find('@') + 1);
    r.address = std::move(address);
    item.message.recipients.push_back(r);
    item.deadlines.push_back(Deadlines{arrival + 4 * 3600, arrival + 48 * 3600});
  }
  return item;
}

inline std::int64_t count_rows(Database& db, const std::string& sql) {
  Statement& statement = db.prepare(sql);
  std::int64_t n = statement.step() ? statement.column_int(0) : -1;
  statement.reset();
  return n;
}

}  // namespace etrn::testing

namespace etrn {
// How GoogleTest (and so CTest's test names) shows an engine parameter.
inline void PrintTo(SqlEngine engine, std::ostream* out) {
  *out << (engine == SqlEngine::postgresql ? "postgresql" : "sqlite");
}
}  // namespace etrn

// Runs every TEST_P of `suite` (an EngineTest) on SQLite and on PostgreSQL.
#define ETRN_ON_BOTH_ENGINES(suite)                                                               \
  INSTANTIATE_TEST_SUITE_P(                                                                       \
      Engine, suite, ::testing::Values(::etrn::SqlEngine::sqlite, ::etrn::SqlEngine::postgresql), \
      ::etrn::testing::engine_name)
