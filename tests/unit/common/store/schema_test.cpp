// schema_test.cpp - the schema: the audit views keep exactly the interface
// columns, events are append-only, constraints hold (on both engines); the
// sweeper's queries use indexes (each engine's plans); and an older SQLite
// database migrates keeping its rows.
#include "common/store/schema.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <vector>

#include "common/store/database.hpp"
#include "tests/unit/common/store/test_database.hpp"

namespace etrn {
namespace {

using SchemaTest = testing::TempDirTest;  // SQLite only
class BothSchemas : public testing::EngineTest {};
ETRN_ON_BOTH_ENGINES(BothSchemas);

std::vector<std::string> column_names(Database& db, const std::string& sql) {
  Statement& statement = db.prepare(sql);
  std::vector<std::string> names;
  for (int i = 0; i < statement.column_count(); ++i) names.push_back(statement.column_name(i));
  return names;
}

std::string query_plan(Database& db, const std::string& sql) {
  Statement& explain = db.prepare("EXPLAIN QUERY PLAN " + sql);
  std::string plan;
  while (explain.step()) plan += explain.column_text(3) + "\n";
  return plan;
}

bool uses_index(const std::string& plan) {
  return plan.find("USING INDEX") != std::string::npos ||
         plan.find("USING COVERING INDEX") != std::string::npos;
}

TEST_P(BothSchemas, EtrnAuditHasExactlyTheInterfaceColumns) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::vector<std::string> want = {"queue_id",         "arrival_time", "sender", "recipient",
                                   "domain",           "priority",     "state",  "expires_at",
                                   "state_changed_at", "instance"};
  EXPECT_EQ(column_names(*db, "SELECT * FROM etrn_audit LIMIT 0"), want);
}

TEST_P(BothSchemas, EtrnEventsHasExactlyTheInterfaceColumns) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::vector<std::string> want = {"at", "queue_id", "recipient", "kind", "detail", "instance"};
  EXPECT_EQ(column_names(*db, "SELECT * FROM etrn_events LIMIT 0"), want);
}

