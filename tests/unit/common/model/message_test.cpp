// message_test.cpp - tests of NOTIFY text and audit state names.
#include "common/model/message.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

TEST(NotifyParse, ReadsAListOfWordsInAnyCase) {
  const auto n = Notify::parse("success,Delay");
  EXPECT_TRUE(n.given);
  EXPECT_TRUE(n.success);
  EXPECT_TRUE(n.delay);
  EXPECT_FALSE(n.failure);
  EXPECT_FALSE(n.never);
}

TEST(NotifyParse, ReadsNever) {
  const auto n = Notify::parse("NEVER");
  EXPECT_TRUE(n.given);
  EXPECT_TRUE(n.never);
  EXPECT_FALSE(n.allows_failure_dsn());
  EXPECT_FALSE(n.allows_delay_dsn());
}

TEST(NotifyParse, IgnoresUnknownWordsButCountsAsGiven) {
  const auto n = Notify::parse("FAILURE,BOGUS");
  EXPECT_TRUE(n.given);
  EXPECT_TRUE(n.failure);
  EXPECT_FALSE(n.allows_delay_dsn());
}

TEST(NotifyParse, ToleratesSpacesAroundWords) {
  const auto n = Notify::parse(" FAILURE , DELAY ");
  EXPECT_TRUE(n.failure);
  EXPECT_TRUE(n.delay);
}

TEST(NotifyToString, IsEmptyWhenNotGiven) {
  EXPECT_EQ(Notify{}.to_string(), "");
}

TEST(NotifyToString, WritesNever) {
  EXPECT_EQ(Notify::parse("never").to_string(), "NEVER");
}

TEST(NotifyToString, WritesWordsInTheFixedOrder) {
  EXPECT_EQ(Notify::parse("DELAY,SUCCESS,FAILURE").to_string(), "SUCCESS,FAILURE,DELAY");
  EXPECT_EQ(Notify::parse("delay,failure").to_string(), "FAILURE,DELAY");
}

TEST(Notify, WithoutAParameterAllowsFailureAndDelayDsns) {
  const Notify n;
  EXPECT_TRUE(n.allows_failure_dsn());
  EXPECT_TRUE(n.allows_delay_dsn());
}

TEST(NotifyToString, RoundTripsThroughParse) {
  for (const char* text : {"NEVER", "SUCCESS", "FAILURE", "DELAY", "SUCCESS,FAILURE",
                           "FAILURE,DELAY", "SUCCESS,FAILURE,DELAY"}) {
    EXPECT_EQ(Notify::parse(text).to_string(), text);
  }
}

TEST(RecipientStateName, SpellsEachStateAsTheAuditViewDoes) {
  EXPECT_EQ(to_string(RecipientState::queued), "queued");
  EXPECT_EQ(to_string(RecipientState::warned), "warned");
  EXPECT_EQ(to_string(RecipientState::expired), "expired");
  EXPECT_EQ(to_string(RecipientState::departed), "departed");
}

TEST(RecipientStateName, ParsesWhatToStringWrites) {
  for (const auto s : {RecipientState::queued, RecipientState::warned, RecipientState::expired,
                       RecipientState::departed}) {
    EXPECT_EQ(parse_recipient_state(to_string(s)), s) << "for " << to_string(s);
  }
}

TEST(RecipientStateName, ParsesInAnyCase) {
  EXPECT_EQ(parse_recipient_state("Expired"), RecipientState::expired);
}

TEST(RecipientStateName, RejectsUnknownNames) {
  EXPECT_EQ(parse_recipient_state("bounced"), std::nullopt);
  EXPECT_EQ(parse_recipient_state(""), std::nullopt);
}

}  // namespace
}  // namespace etrn
