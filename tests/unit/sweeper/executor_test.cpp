// executor_test.cpp - the executor and the outbox with a fake MTA and a
// real database (SQLite and PostgreSQL): the expiry protocol (hold, read
// again, DSN, remove from hold; a message that moved on or is another one
// is left alone), the DSN to the sender as queued, a refused DSN retried as headers only and then
// kept on hold for a person, temporary failures with backoff, crash
// recovery with and without a sent log, a split re-injecting its
// survivors in chunks before any DSN, and putting the original back when
// that fails.
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

class ExecutorTest : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
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
    for (const auto& a : etrn) q.recipients.push_back({a});
    for (const auto& a : others) q.recipients.push_back({a, ""});
    mta_->queue.push_back(q);
  }

  // One run as the sweep command does it: recover, read, plan, execute.
  RunSummary run(EpochSeconds now) {
    RefusalHandler refusals(*db_, *mta_, "postmaster@provider.example", "mx.provider.example");
    Outbox outbox(*db_, *mta_, spool(), refusals);
    Recovery recovered = outbox.recover(now);
    PlanInput input;
    input.now = now;
    input.real_now = kArrival + 1000 * kHour;
    input.recorded = load_open_messages(*db_);
    for (std::int64_t id : in_flight_recipient_ids(*db_)) input.in_flight.insert(id);
    input.queue = mta_->queue;
    Executor executor(config_, *db_, *mta_, outbox, refusals, "mx.provider.example",
                      ExecutorClock{now, input.real_now});
    RunSummary summary = executor.execute(plan_sweep(config_, input));
    outbox.remove_finished_files();
    summary.recovered = recovered.finished;
    for (const std::string& problem : recovered.problems) summary.errors.push_back(problem);
    return summary;
  }

  std::int64_t count_calls(const std::string& prefix) const {
    auto calls = mta_->calls();
    return std::count_if(calls.begin(), calls.end(),
                         [&](const std::string& c) { return c.rfind(prefix, 0) == 0; });
  }
  std::int64_t rows(const std::string& sql) { return count_rows(*db_, sql); }

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
    RefusalHandler refusals(*db_, *mta_, "postmaster", "mx.provider.example");
    Outbox outbox(*db_, *mta_, spool(), refusals);
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
ETRN_ON_BOTH_ENGINES(ExecutorTest);

TEST_P(ExecutorTest, HoldsReadsAgainThenSendsTheDsnAndOnlyThenRemovesFromHold) {
  record_and_queue({"bob@customer.example", "carol@customer.example"});
  RunSummary summary = run(kArrival + 49 * kHour);
  EXPECT_TRUE(summary.errors.empty()) << summary.to_string();
  EXPECT_EQ(submits(), 1) << "one DSN for both recipients";
  const auto hold = index_of("hold_all 4AbC1"), read = index_of("read_held 1"),
             submit = index_of("submit alice@sender.example with-id"),
             remove = index_of("remove_held 4AbC1");
  EXPECT_TRUE(hold >= 0 && hold < read && read < submit && submit < remove)
      << "got hold " << hold << ", read " << read << ", submit " << submit << ", remove " << remove;
  EXPECT_EQ(index_of("remove 4AbC1"), -1) << "never removed from anywhere but hold";
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_audit WHERE state = 'expired'"), 2);
  EXPECT_EQ(rows("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"), 1);
  EXPECT_EQ(rows("SELECT count(*) FROM messages WHERE done_at IS NOT NULL"), 1);
  EXPECT_TRUE(std::filesystem::is_empty(spool())) << "the spool file is deleted after finalizing";
}

