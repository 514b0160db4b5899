// plan_test.cpp - the rules that read a sweep plan: which recipients leave
// the queue, which keep waiting, which DSN reports whom.
#include "sweeper/plan.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

constexpr RecipientAction kAllActions[] = {
    RecipientAction::none,       RecipientAction::depart,        RecipientAction::warn,
    RecipientAction::expire_dsn, RecipientAction::expire_silent, RecipientAction::already_expired};

RecipientPlan planned(RecipientState state, RecipientAction action) {
  RecipientPlan r;
  r.id = 1;
  r.address = "bob@customer.example";
  r.state = state;
  r.action = action;
  return r;
}

TEST(RecipientPlan, LeavesTheQueueOnlyWhenItExpiresNowOrExpiredEarlier) {
  for (const RecipientAction a : kAllActions) {
    const bool want = a == RecipientAction::expire_dsn || a == RecipientAction::expire_silent ||
                      a == RecipientAction::already_expired;
    EXPECT_EQ(planned(RecipientState::queued, a).leaves_queue(), want)
        << to_string(a) << ": got " << !want << ", want " << want;
  }
}

TEST(RecipientPlan, KeepsWaitingWhenWaitingAndOnlyWarnedOrLeftAlone) {
  for (const RecipientState state : {RecipientState::queued, RecipientState::warned}) {
    EXPECT_TRUE(planned(state, RecipientAction::none).keeps_waiting()) << to_string(state);
    EXPECT_TRUE(planned(state, RecipientAction::warn).keeps_waiting()) << to_string(state);
    EXPECT_FALSE(planned(state, RecipientAction::expire_dsn).keeps_waiting()) << to_string(state);
    EXPECT_FALSE(planned(state, RecipientAction::depart).keeps_waiting()) << to_string(state);
  }
  EXPECT_FALSE(planned(RecipientState::expired, RecipientAction::none).keeps_waiting())
      << "an expired recipient no longer queued does not wait";
  EXPECT_FALSE(planned(RecipientState::departed, RecipientAction::none).keeps_waiting());
  EXPECT_TRUE(planned(RecipientState::attention, RecipientAction::none).keeps_waiting())
      << "in attention, it stays in the queue";
}

TEST(RecipientPlan, ChangesSomethingWithAnActionOrNewDeadlines) {
  RecipientPlan r = planned(RecipientState::queued, RecipientAction::none);
  EXPECT_FALSE(r.changes_something());
  r.deadlines_changed = true;
  EXPECT_TRUE(r.changes_something());
  EXPECT_TRUE(planned(RecipientState::queued, RecipientAction::depart).changes_something());
}

TEST(MessagePlan, KeepsWaitingWhileAnyRecipientDoes) {
  MessagePlan m;
  m.recipients = {planned(RecipientState::queued, RecipientAction::expire_dsn),
                  planned(RecipientState::expired, RecipientAction::already_expired)};
  EXPECT_FALSE(m.keeps_waiting());
  m.recipients.push_back(planned(RecipientState::warned, RecipientAction::none));
  EXPECT_TRUE(m.keeps_waiting());
}

TEST(MessagePlan, ChangesSomethingOnlyWhenItOrARecipientDoes) {
  MessagePlan m;
  m.recipients = {planned(RecipientState::queued, RecipientAction::none)};
  EXPECT_FALSE(m.changes_something());
  m.recipients[0].action = RecipientAction::warn;
  EXPECT_TRUE(m.changes_something());
  m.recipients[0].action = RecipientAction::none;
  m.record_mta_arrival = true;
  EXPECT_TRUE(m.changes_something());
}

TEST(MessagePlan, HasAnActionWhenOneOfItsRecipientsHasIt) {
  MessagePlan m;
  m.recipients = {planned(RecipientState::queued, RecipientAction::warn)};
  EXPECT_TRUE(m.has(RecipientAction::warn));
  EXPECT_FALSE(m.has(RecipientAction::expire_dsn));
}

TEST(MessagePlan, DecidesRemovalFromTheAddressesTheQueueHolds) {
  MessagePlan m;
  m.recipients = {planned(RecipientState::queued, RecipientAction::expire_dsn)};
  m.decide_removal({"BOB@customer.example"});
  EXPECT_EQ(m.removal, Removal::whole) << "addresses compare without regard to case";
  m.decide_removal({"bob@customer.example", "dave@elsewhere.example"});
  EXPECT_EQ(m.removal, Removal::split);
  EXPECT_EQ(m.survivors, std::vector<std::string>{"dave@elsewhere.example"});
  m.recipients[0].action = RecipientAction::warn;
  m.decide_removal({"bob@customer.example"});
  EXPECT_EQ(m.removal, Removal::none);
  EXPECT_TRUE(m.acts_on_queue()) << "a warning is reported on: it is held first too";
}

TEST(FitToHeld, BouncesOnlyRecipientsStillInTheHeldCopyAndWritesToTheQueuedSender) {
  MessagePlan m;
  m.envelope.sender = "alice";
  m.recipients = {planned(RecipientState::queued, RecipientAction::expire_dsn),
                  planned(RecipientState::queued, RecipientAction::expire_dsn)};
  m.recipients[1].address = "carol@customer.example";
  m.decide_removal({"bob@customer.example", "carol@customer.example", "dave@elsewhere.example"});
  ASSERT_EQ(m.removal, Removal::split);
  QueuedEnvelope held;
  held.envelope.sender = "alice@mx.provider.example";
  held.recipients = {{"bob@customer.example", {}}};  // carol and dave left meanwhile
  fit_to_held(m, held);
  EXPECT_EQ(m.envelope.sender, "alice@mx.provider.example");
  EXPECT_EQ(m.recipients[0].action, RecipientAction::expire_dsn);
  EXPECT_EQ(m.recipients[1].action, RecipientAction::none) << "carol is not bounced";
  EXPECT_EQ(m.removal, Removal::whole) << "no survivor is left to re-inject";
  EXPECT_TRUE(m.survivors.empty());
}

TEST(FitToHeld, ANullSenderInTheHeldCopyGetsNoDsn) {
  MessagePlan m;
  m.envelope.sender = "alice@sender.example";
  m.recipients = {planned(RecipientState::queued, RecipientAction::expire_dsn)};
  QueuedEnvelope held;
  held.recipients = {{"bob@customer.example", {}}};
  fit_to_held(m, held);
  EXPECT_EQ(m.recipients[0].action, RecipientAction::expire_silent);
  EXPECT_EQ(m.removal, Removal::whole);
}

TEST(ActionReportedBy, ADelayDsnReportsTheWarnedAndAFailureDsnTheExpiring) {
  EXPECT_EQ(action_reported_by(DsnKind::delayed), RecipientAction::warn);
  EXPECT_EQ(action_reported_by(DsnKind::failed), RecipientAction::expire_dsn);
}

}  // namespace
}  // namespace etrn
