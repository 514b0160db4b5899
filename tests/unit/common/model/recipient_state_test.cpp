// recipient_state_test.cpp - the audit state names, and which states wait.
#include "common/model/recipient_state.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

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

TEST(RecipientState, OnlyQueuedAndWarnedRecipientsAreWaiting) {
  EXPECT_TRUE(is_waiting(RecipientState::queued));
  EXPECT_TRUE(is_waiting(RecipientState::warned));
  EXPECT_FALSE(is_waiting(RecipientState::expired));
  EXPECT_FALSE(is_waiting(RecipientState::departed));
}

}  // namespace
}  // namespace etrn