TEST_P(ExecutorTest, TheHoldIsOnRecordBeforeTheMtaIsAskedAndForgottenWithTheMessage) {
  record_and_queue({"bob@customer.example"});
  mta_->moved_on = {"4AbC1"};  // hold_all will not confirm it
  RunSummary summary = run(kArrival + 49 * kHour);
  EXPECT_TRUE(summary.errors.empty()) << "a message that moved into delivery is no error";
  EXPECT_EQ(submits(), 0) << "no DSN for what may be delivered right now";
  EXPECT_EQ(index_of("remove_held"), -1);
  EXPECT_EQ(rows("SELECT count(*) FROM messages WHERE held_by_sweeper_at IS NOT NULL"), 0)
      << "the mark goes when the hold was not confirmed";
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_audit WHERE state = 'queued'"), 1)
      << "left for the next run, not departed";
  mta_->moved_on.clear();
  run(kArrival + 50 * kHour);
  EXPECT_EQ(submits(), 1);
  EXPECT_TRUE(mta_->queue.empty());
}

TEST_P(ExecutorTest, AQueueIdThatNowNamesAnotherMessageIsPutBackUntouched) {
  record_and_queue({"bob@customer.example"});
  mta_->reused = {"4AbC1"};
  RunSummary summary = run(kArrival + 49 * kHour);
  EXPECT_TRUE(summary.errors.empty()) << summary.to_string();
  EXPECT_EQ(submits(), 0);
  EXPECT_GT(index_of("release 4AbC1"), index_of("read_held")) << "back where the sweeper found it";
  ASSERT_EQ(mta_->queue.size(), 1u);
  EXPECT_FALSE(mta_->queue[0].held);
  EXPECT_EQ(rows("SELECT count(*) FROM messages WHERE held_by_sweeper_at IS NOT NULL"), 0);
}

TEST_P(ExecutorTest, TheDsnGoesToTheSenderAsTheMtaQueuedIt) {
  record_and_queue({"bob@customer.example"});
  db_->exec("UPDATE messages SET sender = 'alice'");    // MAIL FROM:<alice>, as the milter saw it
  mta_->queue[0].sender = "alice@mx.provider.example";  // what Postfix queued (myorigin)
  RunSummary summary = run(kArrival + 49 * kHour);
  EXPECT_TRUE(summary.errors.empty()) << summary.to_string();
  EXPECT_GE(index_of("submit alice@mx.provider.example with-id"), 0);
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_events WHERE kind = 'expired' AND detail LIKE "
                 "'no DSN%'"),
            0)
      << "never removed without a DSN";
  EXPECT_TRUE(mta_->queue.empty());
}

TEST_P(ExecutorTest, OnlyRecipientsStillInTheHeldCopyAreBounced) {
  record_and_queue({"bob@customer.example", "carol@customer.example"});
  mta_->queue[0].recipients.pop_back();  // carol delivered between listing and hold
  QueuedMessage listed = mta_->queue[0];
  listed.recipients.push_back({"carol@customer.example", ""});
  RefusalHandler refusals(*db_, *mta_, "postmaster", "mx.provider.example");
  Outbox real(*db_, *mta_, spool(), refusals);
  PlanInput input;
  input.now = kArrival + 49 * kHour;
  input.real_now = kArrival + 1000 * kHour;
  input.recorded = load_open_messages(*db_);
  input.queue = {listed};  // the listing still had carol
  Executor executor(config_, *db_, *mta_, real, refusals, "mx.provider.example",
                    ExecutorClock{input.now, input.real_now});
  RunSummary summary = executor.execute(plan_sweep(config_, input));
  EXPECT_TRUE(summary.errors.empty()) << summary.to_string();
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_events WHERE kind = 'bounce_sent'"), 1);
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_audit WHERE recipient = 'carol@customer.example'"
                 " AND state = 'queued'"),
            1)
      << "carol was not bounced: she had left the queue";
}

