// database_test.cpp - the engines behind Database: what both must do
// (schema on open, statements, transactions, errors), on a real SQLite
// file and a real PostgreSQL database; then what only SQLite has (files,
// pragmas, WAL, its busy lock) and what only PostgreSQL has (its busy
// errors, a lost connection, URIs, $N parameters).
#include "common/store/database.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include "common/store/schema.hpp"
#include "tests/unit/common/store/test_database.hpp"
#include "tests/unit/support/unprivileged.hpp"

namespace etrn {
namespace {

using testing::count_rows;
using DatabaseTest = testing::TempDirTest;  // SQLite only
class BothEngines : public testing::EngineTest {};
ETRN_ON_BOTH_ENGINES(BothEngines);

// Whether the schema has a table or view called `name`.
bool has_schema_object(Database& db, const std::string& name) {
  Statement& find = db.prepare(db.engine() == SqlEngine::postgresql
                                   ? "SELECT count(*) FROM pg_class WHERE oid = to_regclass(?1)"
                                   : "SELECT count(*) FROM sqlite_schema WHERE name = ?1");
  find.bind(1, name);
  const bool found = find.step() && find.column_int(0) == 1;
  find.reset();
  return found;
}

std::string pragma_text(Database& db, const std::string& sql) {
  Statement& statement = db.prepare(sql);
  std::string text = statement.step() ? statement.column_text(0) : "";
  statement.reset();
  return text;
}

TEST_F(DatabaseTest, OpenCreatesTheFile) {
  auto db = open_db();
  ASSERT_TRUE(db);
  EXPECT_TRUE(std::filesystem::exists(db_path()));
}

TEST_P(BothEngines, OpenCreatesTheCurrentSchema) {
  auto db = open_db();
  ASSERT_TRUE(db);
  EXPECT_EQ(db->engine(), GetParam());
  EXPECT_EQ(db->schema_version(), current_schema_version());
  EXPECT_EQ(current_schema_version(), 11) << "v11: instance (v10: mta_arrivals, v9: pruning)";
  for (const char* name : {"messages", "recipients", "events", "outbox", "mta_arrivals", "runs",
                           "prune_permit", "etrn_audit", "etrn_events"}) {
    EXPECT_TRUE(has_schema_object(*db, name)) << "missing schema object " << name;
  }
}

TEST_P(BothEngines, ReopeningAnUpToDateDatabaseChangesNothing) {
  { ASSERT_TRUE(open_db()); }
  auto db = open_db(OpenMode::read_write);
  ASSERT_TRUE(db);
  EXPECT_EQ(db->schema_version(), current_schema_version());
  EXPECT_TRUE(has_schema_object(*db, "messages"));
  auto read_only = open_db(OpenMode::read_only);
  ASSERT_TRUE(read_only);
  EXPECT_EQ(read_only->schema_version(), current_schema_version());
}

TEST_F(DatabaseTest, TheJournalIsInWalModeWithFullSyncAndForeignKeys) {
  auto db = open_db();
  ASSERT_TRUE(db);
  EXPECT_EQ(pragma_text(*db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(count_rows(*db, "PRAGMA synchronous"), 2) << "want FULL (2)";
  EXPECT_EQ(count_rows(*db, "PRAGMA foreign_keys"), 1);
}

TEST_F(DatabaseTest, AnInMemoryDatabaseOpensWithTheSchema) {
  auto db = Database::open(":memory:", OpenMode::read_write_create);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ((*db)->schema_version(), current_schema_version());
  EXPECT_EQ((*db)->path(), ":memory:");
}

TEST_P(BothEngines, ADatabaseNewerThanTheProgramIsRefused) {
  std::string name;
  {
    auto db = open_db();
    ASSERT_TRUE(db);
    db->set_schema_version(99);
    name = db->path();
  }
  auto db = Database::open(db_target(), OpenMode::read_write);
  ASSERT_FALSE(db) << "opened a version 99 database";
  EXPECT_NE(db.error().message.find("newer"), std::string::npos) << db.error().message;
  EXPECT_NE(db.error().message.find(name), std::string::npos) << db.error().message;
  auto read_only = Database::open(db_target(), OpenMode::read_only);
  EXPECT_FALSE(read_only) << "read-only open accepted a version 99 database";
}

TEST_F(DatabaseTest, AMissingDirectoryIsAnErrorThatNamesIt) {
  std::string path = (dir_ / "no-such-dir" / "etrn.db").string();
  auto db = Database::open(path, OpenMode::read_write_create);
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find("does not exist"), std::string::npos) << db.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "no-such-dir"))
      << "the directory must not be created";
}

TEST_F(DatabaseTest, AMissingFileOpenedWithoutCreateIsAnError) {
  auto db = Database::open(db_path(), OpenMode::read_write);
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find(db_path()), std::string::npos) << db.error().message;
  EXPECT_FALSE(Database::open(db_path(), OpenMode::read_only));
}

