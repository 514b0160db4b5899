// outbox_test.cpp - the outbox, on both engines: the DSN text kept in its row, nothing left
// behind when a DSN cannot be built, batches where one DSN fails, sent
// logs deleted at the end of a run, crash recovery from a killed child's
// log, and schema v3 rows with a spool file.
#include "sweeper/outbox.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "sweeper/refusal.hpp"
#include "tests/unit/common/store/test_database.hpp"
#include "tests/unit/sweeper/fake_mta.hpp"

namespace etrn {
namespace {

class OutboxBatchTest : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
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
                         DsnKind::failed,
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

  // The recorded messages, still in the fake MTA's queue (recovery checks).
  static void queue_all(testing::FakeMta& mta) {
    for (const char* qid : {"4AbC1", "4AbC2", "4AbC3"}) {
      mta.queue.push_back(QueuedMessage{"hold",
                                        qid,
                                        1800000000,
                                        1,
                                        "alice@sender.example",
                                        false,
                                        {{"bob@customer.example", ""}}});
    }
  }

  // An outbox over `mta`, as a sweep makes it.
  Outbox outbox_of(testing::FakeMta& mta) {
    refusals = std::make_unique<RefusalHandler>(*db, mta, "postmaster", "mx.example");
    return Outbox(*db, mta, (dir_ / "outgoing").string(), *refusals);
  }

  std::unique_ptr<Database> db;
  std::vector<std::int64_t> ids;
  std::unique_ptr<RefusalHandler> refusals;
};
ETRN_ON_BOTH_ENGINES(OutboxBatchTest);

TEST_P(OutboxBatchTest, ABuilderErrorLeavesNoRowAndNoFile) {
  testing::FakeMta mta((dir_ / "calls.log").string());
  Outbox outbox = outbox_of(mta);
  DsnRequest request{ids[0], "4AbC1", "alice@sender.example", DsnKind::failed, {1}, "mx.example"};
  auto row = outbox.enqueue(
      request, [](const std::string&) { return Result<std::string>(make_error("no")); }, 1);
  EXPECT_FALSE(row.ok());
  EXPECT_EQ(testing::count_rows(*db, "SELECT count(*) FROM outbox"), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "outgoing"))
      << "nothing is written outside the database";
}

TEST_P(OutboxBatchTest, TheDsnMessageIdNamesKindOutboxIdAndQueueId) {
  testing::FakeMta mta((dir_ / "calls.log").string());
  Outbox outbox = outbox_of(mta);
  DsnRequest request{ids[0], "4AbC1", "alice@sender.example", DsnKind::delayed, {1}, "mx.example"};
  auto row = outbox.enqueue(
      request,
      [](const std::string& id) { return Result<std::string>("Message-ID: <" + id + ">\n"); }, 1);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->dsn_message_id, "etrn-delayed-1.4AbC1@mx.example");
  const auto unsent = unsent_outbox(*db);
  ASSERT_EQ(unsent.size(), 1u);
  EXPECT_EQ(unsent[0].dsn_text, "Message-ID: <etrn-delayed-1.4AbC1@mx.example>\n")
      << "the DSN's text is in its row until it is sent";
}

TEST_P(OutboxBatchTest, ABuilderErrorFailsOnlyItsOwnJob) {
  testing::FakeMta mta((dir_ / "calls.log").string());
  Outbox outbox = outbox_of(mta);
  auto rows = outbox.enqueue_all(jobs(true), 1);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(rows[0].ok() && rows[2].ok());
  ASSERT_FALSE(rows[1].ok());
  EXPECT_EQ(rows[1].error().message, "cannot build");
  EXPECT_EQ(rows[2]->id, rows[0]->id + 1) << "outbox ids stay dense";
  EXPECT_EQ(testing::count_rows(*db, "SELECT count(*) FROM outbox"), 2);
  EXPECT_EQ(spool_files(), 0u);
}