TEST_P(BothSchemas, EventsCannotBeUpdatedOrDeleted) {
  auto db = open_db();
  ASSERT_TRUE(db);
  db->exec(
      "INSERT INTO events (at, queue_id, recipient, kind, detail) VALUES (1, 'Q1', 'a@b', "
      "'recorded', '')");
  for (const char* sql : {"UPDATE events SET kind = 'forged'", "DELETE FROM events"}) {
    try {
      db->exec(sql);
      ADD_FAILURE() << sql << " succeeded on the append-only table";
    } catch (const DatabaseError& e) {
      EXPECT_NE(std::string(e.what()).find("etrn_events is append-only"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(testing::count_rows(*db, "SELECT count(*) FROM etrn_events WHERE kind = 'recorded'"),
            1);
}

TEST_P(BothSchemas, ARecipientMustBelongToAMessage) {
  auto db = open_db();
  ASSERT_TRUE(db);
  EXPECT_THROW(
      db->exec(
          "INSERT INTO recipients (message, address, domain, state, expires_at, state_changed_at)"
          " VALUES (999, 'a@b', 'b', 'queued', 1, 1)"),
      DatabaseError)
      << "foreign keys are not enforced";
}

TEST_P(BothSchemas, AnUnknownStateOrPriorityIsRejected) {
  auto db = open_db();
  ASSERT_TRUE(db);
  EXPECT_THROW(
      db->exec(
          "INSERT INTO messages (queue_id, arrival_time, sender, priority, source, recorded_at)"
          " VALUES ('Q', 1, '', 'high', 'milter', 1)"),
      DatabaseError);
  db->exec(
      "INSERT INTO messages (id, queue_id, arrival_time, sender, priority, source, recorded_at)"
      " VALUES (1, 'Q', 1, '', 'normal', 'milter', 1)");
  EXPECT_THROW(
      db->exec(
          "INSERT INTO recipients (message, address, domain, state, expires_at, state_changed_at)"
          " VALUES (1, 'a@b', 'b', 'lost', 1, 1)"),
      DatabaseError);
}

TEST_F(SchemaTest, PendingRecipientsAreFoundThroughAnIndex) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::string plan =
      query_plan(*db, "SELECT id, expires_at FROM recipients WHERE state IN ('queued', 'warned')");
  EXPECT_TRUE(uses_index(plan)) << "got plan:\n" << plan;
}

TEST_F(SchemaTest, LookupsByQueueIdUseAnIndex) {
  auto db = open_db();
  ASSERT_TRUE(db);
  for (const char* sql : {"SELECT id FROM messages WHERE queue_id = 'Q1'",
                          "SELECT id FROM messages WHERE queue_id = 'Q1' AND arrival_time = 5",
                          "SELECT at, kind FROM events WHERE queue_id = 'Q1'",
                          "SELECT * FROM etrn_audit WHERE queue_id = 'Q1'"}) {
    std::string plan = query_plan(*db, sql);
    EXPECT_TRUE(uses_index(plan)) << sql << "\ngot plan:\n" << plan;
  }
}

// Since version 7 a domain's whole history is a scan (an audit, rarely);
// its waiting recipients are not (recipients_pending).
TEST_F(SchemaTest, RecipientsOfAMessageWaitingRecipientsAndEventsByTimeUseAnIndex) {
  auto db = open_db();
  ASSERT_TRUE(db);
  for (const char* sql :
       {"SELECT id FROM recipients WHERE message = 1",
        "SELECT count(*) FROM recipients WHERE domain = 'a.example' AND state IN ('queued',"
        " 'warned')",
        "SELECT at FROM events WHERE at >= 100"}) {
    std::string plan = query_plan(*db, sql);
    EXPECT_TRUE(uses_index(plan)) << sql << "\ngot plan:\n" << plan;
  }
}

TEST_P(BothSchemas, MigratingTwiceIsHarmless) {
  auto db = open_db();
  ASSERT_TRUE(db);
  Status again = migrate_schema(*db);
  EXPECT_TRUE(again) << again.error().message;
  EXPECT_EQ(db->schema_version(), current_schema_version());
}

// Runs SQL on a raw connection (no migration), failing the test on error.
void raw_exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << (error ? error : "?");
  }
  sqlite3_free(error);
}

// A version 2 database with one message, two recipients, an event and an
// outbox entry, as the milter and sweeper of that version left it.
void make_version_2_database(const std::string& path) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  raw_exec(raw, "PRAGMA journal_mode=WAL");
  raw_exec(raw, migration_script(1));
  raw_exec(raw, migration_script(2));
  raw_exec(raw,
           "INSERT INTO messages (id, queue_id, arrival_time, sender, ret, smtputf8, priority,"
           " source, recorded_at, done_at) VALUES (7, 'Q7', 100, 'a@s', 'HDRS', 1, 'urgent',"
           " 'milter', 101, NULL);"
           "INSERT INTO recipients (id, message, address, domain, state, warn_at, expires_at,"
           " state_changed_at) VALUES (11, 7, 'b@c.example', 'c.example', 'warned', 5, 9, 102),"
           " (12, 7, 'd@c.example', 'c.example', 'queued', NULL, 9, 101);"
           "INSERT INTO events (at, queue_id, recipient, kind, detail)"
           " VALUES (101, 'Q7', 'b@c.example', 'recorded', 'x');"
           "INSERT INTO outbox (message, kind, recipient_ids, dsn_message_id, spool_path,"
           " created_at) VALUES (7, 'delayed', '11', '<dsn@x>', '/s/1', 103);"
           "PRAGMA user_version = 2;");
  sqlite3_close(raw);
}

std::string table_sql(Database& db, const std::string& name) {
  Statement& s = db.prepare("SELECT sql FROM sqlite_master WHERE name = ?1");
  s.bind(1, name);
  std::string sql = s.step() ? s.column_text(0) : "";
  s.reset();
  return sql;
}

