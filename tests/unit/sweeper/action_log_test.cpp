// action_log_test.cpp - the sweeper's Postfix-style lines: warned,
// expired (with and without a DSN, with an ORCPT), departed, split,
// removed, attention.
#include "sweeper/action_log.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

constexpr EpochSeconds kArrival = 1'795'000'000;  // 2026-11-18T11:06:40Z
constexpr EpochSeconds kHour = 3600;

MessagePlan message() {
  MessagePlan m;
  m.queue_id = "4Xyz1abc";
  m.arrival_time = kArrival;
  m.envelope.sender = "alice@sender.example";
  return m;
}

RecipientPlan recipient(RecipientAction action) {
  RecipientPlan r;
  r.address = "bob@customer.example";
  r.domain = "customer.example";
  r.action = action;
  r.deadlines = Deadlines{kArrival + 4 * kHour, kArrival + 48 * kHour};
  return r;
}

TEST(RecipientActionLineTest, AnExpiryWithADsnNamesItsMessageId) {
  const std::string got =
      recipient_action_line(message(), recipient(RecipientAction::expire_dsn),
                            kArrival + 49 * kHour, "etrn-failed-7.4Xyz1abc@mx.example");
  const std::string want =
      "4Xyz1abc: to=<bob@customer.example>, relay=none, delay=176400, dsn=5.4.7, "
      "status=expired (customer.example did not collect its mail with ETRN within 2d), "
      "returned to sender <etrn-failed-7.4Xyz1abc@mx.example>";
  EXPECT_EQ(got, want);
}

TEST(RecipientActionLineTest, AnOrcptForAnotherAddressIsOrigTo) {
  RecipientPlan r = recipient(RecipientAction::expire_dsn);
  r.dsn.orcpt = "rfc822;Bob.Old@old.example";
  const std::string got = recipient_action_line(message(), r, kArrival + 49 * kHour, "id@mx");
  EXPECT_NE(got.find("to=<bob@customer.example>, orig_to=<Bob.Old@old.example>, relay=none, "),
            std::string::npos)
      << "got " << got;
}

TEST(RecipientActionLineTest, AnOrcptForTheSameAddressIsNotRepeated) {
  RecipientPlan r = recipient(RecipientAction::expire_dsn);
  r.dsn.orcpt = "rfc822;BOB@customer.example";
  const std::string got = recipient_action_line(message(), r, kArrival + 49 * kHour, "id@mx");
  EXPECT_EQ(got.find("orig_to="), std::string::npos) << "got " << got;
}

TEST(RecipientActionLineTest, AWarningSaysUntilWhenAndWhichDsnWent) {
  const std::string got =
      recipient_action_line(message(), recipient(RecipientAction::warn), kArrival + 5 * kHour,
                            "etrn-delayed-3.4Xyz1abc@mx.example");
  const std::string want =
      "4Xyz1abc: to=<bob@customer.example>, relay=none, delay=18000, dsn=4.4.7, "
      "status=delayed (waiting for customer.example to collect its mail with ETRN until "
      "2026-11-20T11:06:40Z), warning sent to sender <etrn-delayed-3.4Xyz1abc@mx.example>";
  EXPECT_EQ(got, want);
}

TEST(RecipientActionLineTest, ASilentExpirySaysWhyNoDsnWent) {
  RecipientPlan r = recipient(RecipientAction::expire_silent);
  r.why = "no DSN: null sender";
  const std::string got = recipient_action_line(message(), r, kArrival + 48 * kHour, "");
  EXPECT_EQ(got,
            "4Xyz1abc: to=<bob@customer.example>, relay=none, delay=172800, dsn=5.4.7, "
            "status=expired (customer.example did not collect its mail with ETRN within 2d), "
            "no DSN: null sender");
}

TEST(RecipientActionLineTest, AClockBeforeTheArrivalGivesNoNegativeDelay) {
  const std::string got = recipient_action_line(message(), recipient(RecipientAction::expire_dsn),
                                                kArrival - 10, "id@mx");
  EXPECT_NE(got.find(", delay=0, "), std::string::npos) << "got " << got;
}

TEST(RecipientActionLineTest, AnAddressCannotBreakTheLine) {
  RecipientPlan r = recipient(RecipientAction::expire_dsn);
  r.address = "bob\r\n4Fake: removed@customer.example";
  const std::string got = recipient_action_line(message(), r, kArrival + 49 * kHour, "id@mx");
  EXPECT_EQ(got.find_first_of("\r\n"), std::string::npos) << "got " << got;
  EXPECT_NE(got.find("to=<bob??4Fake: removed@customer.example>"), std::string::npos) << got;
}

TEST(DepartedLineTest, NamesTheRecipientTheTimeQueuedAndWhy) {
  const std::string got = departed_line(message(), recipient(RecipientAction::depart),
                                        kArrival + kHour, "left the queue");
  EXPECT_EQ(got,
            "4Xyz1abc: to=<bob@customer.example>, delay=3600, status=departed (left the queue)");
}

TEST(AdoptedRecipientLineTest, NamesTheRecipientAndItsDeadline) {
  RecipientPlan r = recipient(RecipientAction::none);
  r.address = "archive@customer.example";
  EXPECT_EQ(adopted_recipient_line(message(), r),
            "4Xyz1abc: to=<archive@customer.example>, expires=2026-11-20T11:06:40Z, "
            "status=adopted (added to the message after the milter saw it)");
}

TEST(SplitLineTest, NamesEveryCopy) {
  EXPECT_EQ(split_line("4Xyz1abc", {"4Abc2def"}),
            "4Xyz1abc: split, survivors requeued as 4Abc2def");
  EXPECT_EQ(split_line("4Xyz1abc", {"4A", "4B"}), "4Xyz1abc: split, survivors requeued as 4A, 4B");
}

TEST(RemovedLineTest, SaysWhy) {
  MessagePlan m = message();
  m.removal = Removal::whole;
  EXPECT_EQ(removed_line(m), "4Xyz1abc: removed (expired)");
  m.removal = Removal::split;
  EXPECT_EQ(removed_line(m), "4Xyz1abc: removed (split: its expired recipients returned)");
}

TEST(AttentionLineTest, NamesTheRecipientsTheReasonAndWhatToDo) {
  const std::string got = attention_line(
      "4Xyz1abc", {"bob@customer.example", "carol@customer.example"}, DsnKind::failed,
      "failure DSN not deliverable: 554 no", "kept on hold for a person");
  EXPECT_EQ(got,
            "4Xyz1abc: to=<bob@customer.example>, to=<carol@customer.example>, relay=none, "
            "dsn=5.4.7, status=attention (failure DSN not deliverable: 554 no), "
            "kept on hold for a person");
}

TEST(AttentionLineTest, AGivenUpWarningLeavesTheRecipientWarned) {
  const std::string got =
      attention_line("Q1", {"bob@customer.example"}, DsnKind::delayed,
                     "delay DSN not deliverable: 554 no", "the warning is given up");
  EXPECT_NE(
      got.find(
          "dsn=4.4.7, status=warned (delay DSN not deliverable: 554 no), the warning is given up"),
      std::string::npos)
      << "got " << got;
}

}  // namespace
}  // namespace etrn