TEST_P(ExecutorTest, ManyExpiredMessagesGoInBatchesAndAFailingDsnKeepsOnlyItsMessage) {
  const int n = 2 * static_cast<int>(kExpiryBatchSize) + 17;
  std::vector<MessageToRecord> items;
  for (int i = 0; i < n; ++i) {
    const std::string qid = "5Bat" + std::to_string(100000 + i);
    items.push_back(testing::sample_message(qid, kArrival, {"bob@customer.example"}));
    items.back().message.envelope.sender = "s" + std::to_string(i) + "@sender.example";
    QueuedMessage q{"deferred", qid, kArrival + 1, 500, items.back().message.envelope.sender,
                    false,      {}};
    q.recipients.push_back({"bob@customer.example"});
    mta_->queue.push_back(q);
  }
  ASSERT_TRUE(record_messages(*db_, items, RecordSource::milter, kArrival));
  mta_->refuse_dsn_to = "s7@sender.example";

  RunSummary summary = run(kArrival + 49 * kHour);

  EXPECT_EQ(summary.counts.dsns_sent, n - 1) << summary.to_string();
  EXPECT_EQ(summary.counts.removed, n - 1);
  EXPECT_EQ(summary.counts.errors, 1) << "the one that failed";
  ASSERT_EQ(summary.errors.size(), 1u) << summary.to_string();
  EXPECT_EQ(summary.errors[0].rfind("5Bat100007: ", 0), 0u) << summary.errors[0];
  ASSERT_EQ(mta_->queue.size(), 1u) << "only the message whose DSN failed stays";
  EXPECT_EQ(mta_->queue[0].queue_id, "5Bat100007");
  EXPECT_TRUE(mta_->queue[0].held) << "on hold: it was bounced, its DSN is in flight";
  auto children = [](std::size_t rows) {
    return std::clamp<std::size_t>(rows / kRowsPerSubmissionChild, 1, kSubmissionChildren);
  };
  EXPECT_EQ(static_cast<std::size_t>(count_calls("open_dsn_submitter")),
            2 * children(kExpiryBatchSize) + children(17))
      << "a few submission children per batch, one submitter each";
  EXPECT_EQ(count_calls("hold_all"), 3) << "one hold per batch";
  EXPECT_EQ(count_calls("read_held " + std::to_string(kExpiryBatchSize)), 2);
  EXPECT_EQ(count_calls("read_held 17"), 1);
  EXPECT_EQ(count_calls("remove_held"), 3) << "one removal per batch";
  EXPECT_LT(index_of("submit s99@"), index_of("remove_held 5Bat100000"))
      << "a batch's DSNs all go before its removal";
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_audit WHERE state = 'expired'"), n - 1);
  EXPECT_EQ(rows("SELECT count(*) FROM outbox WHERE sent_at IS NULL"), 1);
}

TEST_P(ExecutorTest, ASecondRunSendsNothing) {
  record_and_queue({"bob@customer.example"});
  run(kArrival + 49 * kHour);
  RunSummary second = run(kArrival + 50 * kHour);
  EXPECT_EQ(submits(), 1);
  EXPECT_EQ(second.counts.dsns_sent, 0);
}

TEST_P(ExecutorTest, AFailedSubmissionRemovesNothingAndIsRetriedWhenDue) {
  record_and_queue({"bob@customer.example"});
  mta_->fail_submit = true;
  RunSummary failed = run(kArrival + 49 * kHour);
  EXPECT_EQ(failed.errors.size(), 1u) << failed.to_string();
  EXPECT_EQ(index_of("remove_held"), -1) << "removed although the MTA did not take the DSN";
  EXPECT_EQ(rows("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND attempts = 1"), 1);
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_events WHERE kind = 'dsn_deferred'"), 1);
  mta_->fail_submit = false;
  RunSummary early = run(kArrival + 49 * kHour + 10 * 60);
  EXPECT_TRUE(early.errors.empty()) << early.to_string();
  EXPECT_EQ(submits(), 1) << "not retried before its next attempt (15 minutes)";
  EXPECT_EQ(index_of("release"), -1) << "in flight: it stays on hold";
  RunSummary retried = run(kArrival + 49 * kHour + 16 * 60);
  EXPECT_TRUE(retried.errors.empty()) << retried.to_string();
  EXPECT_EQ(submits(), 2) << "one failed, one accepted";
  EXPECT_EQ(rows("SELECT count(*) FROM outbox"), 1) << "the retry reuses the outbox row";
  EXPECT_GE(index_of("remove_held 4AbC1"), 0);
}

