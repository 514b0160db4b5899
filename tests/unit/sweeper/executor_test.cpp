// executor_test.cpp - the executor and the outbox with a fake MTA and a
// real SQLite file: the DSN is submitted before the message is removed,
// a failed submission removes nothing, crash recovery with and without
// a sent log, a second run sends nothing, a split re-injects the
// survivors with the marker header.
#include "sweeper/executor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "sweeper/planner.hpp"
#include "tests/unit/common/store/test_database.hpp"
#include "tests/unit/sweeper/fake_mta.hpp"

namespace etrn {
namespace {

using testing::count_rows;
using testing::FakeMta;

constexpr EpochSeconds kArrival = 1800000000;
constexpr EpochSeconds kHour = 3600;

class ExecutorTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    db_ = open_db();
    ASSERT_NE(db_, nullptr);
    config_.etrn_domains = {"customer.example"};
    config_.reporting_mta = "mx.provider.example";
    mta_ = std::make_unique<FakeMta>((dir_ / "calls.log").string());
  }

  void record_and_queue(std::vector<std::string> etrn, std::vector<std::string> others = {}) {
    MessageToRecord item = testing::sample_message("4AbC1", kArrival, etrn);
    ASSERT_TRUE(record_messages(*db_, std::span<const MessageToRecord>(&item, 1),
                                RecordSource::milter, kArrival));
    QueuedMessage q{"deferred", "4AbC1", kArrival + 1, 500, "alice@sender.example", false, {}};
    for (const auto& a : etrn) q.recipients.push_back({a, "deferred transport"});
    for (const auto& a : others) q.recipients.push_back({a, ""});
    mta_->queue.push_back(q);
  }

  // One run as the sweep command does it: recover, read, plan, execute.
  RunSummary run(EpochSeconds now) {
    Outbox outbox(*db_, *mta_, spool());
    auto recovered = outbox.recover(now);
    EXPECT_TRUE(recovered.ok()) << (recovered ? "" : recovered.error().message);
    PlanInput input;
    input.now = now;
    input.real_now = kArrival + 1000 * kHour;
    input.recorded = load_open_messages(*db_);
    input.queue = mta_->queue;
    Executor executor(config_, *db_, *mta_, outbox, "mx.provider.example",
                      ExecutorClock{now, input.real_now});
    RunSummary summary = executor.execute(plan_sweep(config_, input));
    outbox.remove_finished_files();
    return summary;
  }

  std::string spool() const { return (dir_ / "outgoing").string(); }
  std::int64_t submits() const {
    auto calls = mta_->calls();
    return std::count_if(calls.begin(), calls.end(),
                         [](const std::string& c) { return c.rfind("submit", 0) == 0; });
  }
  std::int64_t index_of(const std::string& prefix) const {
    auto calls = mta_->calls();
    for (std::size_t i = 0; i < calls.size(); ++i) {
      if (calls[i].rfind(prefix, 0) == 0) return static_cast<std::int64_t>(i);
    }
    return -1;
  }

  // An outbox row for a failure DSN to bob, left as a killed run would.
  OutboxRow enqueue_failed_dsn() {
    Outbox outbox(*db_, *mta_, spool());
    auto id = load_open_messages(*db_).at(0).id;
    auto rid = recipient_ids(*db_, id).at("bob@customer.example");
    DsnRequest request{
        id, "4AbC1", "alice@sender.example", DsnKind::failed, {rid}, "mx.provider.example"};
    auto row = outbox.enqueue(
        request,
        [](const std::string& mid) {
          return Result<std::string>("Message-ID: <" + mid + ">\n\nx\n");
        },
        kArrival + 49 * kHour);
    EXPECT_TRUE(row.ok());
    return *row;
  }

  Config config_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<FakeMta> mta_;
};

