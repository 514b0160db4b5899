// outbox_test.cpp - the spool: durable writes, and nothing left behind
// when the DSN cannot be built.
#include "sweeper/outbox.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/unit/common/store/test_database.hpp"
#include "tests/unit/sweeper/fake_mta.hpp"

namespace etrn {
namespace {

class OutboxTest : public testing::TempDirTest {};

TEST_F(OutboxTest, WriteDurablyWritesTheWholeText) {
  const std::string path = (dir_ / "x.eml").string();
  ASSERT_TRUE(write_durably(path, "Subject: x\n\nbody\n").ok());
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "Subject: x\n\nbody\n");
  EXPECT_FALSE(write_durably((dir_ / "missing" / "x.eml").string(), "x").ok());
}

TEST_F(OutboxTest, ABuilderErrorLeavesNoRowAndNoFile) {
  auto db = open_db();
  ASSERT_NE(db, nullptr);
  MessageToRecord item = testing::sample_message("4AbC1", 1800000000, {"bob@customer.example"});
  auto ids = record_messages(*db, std::span<const MessageToRecord>(&item, 1), RecordSource::milter,
                             1800000000);
  ASSERT_TRUE(ids.ok());
  testing::FakeMta mta((dir_ / "calls.log").string());
  Outbox outbox(*db, mta, (dir_ / "outgoing").string());
  DsnRequest request{ids->front(),       "4AbC1", "alice@sender.example",
                     OutboxKind::failed, {1},     "mx.example"};
  auto row = outbox.enqueue(
      request, [](const std::string&) { return Result<std::string>(make_error("no")); }, 1);
  EXPECT_FALSE(row.ok());
  EXPECT_EQ(testing::count_rows(*db, "SELECT count(*) FROM outbox"), 0);
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "outgoing"));
}

TEST_F(OutboxTest, TheDsnMessageIdNamesKindOutboxIdAndQueueId) {
  auto db = open_db();
  ASSERT_NE(db, nullptr);
  MessageToRecord item = testing::sample_message("4AbC1", 1800000000, {"bob@customer.example"});
  auto ids = record_messages(*db, std::span<const MessageToRecord>(&item, 1), RecordSource::milter,
                             1800000000);
  ASSERT_TRUE(ids.ok());
  testing::FakeMta mta((dir_ / "calls.log").string());
  Outbox outbox(*db, mta, (dir_ / "outgoing").string());
  DsnRequest request{ids->front(),        "4AbC1", "alice@sender.example",
                     OutboxKind::delayed, {1},     "mx.example"};
  auto row = outbox.enqueue(
      request,
      [](const std::string& id) { return Result<std::string>("Message-ID: <" + id + ">\n"); }, 1);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->dsn_message_id, "etrn-delayed-1.4AbC1@mx.example");
  EXPECT_TRUE(std::filesystem::exists(row->spool_path));
}

}  // namespace
}  // namespace etrn