TEST_P(ExecutorTest, ADsnThatKeepsFailingIsGivenUpAfterSixAttempts) {
  record_and_queue({"bob@customer.example"});
  mta_->fail_submit = true;
  EpochSeconds now = kArrival + 49 * kHour;
  for (int attempt = 1; attempt <= kMaxDsnAttempts; ++attempt) {
    run(now);
    now += retry_delay(attempt);
  }
  EXPECT_EQ(count_calls("submit alice@sender.example"), kMaxDsnAttempts + 1)
      << "six attempts, then once more as headers only";
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_audit WHERE state = 'attention'"), 1);
  EXPECT_EQ(rows("SELECT count(*) FROM outbox WHERE closed_at IS NOT NULL"), 1);
  EXPECT_FALSE(mta_->queue.empty()) << "kept on hold";
}

TEST(RetryDelay, StartsAtAQuarterHourAndDoublesUpToFourHours) {
  EXPECT_EQ(retry_delay(1), 15 * 60);
  EXPECT_EQ(retry_delay(2), 30 * 60);
  EXPECT_EQ(retry_delay(3), 60 * 60);
  EXPECT_EQ(retry_delay(5), 4 * 3600);
  EXPECT_EQ(retry_delay(9), 4 * 3600);
}

TEST_P(ExecutorTest, ADsnRefusedWithTheWholeOriginalGoesOutWithItsHeadersOnly) {
  record_and_queue({"bob@customer.example"});
  mta_->refuse_whole_to = "alice@sender.example";
  RunSummary summary = run(kArrival + 49 * kHour);
  EXPECT_TRUE(summary.errors.empty() && summary.need_a_person.empty()) << summary.to_string();
  EXPECT_EQ(index_of("submit alice@sender.example with-id whole"), index_of("submit"))
      << "first with the whole message";
  EXPECT_EQ(count_calls("submit alice@sender.example with-id"), 2);
  EXPECT_EQ(rows("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND headers_only = 1"), 1);
  EXPECT_TRUE(mta_->queue.empty()) << "removed once the DSN went out";
}

TEST_P(ExecutorTest, ADsnRefusedEvenAsHeadersOnlyKeepsItsMessageOnHoldForAPerson) {
  record_and_queue({"bob@customer.example"});
  QueuedMessage other{"deferred", "6OtHeR", kArrival + 1, 500, "dave@sender.example", false, {}};
  other.recipients.push_back({"carol@customer.example"});
  mta_->queue.push_back(other);
  MessageToRecord item = testing::sample_message("6OtHeR", kArrival, {"carol@customer.example"});
  item.message.envelope.sender = "dave@sender.example";
  ASSERT_TRUE(record_messages(*db_, std::span<const MessageToRecord>(&item, 1),
                              RecordSource::milter, kArrival));
  mta_->refuse_for_good = "alice@sender.example";

  RunSummary summary = run(kArrival + 49 * kHour);

  EXPECT_EQ(summary.need_a_person, std::vector<std::string>{"4AbC1"}) << summary.to_string();
  ASSERT_NE(mta_->find("4AbC1"), nullptr) << "never removed without a DSN";
  EXPECT_TRUE(mta_->find("4AbC1")->held) << "kept on hold";
  EXPECT_EQ(mta_->find("6OtHeR"), nullptr) << "the other message still expired";
  EXPECT_EQ(count_calls("submit alice@sender.example"), 2) << "whole, then headers only";
  EXPECT_GE(index_of("submit postmaster@provider.example with-id"), 0) << "the postmaster is told";
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_audit WHERE state = 'attention'"), 1);
  for (const char* kind : {"dsn_refused", "attention", "postmaster_notified"})
    EXPECT_EQ(rows(std::string("SELECT count(*) FROM etrn_events WHERE kind = '") + kind + "'"), 1)
        << kind;

  RunSummary later = run(kArrival + 60 * kHour);
  EXPECT_EQ(count_calls("submit alice@sender.example"), 2) << "nothing more is tried";
  EXPECT_EQ(later.need_a_person, std::vector<std::string>{"4AbC1"}) << "still needs a person";
  EXPECT_TRUE(later.errors.empty()) << later.to_string();
}

