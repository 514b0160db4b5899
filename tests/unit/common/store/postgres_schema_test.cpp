// postgres_schema_test.cpp - the schema on a real PostgreSQL: the same
// tables and columns as SQLite's, 64-bit integers and byte-order text, the
// sweeper's and the prune's lookups through their indexes, the version in
// one row, and no TRUNCATE of the history. (What both engines share, the
// views' columns, append-only events and the prune's rules, is tested on
// both in schema_test.cpp and prune_store_test.cpp.)
#include "common/store/postgres_schema.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/store/schema.hpp"
#include "tests/unit/common/store/test_database.hpp"

namespace etrn {
namespace {

using testing::count_rows;

class PostgresSchema : public testing::EngineTest {};
INSTANTIATE_TEST_SUITE_P(Engine, PostgresSchema, ::testing::Values(SqlEngine::postgresql),
                         testing::engine_name);

std::vector<std::string> texts(Statement& s) {
  std::vector<std::string> got;
  while (s.step()) got.push_back(s.column_text(0));
  return got;
}

// The plan PostgreSQL makes for `sql` when it would rather not scan: the
// test tables are tiny, and a scan is then cheapest whatever the indexes.
std::string plan_of(Database& db, const std::string& sql) {
  Transaction transaction(db);
  db.exec("SET LOCAL enable_seqscan = off");
  std::string plan;
  Statement& explain = db.prepare("EXPLAIN " + sql);
  while (explain.step()) plan += explain.column_text(0) + "\n";
  return plan;
}

TEST_P(PostgresSchema, TablesHaveSqlitesColumnsInSqlitesOrder) {
  auto postgres = open_db();
  ASSERT_TRUE(postgres);
  auto sqlite = Database::open(db_path(), OpenMode::read_write_create);
  ASSERT_TRUE(sqlite) << sqlite.error().message;
  for (const char* table : {"messages", "recipients", "events", "outbox", "runs", "prune_permit",
                            "mta_arrivals", "etrn_audit", "etrn_events"}) {
    Statement& want = (*sqlite)->prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid");
    Statement& got = postgres->prepare(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ?1 ORDER BY ordinal_position");
    const std::vector<std::string> want_columns = texts(want.bind(1, table));
    EXPECT_FALSE(want_columns.empty()) << table;
    EXPECT_EQ(texts(got.bind(1, table)), want_columns) << table;
  }
}

TEST_P(PostgresSchema, IntegersAre64BitsAndTextSortsByBytesAsInSqlite) {
  auto db = open_db();
  ASSERT_TRUE(db);
  const std::int64_t big = std::int64_t{1} << 40;
  db->prepare("INSERT INTO events (id, at, queue_id, kind) VALUES (?1, ?2, 'b', 'x')")
      .bind(1, big + 1)
      .bind(2, big)
      .run();
  db->exec("INSERT INTO events (at, queue_id, kind) VALUES (1, 'B', 'x'), (2, 'a', 'x')");
  EXPECT_EQ(count_rows(*db, "SELECT at FROM events WHERE id = " + std::to_string(big + 1)), big);
  Statement& sorted = db->prepare("SELECT queue_id FROM events ORDER BY queue_id");
  EXPECT_EQ(texts(sorted), (std::vector<std::string>{"B", "a", "b"})) << "want byte order";
}

TEST_P(PostgresSchema, TheVersionIsOneRow) {
  auto db = open_db();
  ASSERT_TRUE(db);
  EXPECT_EQ(count_rows(*db, "SELECT version FROM etrn_schema"), current_schema_version());
  EXPECT_THROW(db->exec("INSERT INTO etrn_schema (version) VALUES (11)"), DatabaseError);
  EXPECT_EQ(postgres_migration_steps().back().version, current_schema_version())
      << "a new version needs a PostgreSQL step too";
}

// Version 11 (issue 16) on a store at version 10: the rows written before
// name no host, the views gain instance last, and outbox ids go on from the
// highest one (they come from the sequence now).
TEST_P(PostgresSchema, AVersion10StoreMigratesItsRowsToNoHost) {
  const std::string uri = db_target();  // an empty schema
  {
    const std::string schema = uri.substr(uri.rfind("%3D") + 3);
    // One implicit transaction: SET LOCAL ends with it.
    testing::PostgresCluster::get()->command(
        "SET LOCAL search_path = " + schema + "; " + postgres_migration_steps()[0].sql +
        " UPDATE etrn_schema SET version = 10;"
        " INSERT INTO messages (id, queue_id, arrival_time, sender, priority, source,"
        "   recorded_at) VALUES (7, 'Q7', 100, 'a@s', 'normal', 'milter', 101);"
        " INSERT INTO recipients (message, address, domain, state, expires_at,"
        "   state_changed_at) VALUES (7, 'b@c.example', 'c.example', 'queued', 9, 101);"
        " INSERT INTO events (at, queue_id, kind) VALUES (101, 'Q7', 'recorded');"
        " INSERT INTO outbox (id, message, kind, recipient_ids, dsn_message_id,"
        "   spool_path, created_at) VALUES (41, 7, 'delayed', '1', '<d@x>', '', 103);"
        " INSERT INTO runs (started_at, acted_as) VALUES (1, 1);");
  }
  auto db = open_db();
  ASSERT_TRUE(db);
  EXPECT_EQ(db->schema_version(), current_schema_version());
  for (const char* table : {"messages", "events", "outbox", "runs"})
    EXPECT_EQ(
        count_rows(*db, std::string("SELECT count(*) FROM ") + table + " WHERE instance = ''"), 1)
        << table;
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_audit WHERE instance = ''"), 1);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_events WHERE instance = ''"), 1);
  EXPECT_EQ(count_rows(*db, "SELECT nextval(pg_get_serial_sequence('outbox', 'id'))"), 42);
}

TEST_P(PostgresSchema, TheHistoryCannotBeTruncated) {
  auto db = open_db();
  ASSERT_TRUE(db);
  db->exec("INSERT INTO events (at, queue_id, kind) VALUES (1, 'Q', 'recorded')");
  for (const char* table : {"events", "messages", "recipients", "outbox"}) {
    try {
      db->exec(std::string("TRUNCATE ") + table + " CASCADE");
      ADD_FAILURE() << "truncated " << table;
    } catch (const DatabaseError& e) {
      EXPECT_NE(std::string(e.what()).find("only a prune"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_events"), 1);
}

TEST_P(PostgresSchema, TheSweepersAndThePrunesLookupsUseTheirIndexes) {
  auto db = open_db();
  ASSERT_TRUE(db);
  const std::vector<std::pair<std::string, std::string>> uses = {
      {"SELECT id, expires_at FROM recipients WHERE state IN ('queued', 'warned')",
       "recipients_pending"},
      {"SELECT id FROM messages WHERE queue_id = 'Q1' AND arrival_time = 5",
       "messages_by_queue_id"},
      {"SELECT at, kind FROM events WHERE queue_id = 'Q1'", "events_by_queue_id"},
      {"SELECT at FROM events WHERE at >= 100", "events_by_time"},
      {"SELECT id FROM recipients WHERE message = 1 ORDER BY id", "recipients_by_message"},
      // A host's own rows (issue 16): the indexes lead with instance.
      {"SELECT id FROM messages WHERE done_at IS NULL AND instance IN ('mx1', '')",
       "messages_open"},
      {"SELECT id FROM messages WHERE instance IN ('mx1', '') AND done_at < 1800000000",
       "messages_done"},
      {"SELECT id FROM outbox WHERE sent_at IS NULL AND closed_at IS NULL"
       " AND instance IN ('mx1', '')",
       "outbox_unsent"},
      {"SELECT id FROM runs WHERE instance IN ('mx1', '') AND exit_status IN (0, 1)",
       "runs_by_instance"},
      {"SELECT id FROM events WHERE instance IN ('mx1', '') AND at < 100",
       "events_by_instance_time"},
  };
  for (const auto& [sql, index] : uses) {
    const std::string plan = plan_of(*db, sql);
    EXPECT_NE(plan.find(index), std::string::npos) << sql << "\ngot plan:\n" << plan;
  }
}

}  // namespace
}  // namespace etrn