TEST_F(ExecutorTest, TheDsnIsSubmittedBeforeTheMessageIsRemoved) {
  record_and_queue({"bob@customer.example", "carol@customer.example"});
  RunSummary summary = run(kArrival + 49 * kHour);
  EXPECT_TRUE(summary.errors.empty()) << summary.to_string();
  EXPECT_EQ(submits(), 1) << "one DSN for both recipients";
  EXPECT_EQ(index_of("submit alice@sender.example with-id"), index_of("submit"));
  ASSERT_GE(index_of("remove 4AbC1"), 0);
  EXPECT_LT(index_of("submit"), index_of("remove 4AbC1")) << "got removal before the DSN";
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM etrn_audit WHERE state = 'expired'"), 2);
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"), 1);
  EXPECT_TRUE(std::filesystem::is_empty(spool())) << "the spool file is deleted after finalizing";
}

TEST_F(ExecutorTest, ManyExpiredMessagesGoInBatchesAndARefusedDsnKeepsOnlyItsMessage) {
  const int n = 2 * static_cast<int>(kExpiryBatchSize) + 17;
  std::vector<MessageToRecord> items;
  for (int i = 0; i < n; ++i) {
    const std::string qid = "5Bat" + std::to_string(100000 + i);
    items.push_back(testing::sample_message(qid, kArrival, {"bob@customer.example"}));
    items.back().message.envelope.sender = "s" + std::to_string(i) + "@sender.example";
    QueuedMessage q{"deferred", qid, kArrival + 1, 500, items.back().message.envelope.sender,
                    false,      {}};
    q.recipients.push_back({"bob@customer.example", "deferred transport"});
    mta_->queue.push_back(q);
  }
  ASSERT_TRUE(record_messages(*db_, items, RecordSource::milter, kArrival));
  mta_->refuse_dsn_to = "s7@sender.example";

  RunSummary summary = run(kArrival + 49 * kHour);

  EXPECT_EQ(summary.dsns_sent, n - 1) << summary.to_string();
  EXPECT_EQ(summary.removed, n - 1);
  ASSERT_EQ(summary.errors.size(), 1u) << summary.to_string();
  EXPECT_EQ(summary.errors[0].rfind("5Bat100007: ", 0), 0u) << summary.errors[0];
  ASSERT_EQ(mta_->queue.size(), 1u) << "only the message whose DSN was refused stays";
  EXPECT_EQ(mta_->queue[0].queue_id, "5Bat100007");
  const auto calls = mta_->calls();
  auto count = [&](const std::string& prefix) {
    return std::count_if(calls.begin(), calls.end(),
                         [&](const std::string& c) { return c.rfind(prefix, 0) == 0; });
  };
  auto children = [](std::size_t rows) {
    return std::clamp<std::size_t>(rows / kRowsPerSubmissionChild, 1, kSubmissionChildren);
  };
  EXPECT_EQ(static_cast<std::size_t>(count("open_dsn_submitter")),
            2 * children(kExpiryBatchSize) + children(17))
      << "a few submission children per batch, one submitter each";
  EXPECT_EQ(count("read_contents " + std::to_string(kExpiryBatchSize)), 2);
  EXPECT_EQ(count("read_contents 17"), 1);
  EXPECT_EQ(count("remove_all " + std::to_string(kExpiryBatchSize)), 1)
      << "the batch with the refused DSN removes one fewer";
  EXPECT_EQ(count("remove_all " + std::to_string(kExpiryBatchSize - 1)), 1);
  EXPECT_LT(index_of("submit s99@"), index_of("remove 5Bat100000"))
      << "a batch's DSNs all go before its first removal";
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM etrn_audit WHERE state = 'expired'"), n - 1);
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM outbox WHERE sent_at IS NULL"), 1);
}

TEST_F(ExecutorTest, ASecondRunSendsNothing) {
  record_and_queue({"bob@customer.example"});
  run(kArrival + 49 * kHour);
  RunSummary second = run(kArrival + 50 * kHour);
  EXPECT_EQ(submits(), 1);
  EXPECT_EQ(second.dsns_sent, 0);
}