TEST_P(ExecutorTest, ASenderNoDsnCanBeAddressedToIsKeptOnHoldForAPersonNotRemoved) {
  record_and_queue({"bob@customer.example"});
  mta_->queue[0].sender = "al\x01ice@sender.example";
  db_->prepare("UPDATE messages SET sender = ?1").bind(1, "al\x01ice@sender.example").run();
  RunSummary summary = run(kArrival + 49 * kHour);
  EXPECT_EQ(summary.need_a_person, std::vector<std::string>{"4AbC1"}) << summary.to_string();
  EXPECT_EQ(count_calls("submit al"), 0) << "no DSN can be built";
  EXPECT_EQ(index_of("remove_held"), -1);
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_audit WHERE state = 'attention'"), 1);
  EXPECT_EQ(rows("SELECT count(*) FROM outbox"), 0);
  EXPECT_GE(index_of("submit postmaster@provider.example"), 0);
}

TEST_P(ExecutorTest, RecoveryWithTheIdInASentLogFinalizesWithoutResubmitting) {
  record_and_queue({"bob@customer.example"});
  OutboxRow row = enqueue_failed_dsn();
  std::filesystem::create_directories(spool());
  std::ofstream(spool() + "/sent-" + std::to_string(row.id) + "-0.log") << row.id << "\n";
  run(kArrival + 49 * kHour);
  EXPECT_EQ(submits(), 0) << "the MTA had accepted it already";
  EXPECT_EQ(rows("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"), 1);
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_events WHERE kind = 'bounce_sent'"), 1);
  EXPECT_GE(index_of("remove_held 4AbC1"), 0) << "removed once the DSN is on record";
}

TEST_P(ExecutorTest, RecoveryWithoutTheSentMarkerSubmitsAgainOnce) {
  record_and_queue({"bob@customer.example"});
  enqueue_failed_dsn();
  run(kArrival + 49 * kHour);
  EXPECT_EQ(submits(), 1) << "resubmitted by recovery, not planned a second time";
  EXPECT_EQ(rows("SELECT count(*) FROM outbox"), 1);
  EXPECT_LT(index_of("envelope 4AbC1"), index_of("submit")) << "still queued? checked first";
}

TEST_P(ExecutorTest, RecoveryDoesNotSendTheFailureDsnOfAMessageThatLeftTheQueue) {
  record_and_queue({"bob@customer.example"});
  enqueue_failed_dsn();
  mta_->queue.clear();  // delivered (or deleted by an admin) before the DSN went out
  RunSummary summary = run(kArrival + 49 * kHour);
  EXPECT_EQ(submits(), 0) << "the sender of delivered mail must not hear it failed";
  EXPECT_TRUE(summary.errors.empty()) << summary.to_string();
  EXPECT_EQ(rows("SELECT count(*) FROM outbox WHERE closed_at IS NOT NULL"), 1);
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_events WHERE kind = 'dsn_dropped'"), 1);
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_audit WHERE state = 'departed'"), 1)
      << "then it departs as usual";
}

TEST_P(ExecutorTest, ASplitHoldsReinjectsThenBouncesThenRemovesFromHold) {
  record_and_queue({"bob@customer.example"}, {"dave@elsewhere.example"});
  RunSummary summary = run(kArrival + 49 * kHour);
  EXPECT_TRUE(summary.errors.empty()) << summary.to_string();
  const auto hold = index_of("hold_all 4AbC1"), submit = index_of("submit"),
             reinject = index_of("reinject");
  const auto remove = index_of("remove_held 4AbC1");
  EXPECT_TRUE(hold >= 0 && hold < reinject && reinject < submit && submit < remove)
      << "got hold " << hold << ", reinject " << reinject << ", submit " << submit << ", remove "
      << remove;
  auto calls = mta_->calls();
  EXPECT_EQ(
      calls.at(reinject),
      "reinject alice@sender.example dave@elsewhere.example [X-ETRN-Sweeper-Reinjected: 4AbC1]");
  EXPECT_EQ(index_of("hold 9NeW1"), -1) << "the original was not an admin's hold";
}