TEST_F(SchemaTest, AVersion2DatabaseMigratesKeepingItsRows) {
  make_version_2_database(db_path());
  auto db = open_db();
  ASSERT_TRUE(db);
  EXPECT_EQ(db->schema_version(), current_schema_version());
  EXPECT_EQ(testing::count_rows(
                *db,
                "SELECT count(*) FROM messages WHERE id = 7 AND ret = 'HDRS' AND smtputf8 = 1"
                " AND priority = 'urgent' AND recorded_at = 101 AND done_at IS NULL"),
            1);
  EXPECT_EQ(testing::count_rows(*db,
                                "SELECT count(*) FROM etrn_audit WHERE queue_id = 'Q7' AND"
                                " ((recipient = 'b@c.example' AND state = 'warned') OR"
                                " (recipient = 'd@c.example' AND state = 'queued'))"),
            2);
  EXPECT_EQ(testing::count_rows(*db, "SELECT sum(id) FROM recipients WHERE message = 7"), 23)
      << "recipient ids must survive (the outbox refers to them)";
  EXPECT_EQ(testing::count_rows(*db, "SELECT count(*) FROM etrn_events WHERE queue_id = 'Q7'"), 1);
  EXPECT_EQ(testing::count_rows(*db, "SELECT count(*) FROM outbox WHERE message = 7"), 1);
  EXPECT_EQ(testing::count_rows(*db,
                                "SELECT count(*) FROM outbox WHERE spool_path = '/s/1'"
                                " AND dsn_text IS NULL"),
            1)
      << "an old outbox row keeps its spool file and has no text";
}

TEST_F(SchemaTest, AMigratedDatabaseKeepsItsConstraintsIndexesAndTriggers) {
  make_version_2_database(db_path());
  auto db = open_db();
  ASSERT_TRUE(db);
  EXPECT_THROW(db->exec("UPDATE recipients SET state = 'lost' WHERE id = 11"), DatabaseError);
  EXPECT_THROW(db->exec("UPDATE messages SET priority = 'high' WHERE id = 7"), DatabaseError);
  EXPECT_THROW(db->exec("UPDATE messages SET source = 'guessed' WHERE id = 7"), DatabaseError);
  EXPECT_THROW(db->exec("UPDATE messages SET ret = 'BODY' WHERE id = 7"), DatabaseError);
  EXPECT_THROW(db->exec("UPDATE messages SET smtputf8 = 2 WHERE id = 7"), DatabaseError);
  EXPECT_THROW(db->exec("UPDATE recipients SET message = 999 WHERE id = 11"), DatabaseError)
      << "foreign keys are not enforced after the migration";
  EXPECT_THROW(db->exec("DELETE FROM events"), DatabaseError) << "events became deletable";
  for (const char* index :
       {"messages_by_queue_id", "messages_open", "recipients_by_message", "recipients_pending",
        "events_by_queue_id", "events_by_time", "outbox_by_message", "outbox_unsent"}) {
    EXPECT_FALSE(table_sql(*db, index).empty()) << "index " << index << " is gone";
  }
  EXPECT_EQ(table_sql(*db, "recipients_by_domain"), "") << "v7 dropped it";
  EXPECT_EQ(table_sql(*db, "messages_v3"), "") << "the rebuild's table is left behind";
  EXPECT_EQ(table_sql(*db, "recipients_v5"), "") << "the rebuild's table is left behind";
  const std::string plan = query_plan(*db, "SELECT id FROM messages WHERE done_at IS NULL");
  EXPECT_TRUE(uses_index(plan)) << "got plan:\n" << plan;
}

// Version 7: the sweep's load of the open messages reads recipients in
// order through recipients_by_message (no temporary sort), and `shape`'s
// waiting recipients use recipients_pending.
TEST_F(SchemaTest, TheSweepsLoadNeedsNoSortAndShapeUsesThePendingIndex) {
  make_version_2_database(db_path());
  auto db = open_db();
  ASSERT_TRUE(db);
  const std::string load =
      query_plan(*db,
                 "SELECT m.id, r.id FROM messages m LEFT JOIN recipients r ON r.message = m.id"
                 " WHERE m.done_at IS NULL AND m.instance IN ('mx1', '') ORDER BY m.id, r.id");
  EXPECT_EQ(load.find("TEMP B-TREE"), std::string::npos) << "got plan:\n" << load;
  EXPECT_NE(load.find("recipients_by_message"), std::string::npos) << "got plan:\n" << load;
  const std::string shape = query_plan(
      *db,
      "SELECT r.domain, m.arrival_time FROM recipients r JOIN messages m ON m.id = r.message"
      " WHERE r.state IN ('queued', 'warned') ORDER BY r.domain");
  EXPECT_NE(shape.find("recipients_pending"), std::string::npos) << "got plan:\n" << shape;
}