TEST_F(DatabaseTest, AFileThatIsNotADatabaseIsAnError) {
  std::ofstream(db_path()) << std::string(4096, 'x');
  auto db = Database::open(db_path(), OpenMode::read_write);
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find("not a database"), std::string::npos) << db.error().message;
  EXPECT_NE(db.error().message.find(db_path()), std::string::npos) << db.error().message;
}

TEST_F(DatabaseTest, AReadOnlyFileCannotBeOpenedForWriting) {
  { ASSERT_TRUE(open_db()); }
  testing::give_to_unprivileged(dir_);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    std::filesystem::permissions(db_path() + suffix, std::filesystem::perms::owner_read, ec);
  }
  EXPECT_TRUE(testing::as_unprivileged([&]() -> std::string {
    auto db = Database::open(db_path(), OpenMode::read_write);
    if (db) return "a read-only file was opened for writing";
    if (db.error().message.find("read-only") == std::string::npos) {
      return "got \"" + db.error().message + "\", want it to say read-only";
    }
    return "";
  }));
}

TEST_P(BothEngines, AReadOnlyConnectionRefusesWrites) {
  { ASSERT_TRUE(open_db()); }
  auto db = open_db(OpenMode::read_only);
  ASSERT_TRUE(db);
  for (const char* sql : {"INSERT INTO events (at, queue_id, kind) VALUES (1, 'Q', 'x')",
                          "CREATE TABLE more (n INTEGER)"}) {
    try {
      db->exec(sql);
      ADD_FAILURE() << "a read-only connection ran " << sql;
    } catch (const DatabaseError& e) {
      if (on_postgres())
        EXPECT_EQ(e.sqlstate(), "25006") << e.what();  // read_only_sql_transaction
      else
        EXPECT_EQ(e.code() & 0xff, SQLITE_READONLY) << e.what();
      EXPECT_FALSE(e.is_busy()) << e.what();
      EXPECT_NE(std::string(e.what()).find(db->path()), std::string::npos) << e.what();
    }
  }
}

TEST_P(BothEngines, AnUncommittedTransactionIsRolledBack) {
  auto db = open_db();
  ASSERT_TRUE(db);
  {
    Transaction transaction(*db);
    db->prepare("INSERT INTO events (at, queue_id, kind) VALUES (1, 'Q', 'x')").run();
  }
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM events"), 0);
  {
    Transaction transaction(*db);
    db->prepare("INSERT INTO events (at, queue_id, kind) VALUES (1, 'Q', 'x')").run();
    transaction.commit();
  }
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM events"), 1);
}

TEST_P(BothEngines, PreparedStatementsAreCachedAndRebound) {
  auto db = open_db();
  ASSERT_TRUE(db);
  Statement& first = db->prepare("SELECT ?1 + 1");
  first.bind(1, std::int64_t{41});
  ASSERT_TRUE(first.step());
  EXPECT_EQ(first.column_int(0), 42);
  Statement& second = db->prepare("SELECT ?1 + 1");
  EXPECT_EQ(&first, &second) << "want the cached statement";
  second.bind(1, std::optional<std::int64_t>{});
  ASSERT_TRUE(second.step());
  EXPECT_TRUE(second.column_is_null(0));
  EXPECT_EQ(second.column_optional_int(0), std::nullopt);
}

