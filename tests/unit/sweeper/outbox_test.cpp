// outbox_test.cpp - the spool: durable writes, nothing left behind when a
// DSN cannot be built, batches where one DSN fails, and the clean-up of
// spool files at the end of a run and after a crash.
#include "sweeper/outbox.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

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

class OutboxBatchTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    db = open_db();
    ASSERT_NE(db, nullptr);
    std::vector<MessageToRecord> items;
    for (const char* qid : {"4AbC1", "4AbC2", "4AbC3"})
      items.push_back(testing::sample_message(qid, 1800000000, {"bob@customer.example"}));
    auto recorded = record_messages(*db, items, RecordSource::milter, 1800000000);
    ASSERT_TRUE(recorded.ok());
    ids = *recorded;
  }

  std::vector<DsnJob> jobs(bool second_fails) {
    std::vector<DsnJob> out;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      DsnRequest request{ids[i],
                         "4AbC" + std::to_string(i + 1),
                         "s" + std::to_string(i) + "@x",
                         OutboxKind::failed,
                         {ids[i]},
                         "mx.example"};
      const bool fail = second_fails && i == 1;
      out.push_back({request, [fail](const std::string& id) {
                       return fail ? Result<std::string>(make_error("cannot build"))
                                   : Result<std::string>("Message-ID: <" + id + ">\n\nx\n");
                     }});
    }
    return out;
  }

  std::size_t spool_files() const {
    const auto d = dir_ / "outgoing";
    if (!std::filesystem::exists(d)) return 0;
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(d),
                                                  std::filesystem::directory_iterator()));
  }

  std::unique_ptr<Database> db;
  std::vector<std::int64_t> ids;
};

TEST_F(OutboxBatchTest, ABuilderErrorFailsOnlyItsOwnJob) {
  testing::FakeMta mta((dir_ / "calls.log").string());
  Outbox outbox(*db, mta, (dir_ / "outgoing").string());
  auto rows = outbox.enqueue_all(jobs(true), 1);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(rows[0].ok() && rows[2].ok());
  ASSERT_FALSE(rows[1].ok());
  EXPECT_EQ(rows[1].error().message, "cannot build");
  EXPECT_EQ(rows[2]->id, rows[0]->id + 1) << "outbox ids stay dense";
  EXPECT_EQ(testing::count_rows(*db, "SELECT count(*) FROM outbox"), 2);
  EXPECT_EQ(spool_files(), 2u);
}

TEST_F(OutboxBatchTest, DeliversABatchAndDeletesItsFilesOnlyAtTheEndOfTheRun) {
  testing::FakeMta mta((dir_ / "calls.log").string());
  mta.refuse_dsn_to = "s1@x";
  Outbox outbox(*db, mta, (dir_ / "outgoing").string());
  std::vector<OutboxRow> rows;
  for (auto& row : outbox.enqueue_all(jobs(false), 1)) rows.push_back(*row);
  auto delivered = outbox.deliver_all(rows, 2);
  ASSERT_EQ(delivered.size(), 3u);
  EXPECT_TRUE(delivered[0].ok() && delivered[2].ok());
  EXPECT_FALSE(delivered[1].ok()) << "the refused one is an error of its own";
  EXPECT_EQ(testing::count_rows(*db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL"), 1);
  EXPECT_EQ(spool_files(), 3u) << "two .sent markers and the unsent file, until the run ends";
  outbox.remove_finished_files();
  EXPECT_EQ(spool_files(), 1u) << "only the unsent DSN's file stays";
}

TEST_F(OutboxBatchTest, RecoveryDeletesFilesThatNoUnsentRowNames) {
  testing::FakeMta mta((dir_ / "calls.log").string());
  Outbox outbox(*db, mta, (dir_ / "outgoing").string());
  std::vector<OutboxRow> rows;
  for (auto& row : outbox.enqueue_all(jobs(false), 1)) rows.push_back(*row);
  outbox.deliver_all(rows, 2);  // finished, but the run "dies" before deleting the files
  std::ofstream(dir_ / "outgoing" / "99.eml") << "written by a run that died before its commit";
  ASSERT_EQ(spool_files(), 4u);
  Outbox next_run(*db, mta, (dir_ / "outgoing").string());
  auto recovered = next_run.recover(3);
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(*recovered, 0);
  EXPECT_EQ(spool_files(), 0u);
}

}  // namespace
}  // namespace etrn