// Version 9: a prune finds the closed messages by age through messages_done,
// on a migrated database too, and a migration leaves no permit behind.
TEST_F(SchemaTest, APruneFindsClosedMessagesByAgeThroughAnIndex) {
  make_version_2_database(db_path());
  auto db = open_db();
  ASSERT_TRUE(db);
  const std::string plan =
      query_plan(*db,
                 "SELECT id FROM messages WHERE instance IN ('mx1', '') AND done_at < 1800000000"
                 " ORDER BY done_at");
  EXPECT_NE(plan.find("messages_done"), std::string::npos) << "got plan:\n" << plan;
  EXPECT_EQ(testing::count_rows(*db, "SELECT count(*) FROM prune_permit"), 0);
  EXPECT_THROW(db->exec("DELETE FROM messages"), DatabaseError) << "outside a prune";
}

TEST_F(SchemaTest, AttentionIsAStateAndAnOutboxRowCanBeRetriedOrClosed) {
  make_version_2_database(db_path());
  auto db = open_db();
  ASSERT_TRUE(db);
  db->exec("UPDATE recipients SET state = 'attention' WHERE id = 11");
  EXPECT_EQ(testing::count_rows(*db, "SELECT count(*) FROM etrn_audit WHERE state = 'attention'"),
            1);
  db->exec("UPDATE messages SET held_by_sweeper_at = 5 WHERE id = 7");
  db->exec(
      "UPDATE outbox SET attempts = 2, next_attempt_at = 9, last_error = 'x', headers_only = 1,"
      " dsn_recipient = 'a@s', closed_at = 10, closed_why = 'refused'");
  EXPECT_EQ(testing::count_rows(*db, "SELECT count(*) FROM outbox WHERE attempts = 0"), 0);
}

// A database as the programs of `version` left it (its scripts applied),
// with one message, one warned recipient and an outbox row; at version 5
// (the expiry protocol) the message is also held and a recipient is in
// attention.
void make_database_at(const std::string& path, int version) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  raw_exec(raw, "PRAGMA journal_mode=WAL");
  for (int v = 1; v <= version; ++v) raw_exec(raw, migration_script(v));
  raw_exec(raw,
           "INSERT INTO messages (id, queue_id, arrival_time, sender, ret, smtputf8, priority,"
           " source, recorded_at) VALUES (7, 'Q7', 100, 'a@s', 'FULL', 0, 'normal', 'milter', 101);"
           "INSERT INTO recipients (id, message, address, domain, state, warn_at, expires_at,"
           " state_changed_at) VALUES (11, 7, 'b@c.example', 'c.example', 'warned', 5, 9, 102),"
           " (12, 7, 'd@c.example', 'c.example', 'queued', NULL, 9, 101);"
           "INSERT INTO outbox (message, kind, recipient_ids, dsn_message_id, spool_path,"
           " created_at, dsn_text) VALUES (7, 'delayed', '11', '<dsn@x>', '', 103, 'text');");
  if (version >= 5) {
    raw_exec(raw,
             "UPDATE messages SET held_by_sweeper_at = 104 WHERE id = 7;"
             "UPDATE recipients SET state = 'attention' WHERE id = 12;"
             "UPDATE outbox SET attempts = 2, dsn_recipient = 'a@s.example';");
  }
  raw_exec(raw, ("PRAGMA user_version = " + std::to_string(version)).c_str());
  sqlite3_close(raw);
}

// Version 4 is the last release's; version 5 the expiry protocol's (issue
// 12), on which version 6 (a departure that can be undone) builds.
TEST_F(SchemaTest, Version4And5DatabasesMigrateToTheCurrentVersionKeepingTheirRows) {
  for (int version : {4, 5}) {
    SCOPED_TRACE("from version " + std::to_string(version));
    const std::string path = db_path() + ".v" + std::to_string(version);
    make_database_at(path, version);
    auto opened = Database::open(path, OpenMode::read_write);
    ASSERT_TRUE(opened) << opened.error().message;
    Database& db = **opened;
    EXPECT_EQ(db.schema_version(), current_schema_version());
    EXPECT_EQ(testing::count_rows(db, "SELECT count(*) FROM runs"), 0) << "v8 made the runs table";
    EXPECT_EQ(testing::count_rows(db,
                                  "SELECT count(*) FROM recipients WHERE message = 7"
                                  " AND departed_from IS NULL"),
              2);
    EXPECT_EQ(testing::count_rows(db, "SELECT count(*) FROM outbox WHERE dsn_text = 'text'"), 1);
    const std::string attention = version >= 5 ? "attention" : "queued";
    EXPECT_EQ(testing::count_rows(db,
                                  "SELECT count(*) FROM etrn_audit WHERE recipient ="
                                  " 'd@c.example' AND state = '" +
                                      attention + "'"),
              1);
    EXPECT_EQ(testing::count_rows(db,
                                  "SELECT count(*) FROM messages WHERE held_by_sweeper_at"
                                  " IS NOT NULL"),
              version >= 5 ? 1 : 0);
    EXPECT_EQ(testing::count_rows(db, "SELECT sum(attempts) FROM outbox"), version >= 5 ? 2 : 0);
    db.exec("UPDATE recipients SET state = 'departed', departed_from = 'warned' WHERE id = 11");
    db.exec("UPDATE recipients SET departed_from = 'attention' WHERE id = 11");
    EXPECT_THROW(db.exec("UPDATE recipients SET departed_from = 'expired' WHERE id = 11"),
                 DatabaseError)
        << "departed_from keeps only a state a record can be reopened in";
  }
}