TEST_F(DatabaseTest, ASecondWriterGetsBusyAfterTheTimeout) {
  auto writer = open_db();
  ASSERT_TRUE(writer);
  auto other = Database::open(db_path(), OpenMode::read_write, 50);
  ASSERT_TRUE(other) << other.error().message;
  Transaction holding(*writer);
  try {
    Transaction blocked(**other);
    FAIL() << "two IMMEDIATE transactions at once";
  } catch (const DatabaseError& e) {
    EXPECT_TRUE(e.is_busy()) << "got code " << e.code() << ", want SQLITE_BUSY";
  }
}

TEST_F(DatabaseTest, TheBusyTimeoutCanBeShortenedAfterOpening) {
  auto writer = open_db();
  ASSERT_TRUE(writer);
  auto other = open_db(OpenMode::read_write);  // the default timeout, 5 s
  ASSERT_TRUE(other);
  other->set_busy_timeout(std::chrono::milliseconds(50));
  Transaction holding(*writer);
  const auto started = std::chrono::steady_clock::now();
  try {
    Transaction blocked(*other);
    FAIL() << "two IMMEDIATE transactions at once";
  } catch (const DatabaseError& e) {
    EXPECT_TRUE(e.is_busy()) << "got code " << e.code() << ", want SQLITE_BUSY";
  }
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, std::chrono::milliseconds(40)) << "did not wait for the lock at all";
  EXPECT_LT(took, std::chrono::seconds(2)) << "waited for the timeout set at open";
}

TEST_P(BothEngines, ChangesCountsTheRowsTheLastStatementChanged) {
  auto db = open_db();
  ASSERT_TRUE(db);
  db->exec("CREATE TABLE numbers (n INTEGER)");
  for (int i = 0; i < 3; ++i) db->prepare("INSERT INTO numbers (n) VALUES (1)").run();
  db->prepare("UPDATE numbers SET n = 2 WHERE n = 1").run();
  EXPECT_EQ(db->changes(), 3);
  db->prepare("UPDATE numbers SET n = 3 WHERE n = 99").run();
  EXPECT_EQ(db->changes(), 0);
}

TEST_P(BothEngines, InTransactionSaysWhetherATransactionIsOpen) {
  auto db = open_db();
  ASSERT_TRUE(db);
  EXPECT_FALSE(db->in_transaction());
  {
    Transaction transaction(*db);
    EXPECT_TRUE(db->in_transaction());
    transaction.commit();
  }
  EXPECT_FALSE(db->in_transaction());
}

// `rows` events of about one page each, in one transaction.
void insert_page_sized_events(Database& db, int rows) {
  Transaction transaction(db);
  Statement& insert =
      db.prepare("INSERT INTO events (at, queue_id, kind, detail) VALUES (1, 'Q', 'x', ?1)");
  for (int i = 0; i < rows; ++i) insert.bind(1, std::string(4000, 'd')).run();
  transaction.commit();
}

TEST_F(DatabaseTest, TheWalCommitHookSeesTheLogGrowWithoutAutomaticCheckpoints) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::vector<int> seen;
  db->on_wal_commit([&seen](int wal_pages) { seen.push_back(wal_pages); });
  for (int i = 0; i < 12; ++i) insert_page_sized_events(*db, 100);
  ASSERT_EQ(seen.size(), 12u) << "want one call per commit";
  for (std::size_t i = 1; i < seen.size(); ++i)
    EXPECT_GT(seen[i], seen[i - 1]) << "the log shrank at commit " << i;
  EXPECT_GT(seen.back(), 1000) << "SQLite's own checkpoint (at 1000 pages) still ran";
}

