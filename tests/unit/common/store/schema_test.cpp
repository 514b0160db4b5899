// schema_test.cpp - the version 1 schema: the audit views keep exactly the
// interface columns, events are append-only, constraints hold, and the
// sweeper's queries use indexes.
#include "common/store/schema.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <vector>

#include "common/store/database.hpp"
#include "tests/unit/common/store/test_database.hpp"

namespace etrn {
namespace {

using SchemaTest = testing::TempDirTest;

std::vector<std::string> column_names(Database& db, const std::string& sql) {
  Statement& statement = db.prepare(sql);
  std::vector<std::string> names;
  for (int i = 0; i < sqlite3_column_count(statement.raw()); ++i) {
    names.emplace_back(sqlite3_column_name(statement.raw(), i));
  }
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

TEST_F(SchemaTest, EtrnAuditHasExactlyTheInterfaceColumns) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::vector<std::string> want = {"queue_id",  "arrival_time", "sender",
                                   "recipient", "domain",       "priority",
                                   "state",     "expires_at",   "state_changed_at"};
  EXPECT_EQ(column_names(*db, "SELECT * FROM etrn_audit LIMIT 0"), want);
}

TEST_F(SchemaTest, EtrnEventsHasExactlyTheInterfaceColumns) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::vector<std::string> want = {"at", "queue_id", "recipient", "kind", "detail"};
  EXPECT_EQ(column_names(*db, "SELECT * FROM etrn_events LIMIT 0"), want);
}

TEST_F(SchemaTest, EventsCannotBeUpdatedOrDeleted) {
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

TEST_F(SchemaTest, ARecipientMustBelongToAMessage) {
  auto db = open_db();
  ASSERT_TRUE(db);
  EXPECT_THROW(
      db->exec(
          "INSERT INTO recipients (message, address, domain, state, expires_at, state_changed_at)"
          " VALUES (999, 'a@b', 'b', 'queued', 1, 1)"),
      DatabaseError)
      << "foreign keys are not enforced";
}

TEST_F(SchemaTest, AnUnknownStateOrPriorityIsRejected) {
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

TEST_F(SchemaTest, RecipientsOfAMessageAndOfADomainUseAnIndex) {
  auto db = open_db();
  ASSERT_TRUE(db);
  for (const char* sql :
       {"SELECT id FROM recipients WHERE message = 1",
        "SELECT count(*) FROM recipients WHERE domain = 'a.example' AND state = 'queued'",
        "SELECT at FROM events WHERE at >= 100"}) {
    std::string plan = query_plan(*db, sql);
    EXPECT_TRUE(uses_index(plan)) << sql << "\ngot plan:\n" << plan;
  }
}

TEST_F(SchemaTest, MigratingTwiceIsHarmless) {
  auto db = open_db();
  ASSERT_TRUE(db);
  Status again = migrate_schema(*db);
  EXPECT_TRUE(again) << again.error().message;
  EXPECT_EQ(db->schema_version(), current_schema_version());
}

}  // namespace
}  // namespace etrn