TEST_P(OutboxBatchTest, DeliversABatchAndDeletesItsSentLogOnlyAtTheEndOfTheRun) {
  testing::FakeMta mta((dir_ / "calls.log").string());
  mta.refuse_dsn_to = "s1@x";
  Outbox outbox = outbox_of(mta);
  std::vector<OutboxRow> rows;
  for (auto& row : outbox.enqueue_all(jobs(false), 1)) rows.push_back(*row);
  auto delivered = outbox.deliver_all(rows, 2);
  ASSERT_EQ(delivered.size(), 3u);
  EXPECT_EQ(delivered[0].fate, DsnFate::sent);
  EXPECT_EQ(delivered[2].fate, DsnFate::sent);
  EXPECT_EQ(delivered[1].fate, DsnFate::retrying) << "the failed one waits in the outbox";
  EXPECT_EQ(testing::count_rows(*db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL"), 1);
  EXPECT_EQ(testing::count_rows(*db, "SELECT count(*) FROM outbox WHERE dsn_text IS NOT NULL"), 1)
      << "a sent DSN's text is dropped";
  EXPECT_EQ(spool_files(), 1u) << "the child's sent log, until the run ends";
  outbox.remove_finished_files();
  EXPECT_EQ(spool_files(), 0u);
}

TEST_P(OutboxBatchTest, RecoveryDeletesFilesThatNoUnsentRowNames) {
  testing::FakeMta mta((dir_ / "calls.log").string());
  Outbox outbox = outbox_of(mta);
  std::vector<OutboxRow> rows;
  for (auto& row : outbox.enqueue_all(jobs(false), 1)) rows.push_back(*row);
  outbox.deliver_all(rows, 2);  // finished, but the run "dies" before deleting its log
  std::ofstream(dir_ / "outgoing" / "99.eml") << "a finished DSN's file from schema v3";
  ASSERT_EQ(spool_files(), 2u);
  Outbox next_run = outbox_of(mta);
  Recovery recovered = next_run.recover(3);
  EXPECT_TRUE(recovered.problems.empty());
  EXPECT_EQ(recovered.finished, 0);
  EXPECT_EQ(spool_files(), 0u);
}

TEST_P(OutboxBatchTest, RecoveryFinalizesWhatAKilledChildLoggedAndResendsTheRest) {
  testing::FakeMta mta((dir_ / "calls.log").string());
  Outbox outbox = outbox_of(mta);
  std::vector<OutboxRow> rows;
  for (auto& row : outbox.enqueue_all(jobs(false), 1)) rows.push_back(*row);
  // The child got the first accepted, logged it, then died mid-line.
  std::filesystem::create_directories(dir_ / "outgoing");
  std::ofstream(dir_ / "outgoing" / "sent-1-0.log") << rows[0].id << "\n" << rows[1].id;
  queue_all(mta);
  Outbox next_run = outbox_of(mta);
  Recovery recovered = next_run.recover(3);
  EXPECT_TRUE(recovered.problems.empty()) << recovered.problems.front();
  EXPECT_EQ(recovered.finished, 3);
  const auto calls = mta.calls();
  // Recovery addresses each DSN to the recipient recorded with it.
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "submit s1@x with-id"), 1)
      << "the torn line is no acceptance";
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "submit s2@x with-id"), 1);
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "submit s0@x with-id"), 0)
      << "the logged one is not resent";
  EXPECT_EQ(testing::count_rows(*db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL"), 0);
}

TEST_P(OutboxBatchTest, RecoveryReadsARowFromSchemaV3WithItsSpoolFile) {
  testing::FakeMta mta((dir_ / "calls.log").string());
  std::filesystem::create_directories(dir_ / "outgoing");
  OutboxRow old;
  old.id = 1;
  old.message_id = ids[0];
  old.recipient_ids = {ids[0]};
  old.dsn_message_id = "etrn-failed-1.4AbC1@mx.example";
  old.spool_path = (dir_ / "outgoing" / "1.eml").string();
  insert_outbox(*db, old);
  std::ofstream(old.spool_path) << "Message-ID: <" << old.dsn_message_id << ">\n\nold\n";
  queue_all(mta);
  Outbox outbox = outbox_of(mta);
  Recovery recovered = outbox.recover(3);
  EXPECT_TRUE(recovered.problems.empty()) << recovered.problems.front();
  const auto calls = mta.calls();
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "submit alice@sender.example with-id"), 1)
      << "the text came from the spool file";
  EXPECT_EQ(testing::count_rows(*db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL"), 0);
}

}  // namespace
}  // namespace etrn