// An IN list in a CHECK makes SQLite build a temporary b-tree on every
// INSERT (OpenEphemeral); the milter inserts a message and its recipients
// for every mail, so the constraints must not need one.
// Version 10 moved the MTA's arrival time out of the messages rows into a
// table of its own: what a sweep had pinned stays pinned.
TEST_F(SchemaTest, Version9ArrivalTimesMoveToTheirOwnTable) {
  const std::string path = db_path() + ".v9";
  make_database_at(path, 9);
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    raw_exec(raw, "UPDATE messages SET mta_arrival_time = 99 WHERE id = 7");
    sqlite3_close(raw);
  }
  auto opened = Database::open(path, OpenMode::read_write);
  ASSERT_TRUE(opened) << opened.error().message;
  Database& db = **opened;
  EXPECT_EQ(testing::count_rows(db, "SELECT at FROM mta_arrivals WHERE message = 7"), 99);
  EXPECT_EQ(testing::count_rows(db,
                                "SELECT count(*) FROM pragma_table_info('messages')"
                                " WHERE name = 'mta_arrival_time'"),
            0);
  EXPECT_EQ(testing::count_rows(db, "SELECT count(*) FROM etrn_audit WHERE queue_id = 'Q7'"), 2);
}

// Version 11 (issue 16): every row names its host; those written before
// name none, and so stay every host's.
TEST_F(SchemaTest, Version10RowsNameNoHost) {
  const std::string path = db_path() + ".v10";
  make_database_at(path, 10);
  auto opened = Database::open(path, OpenMode::read_write);
  ASSERT_TRUE(opened) << opened.error().message;
  Database& db = **opened;
  EXPECT_EQ(db.schema_version(), 11);
  EXPECT_EQ(testing::count_rows(db, "SELECT count(*) FROM messages WHERE instance = ''"), 1);
  EXPECT_EQ(testing::count_rows(db, "SELECT count(*) FROM outbox WHERE instance = ''"), 1);
  EXPECT_EQ(testing::count_rows(db, "SELECT count(*) FROM etrn_audit WHERE instance = ''"), 2);
  db.exec("INSERT INTO runs (started_at, acted_as) VALUES (1, 1)");
  db.exec("INSERT INTO events (at, queue_id, kind) VALUES (1, 'Q7', 'recorded')");
  EXPECT_EQ(testing::count_rows(db, "SELECT count(*) FROM runs WHERE instance = ''"), 1);
  EXPECT_EQ(testing::count_rows(db, "SELECT count(*) FROM etrn_events WHERE instance = ''"), 1);
}

TEST_F(SchemaTest, InsertingAMessageOrRecipientBuildsNoTemporaryTable) {
  auto db = open_db();
  ASSERT_TRUE(db);
  for (const char* sql :
       {"INSERT INTO messages (queue_id, arrival_time, sender, ret, smtputf8, priority, source,"
        " recorded_at) VALUES ('Q', 1, '', 'FULL', 0, 'normal', 'milter', 1)",
        "INSERT INTO recipients (message, address, domain, state, expires_at, state_changed_at)"
        " VALUES (1, 'a@b', 'b', 'queued', 1, 1)"}) {
    Statement& explain = db->prepare(std::string("EXPLAIN ") + sql);
    int ephemeral = 0;
    while (explain.step()) ephemeral += explain.column_text(1) == "OpenEphemeral" ? 1 : 0;
    EXPECT_EQ(ephemeral, 0) << sql;
  }
}

}  // namespace
}  // namespace etrn