TEST_F(DatabaseTest, ACheckpointLetsTheLogStartAgain) {
  auto db = open_db();
  ASSERT_TRUE(db);
  int pages = 0;
  db->on_wal_commit([&pages](int wal_pages) { pages = wal_pages; });
  insert_page_sized_events(*db, 200);
  const int before = pages;
  const Status got = db->checkpoint();
  ASSERT_TRUE(got) << got.error().message;
  insert_page_sized_events(*db, 1);
  EXPECT_LT(pages, before) << "the log did not restart after the checkpoint";
}

TEST_F(DatabaseTest, ACheckpointWhileAnotherConnectionWritesIsNotAnError) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto writer = open_db(OpenMode::read_write);
  ASSERT_TRUE(writer);
  insert_page_sized_events(*writer, 10);
  Transaction holding(*writer);
  writer->prepare("INSERT INTO events (at, queue_id, kind) VALUES (1, 'Q', 'x')").run();
  const Status got = db->checkpoint();
  EXPECT_TRUE(got) << got.error().message;
}

TEST_F(DatabaseTest, ACheckpointInsideATransactionIsAnErrorNamingTheDatabase) {
  auto db = open_db();
  ASSERT_TRUE(db);
  insert_page_sized_events(*db, 10);
  Transaction open_transaction(*db);
  db->prepare("INSERT INTO events (at, queue_id, kind) VALUES (1, 'Q', 'x')").run();
  const Status got = db->checkpoint();
  ASSERT_FALSE(got) << "checkpointed from inside a transaction";
  EXPECT_NE(got.error().message.find(db_path()), std::string::npos) << got.error().message;
}

TEST_P(BothEngines, BadSqlThrowsWithThePath) {
  auto db = open_db();
  ASSERT_TRUE(db);
  try {
    db->prepare("SELEC nonsense");
    FAIL() << "bad SQL prepared";
  } catch (const DatabaseError& e) {
    EXPECT_NE(std::string(e.what()).find(db->path()), std::string::npos) << e.what();
    EXPECT_FALSE(e.is_busy()) << e.what();
  }
}

TEST_P(BothEngines, ATransactionInsideATransactionIsASavepoint) {
  auto db = open_db();
  ASSERT_TRUE(db);
  {
    Transaction outer(*db);
    db->prepare("INSERT INTO events (at, queue_id, kind) VALUES (1, 'outer', 'x')").run();
    {
      Transaction inner(*db);
      db->prepare("INSERT INTO events (at, queue_id, kind) VALUES (1, 'rolled-back', 'x')").run();
    }
    {
      Transaction inner(*db);
      db->prepare("INSERT INTO events (at, queue_id, kind) VALUES (1, 'kept', 'x')").run();
      inner.commit();
    }
    outer.commit();
  }
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM events WHERE queue_id IN ('outer', 'kept')"), 2);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM events WHERE queue_id = 'rolled-back'"), 0);
}

TEST_P(BothEngines, TwoConnectionsCreatingTheDatabaseAtOnceBothSucceed) {
  std::string errors[2];
  const std::string target = db_target();
  auto open_in_thread = [&](int i) {
    auto db = Database::open(target, OpenMode::read_write_create);
    if (!db) errors[i] = db.error().message;
  };
  std::thread first(open_in_thread, 0);
  std::thread second(open_in_thread, 1);
  first.join();
  second.join();
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
  auto db = open_db(OpenMode::read_only);
  ASSERT_TRUE(db);
  EXPECT_EQ(db->schema_version(), current_schema_version());
}

TEST(DatabaseForMessagesTest, AFileIsNamedAsItIsAndAUriWithoutItsPassword) {
  EXPECT_EQ(database_for_messages("/var/lib/etrn-sweeper/etrn.db"),
            "/var/lib/etrn-sweeper/etrn.db");
  EXPECT_EQ(database_for_messages("postgresql://etrn:s3cret@db.example/etrn?sslmode=require"),
            "postgresql://etrn@db.example/etrn");
  EXPECT_EQ(database_for_messages("postgres:///etrn?host=/run/pg&password=s3cret"),
            "postgres:///etrn?host=/run/pg");
}

}  // namespace
}  // namespace etrn