TEST_P(ExecutorTest, ASplitWhoseReinjectionFailsPutsTheOriginalBackAndBouncesNobody) {
  record_and_queue({"bob@customer.example"}, {"dave@elsewhere.example"});
  mta_->reinjections_before_failure = 0;
  RunSummary summary = run(kArrival + 49 * kHour);
  ASSERT_EQ(summary.errors.size(), 1u) << summary.to_string();
  EXPECT_NE(summary.errors[0].find("nothing was bounced; the original went back"),
            std::string::npos)
      << summary.errors[0];
  EXPECT_EQ(submits(), 0);
  EXPECT_GT(index_of("release 4AbC1"), index_of("reinject"));
  EXPECT_FALSE(mta_->find("4AbC1")->held);
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_audit WHERE state = 'queued'"), 1);
}

TEST_P(ExecutorTest, ASplitReinjectsInChunksTheMtaAcceptsAndTakesThemBackIfOneFails) {
  std::vector<std::string> others;
  for (int i = 0; i < 5; ++i) others.push_back("u" + std::to_string(i) + "@elsewhere.example");
  record_and_queue({"bob@customer.example"}, others);
  mta_->recipient_limit = 2;
  mta_->reinjections_before_failure = 2;
  RunSummary failed = run(kArrival + 49 * kHour);
  EXPECT_EQ(count_calls("reinject"), 3) << "chunks of 2, the third refused";
  EXPECT_GE(index_of("remove 9NeW1"), 0) << "the copies made before are taken back";
  EXPECT_GE(index_of("remove 9NeW2"), 0);
  EXPECT_EQ(submits(), 0);
  EXPECT_EQ(failed.errors.size(), 1u) << failed.to_string();

  mta_->reinjections_before_failure = -1;
  RunSummary done = run(kArrival + 50 * kHour);
  EXPECT_TRUE(done.errors.empty()) << done.to_string();
  EXPECT_EQ(count_calls("reinject"), 6) << "three more chunks: 2, 2, 1";
  EXPECT_EQ(submits(), 1);
  EXPECT_EQ(mta_->find("4AbC1"), nullptr);
}

TEST_P(ExecutorTest, AnAdminsHoldIsPutOnTheSurvivorsCopyAndNeverLifted) {
  record_and_queue({"bob@customer.example"}, {"dave@elsewhere.example"});
  mta_->queue[0].queue_name = "hold";
  mta_->queue[0].held = true;
  RunSummary summary = run(kArrival + 49 * kHour);
  EXPECT_TRUE(summary.errors.empty()) << summary.to_string();
  EXPECT_GT(index_of("hold 9NeW1"), index_of("reinject")) << "the copy is held again";
  EXPECT_TRUE(mta_->find("9NeW1")->held);
  EXPECT_EQ(index_of("release"), -1);
  EXPECT_EQ(rows("SELECT count(*) FROM messages WHERE held_by_sweeper_at IS NOT NULL"), 0)
      << "an admin's hold is not the sweeper's";
}

TEST_P(ExecutorTest, AHeldOriginalThatCannotBeRemovedIsReportedWithTheMtasAdvice) {
  record_and_queue({"bob@customer.example"}, {"dave@elsewhere.example"});
  mta_->fail_remove = true;
  RunSummary summary = run(kArrival + 49 * kHour);
  ASSERT_EQ(summary.errors.size(), 1u) << summary.to_string();
  EXPECT_NE(summary.errors[0].find("removing it from hold failed (remove 4AbC1 from the MTA's "
                                   "queue by hand)"),
            std::string::npos)
      << summary.errors[0];
}

