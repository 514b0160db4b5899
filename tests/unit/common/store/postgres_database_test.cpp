// postgres_database_test.cpp - what only the PostgreSQL engine does, on a
// real server (the private test cluster): its busy errors (a lock held past
// the lock timeout, a lost serialization race), a connection lost and
// found again, a server that is not there, a COMMIT that cannot commit,
// SQLite's housekeeping as no-ops; and, without a server, ?N as $N, URIs
// without their passwords, and which SQLSTATEs are busy.
#include "common/store/postgres_database.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "tests/unit/common/store/test_database.hpp"

namespace etrn {
namespace {

using testing::count_rows;

class PostgresDatabase : public testing::EngineTest {
 protected:
  // The error `work` throws; a failure when it throws none.
  template <typename Work>
  DatabaseError error_of(Work&& work) {
    try {
      work();
    } catch (const DatabaseError& e) {
      return e;
    }
    ADD_FAILURE() << "no DatabaseError";
    return DatabaseError(std::string(), "none");
  }
};
INSTANTIATE_TEST_SUITE_P(Engine, PostgresDatabase, ::testing::Values(SqlEngine::postgresql),
                         testing::engine_name);

TEST_P(PostgresDatabase, ALockHeldPastTheBusyTimeoutIsBusy) {
  auto holder = open_db();
  auto writer = open_db(OpenMode::read_write, 5000);
  ASSERT_TRUE(holder && writer);
  writer->set_busy_timeout(std::chrono::milliseconds(50));
  testing::HeldWriteLock lock(*holder);
  const auto started = std::chrono::steady_clock::now();
  const DatabaseError e = error_of(
      [&] { writer->exec("INSERT INTO events (at, queue_id, kind) VALUES (1, 'Q', 'x')"); });
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(e.is_busy()) << e.sqlstate() << ": " << e.what();
  EXPECT_EQ(e.sqlstate(), "55P03");
  EXPECT_GE(took, std::chrono::milliseconds(40)) << "did not wait for the lock at all";
  EXPECT_LT(took, std::chrono::seconds(2)) << "waited for the timeout set at open";
}

// Two transactions that each read what the other writes: one of them must
// fail, as busy, since together they match no order of running alone.
TEST_P(PostgresDatabase, ALostSerializationRaceIsBusy) {
  auto first = open_db();
  auto second = open_db(OpenMode::read_write);
  ASSERT_TRUE(first && second);
  Transaction one(*first);
  Transaction two(*second);
  EXPECT_EQ(count_rows(*first, "SELECT count(*) FROM runs WHERE acted_as = 2"), 0);
  EXPECT_EQ(count_rows(*second, "SELECT count(*) FROM runs WHERE acted_as = 1"), 0);
  first->exec("INSERT INTO runs (started_at, acted_as) VALUES (0, 1)");
  second->exec("INSERT INTO runs (started_at, acted_as) VALUES (0, 2)");
  one.commit();
  const DatabaseError e = error_of([&] { two.commit(); });
  EXPECT_TRUE(e.is_busy()) << e.sqlstate() << ": " << e.what();
  EXPECT_EQ(e.sqlstate(), "40001");
}

// The server ends the connection (a restart, an admin): the statement that
// finds out fails as busy, and the next one runs on a new connection,
// prepared statements and session settings and all.
TEST_P(PostgresDatabase, ALostConnectionIsBusyAndThenOpenedAgain) {
  auto admin = open_db();
  auto db = open_db(OpenMode::read_only);
  ASSERT_TRUE(db && admin);
  const std::string count = "SELECT count(*) FROM messages";
  EXPECT_EQ(count_rows(*db, count), 0);
  const std::int64_t pid = count_rows(*db, "SELECT pg_backend_pid()");
  admin->exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
  const DatabaseError e = error_of([&] { count_rows(*db, count); });
  EXPECT_TRUE(e.is_busy()) << e.sqlstate() << ": " << e.what();
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM events"), 0) << "a new statement: not connected";
  EXPECT_EQ(count_rows(*db, count), 0) << "a cached statement: not prepared again";
  EXPECT_NE(count_rows(*db, "SELECT pg_backend_pid()"), pid);
  EXPECT_THROW(db->exec("INSERT INTO events (at, queue_id, kind) VALUES (1, 'Q', 'x')"),
               DatabaseError)
      << "the new session lost read-only";
}

// Lost inside a transaction, the connection stays lost until the
// transaction ends: its other statements must not run on a new one.
TEST_P(PostgresDatabase, AConnectionLostInATransactionIsNotReplacedUnderIt) {
  auto admin = open_db();
  auto db = open_db(OpenMode::read_write);
  ASSERT_TRUE(db && admin);
  const std::string insert = "INSERT INTO events (at, queue_id, kind) VALUES (1, 'Q', 'x')";
  {
    Transaction transaction(*db);
    db->exec(insert);
    admin->exec("SELECT pg_terminate_backend(" +
                std::to_string(count_rows(*db, "SELECT pg_backend_pid()")) + ")");
    EXPECT_TRUE(error_of([&] { db->exec(insert); }).is_busy());
    EXPECT_TRUE(error_of([&] { db->exec(insert); }).is_busy()) << "ran outside the transaction";
    EXPECT_TRUE(db->in_transaction());
  }
  EXPECT_FALSE(db->in_transaction());
  db->exec(insert);
  EXPECT_EQ(count_rows(*admin, "SELECT count(*) FROM events"), 1) << "only the one after it";
}

TEST_P(PostgresDatabase, ACommitOfAFailedTransactionIsAnError) {
  auto db = open_db();
  ASSERT_TRUE(db);
  Transaction transaction(*db);
  db->exec("INSERT INTO events (at, queue_id, kind) VALUES (1, 'Q', 'x')");
  EXPECT_THROW(db->exec("INSERT INTO events (at) VALUES (1)"), DatabaseError);
  const DatabaseError e = error_of([&] { transaction.commit(); });
  EXPECT_FALSE(e.is_busy()) << e.what();
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM events"), 0);
}

TEST_P(PostgresDatabase, AServerThatIsNotThereIsAnErrorNamingItWithoutThePassword) {
  const std::string uri = "postgresql://etrn:secret@localhost:1/etrn?host=" + dir_.string();
  auto db = Database::open(uri, OpenMode::read_write);
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find("postgresql://etrn@localhost:1/etrn"), std::string::npos)
      << db.error().message;
  EXPECT_EQ(db.error().message.find("secret"), std::string::npos) << db.error().message;
}

TEST_P(PostgresDatabase, SqlitesFileHousekeepingIsHarmless) {
  auto db = open_db();
  ASSERT_TRUE(db);
  int calls = 0;
  db->on_wal_commit([&calls](int) { ++calls; });
  db->leave_files_at_close();
  db->overwrite_deleted();
  {
    Transaction transaction(*db);
    db->exec("INSERT INTO events (at, queue_id, kind) VALUES (1, 'Q', 'x')");
    transaction.commit();
  }
  EXPECT_TRUE(db->checkpoint());
  db->forget_deleted();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM events"), 1);
}

TEST_P(PostgresDatabase, AnInsertReturnsItsRowsId) {
  auto db = open_db();
  ASSERT_TRUE(db);
  Statement& insert = db->prepare_insert("INSERT INTO runs (started_at, acted_as) VALUES (?1, ?1)");
  const std::int64_t first = insert.bind(1, std::int64_t{5}).insert();
  const std::int64_t second =
      db->prepare_insert("INSERT INTO runs (started_at, acted_as) VALUES (?1, ?1)")
          .bind(1, std::int64_t{6})
          .insert();
  EXPECT_EQ(second, first + 1);
  EXPECT_EQ(count_rows(*db, "SELECT started_at FROM runs WHERE id = " + std::to_string(second)), 6);
}

// ---- without a server -------------------------------------------------------

TEST(PostgresParameters, QuestionNumbersBecomeDollarNumbersOutsideQuotesAndComments) {
  int count = -1;
  EXPECT_EQ(to_postgres_parameters("SELECT ?1 + ?12, '?3', \"?4\", 'it''s ?5' -- ?6\n, ?2 /* ?7 */",
                                   count),
            "SELECT $1 + $12, '?3', \"?4\", 'it''s ?5' -- ?6\n, $2 /* ?7 */");
  EXPECT_EQ(count, 12);
  EXPECT_EQ(to_postgres_parameters("SELECT ?1::jsonb, x ? y", count), "SELECT $1::jsonb, x ? y");
  EXPECT_EQ(count, 1);
  EXPECT_EQ(to_postgres_parameters("SELECT 1", count), "SELECT 1");
  EXPECT_EQ(count, 0);
}

TEST(PostgresUri, IsRecognizedByItsScheme) {
  EXPECT_TRUE(is_postgres_uri("postgresql://db.example/etrn"));
  EXPECT_TRUE(is_postgres_uri("postgres:///etrn"));
  EXPECT_FALSE(is_postgres_uri("/var/lib/etrn-sweeper/etrn.db"));
  EXPECT_FALSE(is_postgres_uri("postgresql.db"));
}

TEST(PostgresUri, IsShownWithoutPasswordOrParametersButTheHost) {
  EXPECT_EQ(redacted_uri("postgresql://etrn:s3cret@db.example:5433/etrn?sslmode=verify-full"),
            "postgresql://etrn@db.example:5433/etrn");
  EXPECT_EQ(redacted_uri("postgresql:///etrn?password=x&host=/run/postgresql&user=etrn"),
            "postgresql:///etrn?host=/run/postgresql");
  EXPECT_EQ(redacted_uri("postgres://db.example/etrn"), "postgres://db.example/etrn");
}

TEST(PostgresErrors, LocksRacesAndLostConnectionsAreBusyAndDataErrorsAreNot) {
  for (const char* busy : {"40001", "40P01", "55P03", "08006", "08003", "57P01", "57P03", "53300"})
    EXPECT_TRUE(sqlstate_is_busy(busy)) << busy;
  for (const char* not_busy : {"23505", "23503", "25006", "42601", "P0001", "22P02", ""})
    EXPECT_FALSE(sqlstate_is_busy(not_busy)) << not_busy;
  EXPECT_TRUE(DatabaseError(std::string("40001"), "x").is_busy());
}

}  // namespace
}  // namespace etrn