TEST_F(ExecutorTest, AFailedSubmissionRemovesNothingAndTheNextRunRetries) {
  record_and_queue({"bob@customer.example"});
  mta_->fail_submit = true;
  RunSummary failed = run(kArrival + 49 * kHour);
  EXPECT_EQ(failed.errors.size(), 1u);
  EXPECT_EQ(index_of("remove"), -1) << "removed although the MTA did not take the DSN";
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM outbox WHERE sent_at IS NULL"), 1);
  mta_->fail_submit = false;
  RunSummary retried = run(kArrival + 50 * kHour);
  EXPECT_TRUE(retried.errors.empty()) << retried.to_string();
  EXPECT_EQ(submits(), 2) << "one refused, one accepted";
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM outbox"), 1)
      << "the retry reuses the outbox row";
  EXPECT_GE(index_of("remove 4AbC1"), 0);
}

TEST_F(ExecutorTest, RecoveryWithTheIdInASentLogFinalizesWithoutResubmitting) {
  record_and_queue({"bob@customer.example"});
  OutboxRow row = enqueue_failed_dsn();
  std::filesystem::create_directories(spool());
  std::ofstream(spool() + "/sent-" + std::to_string(row.id) + "-0.log") << row.id << "\n";
  run(kArrival + 49 * kHour);
  EXPECT_EQ(submits(), 0) << "the MTA had accepted it already";
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"), 1);
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM etrn_events WHERE kind = 'bounce_sent'"), 1);
  EXPECT_GE(index_of("remove 4AbC1"), 0) << "removed once the DSN is on record";
}

TEST_F(ExecutorTest, RecoveryWithoutTheSentMarkerSubmitsAgainOnce) {
  record_and_queue({"bob@customer.example"});
  enqueue_failed_dsn();
  run(kArrival + 49 * kHour);
  EXPECT_EQ(submits(), 1) << "resubmitted by recovery, not planned a second time";
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM outbox"), 1);
}

TEST_F(ExecutorTest, ASplitHoldsBouncesReinjectsThenRemoves) {
  record_and_queue({"bob@customer.example"}, {"dave@elsewhere.example"});
  RunSummary summary = run(kArrival + 49 * kHour);
  EXPECT_TRUE(summary.errors.empty()) << summary.to_string();
  const auto hold = index_of("hold 4AbC1"), submit = index_of("submit"),
             reinject = index_of("reinject");
  const auto remove = index_of("remove 4AbC1");
  EXPECT_TRUE(hold >= 0 && hold < submit && submit < reinject && reinject < remove)
      << "got hold " << hold << ", submit " << submit << ", reinject " << reinject << ", remove "
      << remove;
  auto calls = mta_->calls();
  EXPECT_EQ(
      calls.at(reinject),
      "reinject alice@sender.example dave@elsewhere.example [X-ETRN-Sweeper-Reinjected: 4AbC1]");
}

TEST_F(ExecutorTest, AHeldOriginalThatCannotBeRemovedIsReportedWithTheMtasAdvice) {
  record_and_queue({"bob@customer.example"}, {"dave@elsewhere.example"});
  mta_->fail_remove = true;
  RunSummary summary = run(kArrival + 49 * kHour);
  ASSERT_EQ(summary.errors.size(), 1u) << summary.to_string();
  EXPECT_NE(summary.errors[0].find("survivors re-injected as 9NeW1, but removing the held original "
                                   "failed (remove 4AbC1 from the MTA's queue by hand)"),
            std::string::npos)
      << summary.errors[0];
}