TEST_P(ExecutorTest, ARecordedSurvivorMovesToTheCopyWithItsClock) {
  config_.domain_policies = {
      DomainPolicy{"carol.customer.example", Seconds(100 * kHour), std::nullopt}};
  config_.etrn_domains.push_back("carol.customer.example");
  record_and_queue({"bob@customer.example", "carol@carol.customer.example"});
  run(kArrival + 49 * kHour);
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_audit WHERE queue_id = '9NeW1' AND state = 'warned'"
                 " AND arrival_time = " +
                 std::to_string(kArrival)),
            1);
  EXPECT_EQ(rows("SELECT count(*) FROM messages WHERE queue_id = '4AbC1' AND done_at IS NULL"), 0);
}

TEST_P(ExecutorTest, AWarnedMessageGoesBackIntoDeliveryAfterItsDelayDsn) {
  record_and_queue({"bob@customer.example"});
  RunSummary summary = run(kArrival + 5 * kHour);
  EXPECT_TRUE(summary.errors.empty()) << summary.to_string();
  const auto hold = index_of("hold_all 4AbC1"), submit = index_of("submit"),
             release = index_of("release 4AbC1");
  EXPECT_TRUE(hold >= 0 && hold < submit && submit < release)
      << "got hold " << hold << ", submit " << submit << ", release " << release;
  EXPECT_FALSE(mta_->find("4AbC1")->held);
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_audit WHERE state = 'warned'"), 1);
}

TEST_P(ExecutorTest, TheSweepersHoldFromARunThatDiedIsReleasedWhenNothingIsDue) {
  record_and_queue({"bob@customer.example"});
  mta_->queue[0].queue_name = "hold";
  mta_->queue[0].held = true;
  db_->exec("UPDATE messages SET held_by_sweeper_at = 1");
  RunSummary summary = run(kArrival + 1 * kHour);
  EXPECT_TRUE(summary.errors.empty()) << summary.to_string();
  EXPECT_GE(index_of("release 4AbC1"), 0);
  EXPECT_FALSE(mta_->find("4AbC1")->held);
  EXPECT_EQ(rows("SELECT count(*) FROM messages WHERE held_by_sweeper_at IS NOT NULL"), 0);
}

TEST_P(ExecutorTest, NullSenderMailIsRemovedWithoutADsn) {
  record_and_queue({"bob@customer.example"});
  db_->exec("UPDATE messages SET sender = ''");
  mta_->queue[0].sender = "";
  run(kArrival + 49 * kHour);
  EXPECT_EQ(submits(), 0);
  EXPECT_GE(index_of("remove_held 4AbC1"), 0);
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_events WHERE kind = 'expired'"
                 " AND detail = 'no DSN: null sender'"),
            1);
}

TEST_P(ExecutorTest, ACopyLeftByAnInterruptedRunIsUsedInsteadOfReinjectingAgain) {
  record_and_queue({"bob@customer.example"}, {"dave@elsewhere.example"});
  mta_->queue[0].queue_name = "hold";
  mta_->queue[0].held = true;
  db_->exec("UPDATE messages SET held_by_sweeper_at = 1");  // held by the run that died
  QueuedMessage copy{"deferred", "7CoPy1", kArrival + 49 * kHour, 500, "alice@sender.example",
                     false,      {}};
  copy.recipients.push_back({"dave@elsewhere.example", ""});
  mta_->queue.push_back(copy);
  mta_->contents["7CoPy1"] = "Received: by mx\nX-ETRN-Sweeper-Reinjected: 4AbC1\nSubject: hello\n";
  RunSummary summary = run(kArrival + 49 * kHour);
  EXPECT_TRUE(summary.errors.empty()) << summary.to_string();
  EXPECT_EQ(index_of("reinject"), -1) << "the survivors were re-injected already";
  EXPECT_EQ(index_of("hold 7CoPy1"), -1) << "the sweeper's hold is not put on the copy";
  EXPECT_GE(index_of("remove_held 4AbC1"), 0);
  EXPECT_NE(mta_->find("7CoPy1"), nullptr);
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