TEST_F(ExecutorTest, ARecordedSurvivorMovesToTheCopyWithItsClock) {
  config_.domain_policies = {
      DomainPolicy{"carol.customer.example", Seconds(100 * kHour), std::nullopt}};
  config_.etrn_domains.push_back("carol.customer.example");
  record_and_queue({"bob@customer.example", "carol@carol.customer.example"});
  run(kArrival + 49 * kHour);
  EXPECT_EQ(
      count_rows(*db_,
                 "SELECT count(*) FROM etrn_audit WHERE queue_id = '9NeW1' AND state = 'warned'"
                 " AND arrival_time = " +
                     std::to_string(kArrival)),
      1);
  EXPECT_EQ(count_rows(
                *db_, "SELECT count(*) FROM messages WHERE queue_id = '4AbC1' AND done_at IS NULL"),
            0);
}

TEST_F(ExecutorTest, NullSenderMailIsRemovedWithoutADsn) {
  record_and_queue({"bob@customer.example"});
  db_->exec("UPDATE messages SET sender = ''");
  run(kArrival + 49 * kHour);
  EXPECT_EQ(submits(), 0);
  EXPECT_GE(index_of("remove 4AbC1"), 0);
  EXPECT_EQ(count_rows(*db_,
                       "SELECT count(*) FROM etrn_events WHERE kind = 'expired'"
                       " AND detail = 'no DSN: null sender'"),
            1);
}

}  // namespace
}  // namespace etrn

namespace etrn {
namespace {

TEST_F(ExecutorTest, ASenderNoDsnCanBeAddressedToExpiresWithoutOneInsteadOfRetryingForever) {
  record_and_queue({"bob@customer.example"});
  db_->exec("UPDATE messages SET sender = 'al' || char(1) || 'ice@sender.example'");
  RunSummary summary = run(kArrival + 49 * kHour);
  EXPECT_TRUE(summary.errors.empty()) << summary.to_string();
  EXPECT_EQ(submits(), 0);
  EXPECT_GE(index_of("remove 4AbC1"), 0);
  EXPECT_EQ(
      count_rows(
          *db_,
          "SELECT count(*) FROM etrn_events WHERE kind = 'expired' AND detail LIKE 'no DSN: %'"),
      1);
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM outbox"), 0);
}

}  // namespace
}  // namespace etrn

namespace etrn {
namespace {

TEST_F(ExecutorTest, ACopyLeftByAnInterruptedRunIsUsedInsteadOfReinjectingAgain) {
  record_and_queue({"bob@customer.example"}, {"dave@elsewhere.example"});
  mta_->queue[0].queue_name = "hold";
  mta_->queue[0].held = true;
  QueuedMessage copy{"deferred", "7CoPy1", kArrival + 49 * kHour, 500, "alice@sender.example",
                     false,      {}};
  copy.recipients.push_back({"dave@elsewhere.example", ""});
  mta_->queue.push_back(copy);
  mta_->contents["7CoPy1"] = "Received: by mx\nX-ETRN-Sweeper-Reinjected: 4AbC1\nSubject: hello\n";
  RunSummary summary = run(kArrival + 49 * kHour);
  EXPECT_TRUE(summary.errors.empty()) << summary.to_string();
  EXPECT_EQ(index_of("reinject"), -1) << "the survivors were re-injected already";
  EXPECT_EQ(index_of("hold"), -1) << "the original was held already";
  EXPECT_GE(index_of("remove 4AbC1"), 0);
  EXPECT_EQ(index_of("remove 7CoPy1"), -1);
}

TEST(ReinjectedHeader, IsFoundOnlyInTheHeaderSectionWithTheRightQueueId) {
  EXPECT_TRUE(names_original("Received: x\nX-ETRN-Sweeper-Reinjected: 4AbC1\n", "4AbC1"));
  EXPECT_TRUE(names_original("x-etrn-sweeper-reinjected: 4AbC1\r\n\r\n", "4AbC1"));
  EXPECT_FALSE(names_original("X-ETRN-Sweeper-Reinjected: 4AbC2\n", "4AbC1"));
  EXPECT_FALSE(names_original("Subject: x\n\nX-ETRN-Sweeper-Reinjected: 4AbC1\n", "4AbC1"))
      << "body";
}

}  // namespace
}  // namespace etrn
