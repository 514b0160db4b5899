// planner_test.cpp - the sweep planner's rules, one by one, on plain data:
// time, priority, domain policy, NOTIFY, null sender, hold, partial expiry,
// departure, queue-ID reuse, changed configuration, adoption, merges.
#include "sweeper/planner.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

constexpr EpochSeconds kArrival = 1800000000;
constexpr EpochSeconds kHour = 3600;

Config etrn_config() {
  Config c;
  c.etrn_domains = {"customer.example", ".dialup.example"};
  return c;
}

RecordedRecipient recipient(std::int64_t id, std::string address,
                            RecipientState state = RecipientState::queued) {
  RecordedRecipient r;
  r.id = id;
  r.domain = address.substr(address.find('@') + 1);
  r.address = std::move(address);
  r.state = state;
  r.deadlines.warn_at = kArrival + 4 * kHour;
  r.deadlines.expires_at = kArrival + 48 * kHour;
  return r;
}

RecordedMessage recorded(std::vector<RecordedRecipient> recipients,
                         std::string queue_id = "4AbC1") {
  RecordedMessage m;
  m.id = 7;
  m.queue_id = std::move(queue_id);
  m.arrival_time = kArrival;
  m.match_reference = kArrival;
  m.mta_arrival_time = kArrival + 1;
  m.recorded_at = kArrival;
  m.envelope.sender = "alice@sender.example";
  m.recipients = std::move(recipients);
  return m;
}

QueuedMessage queued(std::vector<std::string> addresses, std::string queue_id = "4AbC1",
                     EpochSeconds arrival = kArrival + 1, std::string queue_name = "deferred") {
  QueuedMessage q;
  q.held = queue_name == "hold";
  q.queue_name = std::move(queue_name);
  q.queue_id = std::move(queue_id);
  q.arrival_time = arrival;
  q.sender = "alice@sender.example";
  for (auto& a : addresses) q.recipients.push_back({std::move(a)});
  return q;
}

// The envelope the MTA gives for `q`: its sender, no DSN parameters.
QueuedEnvelope envelope_of(const QueuedMessage& q) {
  QueuedEnvelope e;
  e.envelope.sender = q.sender;
  for (const QueuedRecipient& r : q.recipients) e.recipients.push_back({r.address, {}});
  return e;
}

struct Sweep {
  Config config = etrn_config();
  PlanInput input;
  Sweep() { input.real_now = kArrival + 1000 * kHour; }
  Plan at(EpochSeconds now) {
    input.now = now;
    return plan_sweep(config, input);
  }
};

// The queue IDs of the adoption candidates, in queue order.
std::vector<std::string> candidate_ids(const Config& config,
                                       const std::vector<RecordedMessage>& recorded,
                                       const std::vector<QueuedMessage>& queue) {
  PlanInput input;
  input.recorded = recorded;
  input.queue = queue;
  std::vector<std::string> ids;
  for (const QueuedMessage* q : review_queue(config, input).unrecorded) ids.push_back(q->queue_id);
  return ids;
}

// A copy, so that a test can hold it while the Plan it came from is a temporary.
MessagePlan only_message(const Plan& plan) {
  EXPECT_EQ(plan.messages.size(), 1u) << "got " << plan.messages.size() << " message plans, want 1";
  return plan.messages.empty() ? MessagePlan{} : plan.messages.front();
}

// The action for recipient i of the only message; none when the plan has
// nothing for it (a message with nothing to do gets no plan).
RecipientAction action_of(const Plan& plan, std::size_t i = 0) {
  if (plan.messages.empty()) return RecipientAction::none;
  const MessagePlan m = only_message(plan);
  return i < m.recipients.size() ? m.recipients[i].action : RecipientAction::none;
}

TEST(Planner, NothingHappensBeforeTheWarnTime) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.queue = {queued({"bob@customer.example"})};
  Plan plan = s.at(kArrival + 4 * kHour - 1);
  // A message with nothing to do gets no plan: at 100k queued messages the
  // idle plans were a third of a sweep's memory.
  EXPECT_TRUE(plan.messages.empty()) << "got " << plan.messages.size() << " plans, want none";
}

struct TimingCase {
  const char* name;
  EpochSeconds age;
  Priority priority;
  RecipientState state;
  RecipientAction want;
};

// Readable test names in CTest and in failures.
void PrintTo(const TimingCase& c, std::ostream* os) {
  *os << c.name;
}

class PlannerTiming : public ::testing::TestWithParam<TimingCase> {};

TEST_P(PlannerTiming, ActsOnTheDeadlinesOfTheRecipientsPriority) {
  const TimingCase& c = GetParam();
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example", c.state)})};
  s.input.recorded[0].priority = c.priority;
  s.input.queue = {queued({"bob@customer.example"})};
  RecipientAction got = action_of(s.at(kArrival + c.age));
  EXPECT_EQ(got, c.want) << c.name << ": got " << to_string(got) << ", want " << to_string(c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, PlannerTiming,
    ::testing::Values(TimingCase{"warn at 4h", 4 * kHour, Priority::normal, RecipientState::queued,
                                 RecipientAction::warn},
                      TimingCase{"warned once only", 5 * kHour, Priority::normal,
                                 RecipientState::warned, RecipientAction::none},
                      TimingCase{"normal waits at 47h", 47 * kHour, Priority::normal,
                                 RecipientState::warned, RecipientAction::none},
                      TimingCase{"normal expires at 48h", 48 * kHour, Priority::normal,
                                 RecipientState::warned, RecipientAction::expire_dsn},
                      TimingCase{"expiry beats a late warning", 49 * kHour, Priority::normal,
                                 RecipientState::queued, RecipientAction::expire_dsn},
                      TimingCase{"urgent expires at 24h", 24 * kHour, Priority::urgent,
                                 RecipientState::warned, RecipientAction::expire_dsn},
                      TimingCase{"non-urgent waits at 71h", 71 * kHour, Priority::non_urgent,
                                 RecipientState::warned, RecipientAction::none},
                      TimingCase{"non-urgent expires at 72h", 72 * kHour, Priority::non_urgent,
                                 RecipientState::warned, RecipientAction::expire_dsn}));

TEST(Planner, DomainPolicyOverridesPriority) {
  Sweep s;
  s.config.domain_policies = {
      DomainPolicy{"customer.example", Seconds(5 * 24 * kHour), Seconds(12 * kHour)}};
  s.input.recorded = {
      recorded({recipient(1, "bob@customer.example"), recipient(2, "eve@a.dialup.example")})};
  s.input.queue = {queued({"bob@customer.example", "eve@a.dialup.example"})};
  Plan plan = s.at(kArrival + 49 * kHour);
  EXPECT_EQ(action_of(plan, 0), RecipientAction::warn)
      << "customer.example: 5d policy, warn at 12h";
  EXPECT_EQ(action_of(plan, 1), RecipientAction::expire_dsn) << "dialup: default 48h";
  EXPECT_EQ(only_message(plan).recipients[0].deadlines.expires_at, kArrival + 120 * kHour);
  EXPECT_EQ(only_message(plan).removal, Removal::split);
}

TEST(Planner, AChangedConfigurationRecomputesDeadlinesFromArrival) {
  Sweep s;
  s.config.expire_after = Seconds(24 * kHour);
  s.input.recorded = {recorded({recipient(1, "bob@customer.example", RecipientState::warned)})};
  s.input.queue = {queued({"bob@customer.example"})};
  Plan plan = s.at(kArrival + 30 * kHour);
  // only_message returns a copy: hold it, or r would dangle (ASan found it).
  const MessagePlan m = only_message(plan);
  const RecipientPlan& r = m.recipients.at(0);
  EXPECT_TRUE(r.deadlines_changed);
  EXPECT_EQ(r.deadlines.expires_at, kArrival + 24 * kHour);
  EXPECT_EQ(r.action, RecipientAction::expire_dsn);
}

TEST(Planner, UnchangedDeadlinesAreNotRewritten) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.queue = {queued({"bob@customer.example"})};
  // Nothing to rewrite and nothing else to do: no plan for the message.
  EXPECT_TRUE(s.at(kArrival + kHour).messages.empty());
}

struct NotifyCase {
  const char* notify;  // nullptr: not given
  bool null_sender;
  EpochSeconds age;
  RecipientAction want;
};

void PrintTo(const NotifyCase& c, std::ostream* os) {
  *os << "NOTIFY=" << (c.notify ? c.notify : "absent") << (c.null_sender ? ", null sender" : "")
      << ", at " << c.age / kHour << "h";
}

class PlannerNotify : public ::testing::TestWithParam<NotifyCase> {};

TEST_P(PlannerNotify, SendsOnlyTheDsnsNotifyAndTheSenderAllow) {
  const NotifyCase& c = GetParam();
  Sweep s;
  RecordedRecipient r = recipient(1, "bob@customer.example");
  if (c.notify) r.dsn.notify = Notify::parse(c.notify);
  s.input.recorded = {recorded({r})};
  if (c.null_sender) s.input.recorded[0].envelope.sender = "";
  s.input.queue = {queued({"bob@customer.example"})};
  RecipientAction got = action_of(s.at(kArrival + c.age));
  EXPECT_EQ(got, c.want) << "NOTIFY=" << (c.notify ? c.notify : "(absent)") << " null sender "
                         << c.null_sender << " age " << c.age / kHour << "h: got " << to_string(got)
                         << ", want " << to_string(c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, PlannerNotify,
    ::testing::Values(NotifyCase{nullptr, false, 5 * kHour, RecipientAction::warn},
                      NotifyCase{"DELAY", false, 5 * kHour, RecipientAction::warn},
                      NotifyCase{"FAILURE", false, 5 * kHour, RecipientAction::none},
                      NotifyCase{"NEVER", false, 5 * kHour, RecipientAction::none},
                      NotifyCase{nullptr, true, 5 * kHour, RecipientAction::none},
                      NotifyCase{nullptr, false, 50 * kHour, RecipientAction::expire_dsn},
                      NotifyCase{"FAILURE,DELAY", false, 50 * kHour, RecipientAction::expire_dsn},
                      NotifyCase{"DELAY", false, 50 * kHour, RecipientAction::expire_silent},
                      NotifyCase{"NEVER", false, 50 * kHour, RecipientAction::expire_silent},
                      NotifyCase{nullptr, true, 50 * kHour, RecipientAction::expire_silent}));

TEST(Planner, SilentExpirySaysWhy) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.recorded[0].envelope.sender = "";
  s.input.queue = {queued({"bob@customer.example"})};
  const MessagePlan& m = only_message(s.at(kArrival + 50 * kHour));
  EXPECT_EQ(m.recipients[0].why, "no DSN: null sender");
  EXPECT_EQ(m.removal, Removal::whole) << "null-sender mail is still removed";
}

TEST(Planner, HeldMailExpiresLikeTheRest) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.queue = {queued({"bob@customer.example"}, "4AbC1", kArrival + 1, "hold")};
  const MessagePlan& m = only_message(s.at(kArrival + 48 * kHour));
  EXPECT_EQ(m.recipients[0].action, RecipientAction::expire_dsn);
  EXPECT_EQ(m.removal, Removal::whole);
}

TEST(Planner, AllRecipientsExpiringRemoveTheWholeMessage) {
  Sweep s;
  s.input.recorded = {
      recorded({recipient(1, "bob@customer.example"), recipient(2, "carol@customer.example")})};
  s.input.queue = {queued({"bob@customer.example", "carol@customer.example"})};
  const MessagePlan& m = only_message(s.at(kArrival + 48 * kHour));
  EXPECT_EQ(m.removal, Removal::whole);
  EXPECT_TRUE(m.survivors.empty());
  EXPECT_FALSE(m.done) << "done only once removed";
}

TEST(Planner, ANonEtrnRecipientStillQueuedSplitsTheMessage) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.queue = {queued({"bob@customer.example", "dave@elsewhere.example"})};
  const MessagePlan& m = only_message(s.at(kArrival + 48 * kHour));
  EXPECT_EQ(m.removal, Removal::split);
  EXPECT_EQ(m.survivors, std::vector<std::string>{"dave@elsewhere.example"});
}

TEST(Planner, ExpiredRecipientsStillQueuedAreRemovedOnTheNextRun) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example", RecipientState::expired),
                                recipient(2, "carol@customer.example", RecipientState::warned)})};
  s.input.recorded[0].recipients[1].deadlines.expires_at = kArrival + 100 * kHour;
  s.config.domain_policies = {DomainPolicy{"customer.example", Seconds(100 * kHour), std::nullopt}};
  s.input.queue = {queued({"bob@customer.example", "carol@customer.example"})};
  const MessagePlan& m = only_message(s.at(kArrival + 50 * kHour));
  EXPECT_EQ(m.recipients[0].action, RecipientAction::already_expired);
  EXPECT_EQ(m.recipients[1].action, RecipientAction::none);
  EXPECT_EQ(m.removal, Removal::split);
  EXPECT_EQ(m.survivors, std::vector<std::string>{"carol@customer.example"});
}

TEST(Planner, ARecipientTheEnvelopeNoLongerHasDeparts) {
  Sweep s;
  s.input.recorded = {
      recorded({recipient(1, "bob@customer.example"), recipient(2, "carol@customer.example")})};
  s.input.queue = {queued({"carol@customer.example"})};
  s.input.envelopes[&s.input.queue[0]] = envelope_of(s.input.queue[0]);
  Plan plan = s.at(kArrival + 50 * kHour);
  EXPECT_EQ(action_of(plan, 0), RecipientAction::depart);
  EXPECT_EQ(action_of(plan, 1), RecipientAction::expire_dsn);
  EXPECT_EQ(only_message(plan).removal, Removal::whole);
}

TEST(Planner, AMessageGoneFromTheQueueDepartsAndIsDone) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example"),
                                recipient(2, "carol@customer.example", RecipientState::expired)})};
  const MessagePlan& m = only_message(s.at(kArrival + 50 * kHour));
  EXPECT_EQ(m.queued, nullptr);
  EXPECT_TRUE(m.done);
  ASSERT_EQ(m.recipients.size(), 1u) << "only the waiting recipient departs";
  EXPECT_EQ(m.recipients[0].action, RecipientAction::depart);
}

TEST(Planner, AMessageJustRecordedIsNotDepartedBeforeItReachesTheQueue) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.recorded[0].recorded_at = s.input.real_now - 1;
  EXPECT_TRUE(s.at(kArrival).messages.empty());
}

TEST(Planner, AnUnlistedRecipientWaitsWhenTheEnvelopeCouldNotBeRead) {
  Sweep s;
  s.input.recorded = {
      recorded({recipient(1, "bob@customer.example"), recipient(2, "carol@customer.example")})};
  s.input.queue = {queued({"carol@customer.example"})};
  Plan plan = s.at(kArrival + 50 * kHour);
  EXPECT_EQ(action_of(plan, 0), RecipientAction::none) << "not sure it left: next run";
  EXPECT_EQ(action_of(plan, 1), RecipientAction::expire_dsn);
  EXPECT_EQ(only_message(plan).removal, Removal::whole);
}

TEST(Planner, AllEtrnRecipientsDepartedWhileOthersQueuedIsDone) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.queue = {queued({"dave@elsewhere.example"})};
  s.input.envelopes[&s.input.queue[0]] = envelope_of(s.input.queue[0]);
  const MessagePlan& m = only_message(s.at(kArrival + kHour));
  EXPECT_EQ(m.recipients[0].action, RecipientAction::depart);
  EXPECT_TRUE(m.done);
  EXPECT_EQ(m.removal, Removal::none);
}

TEST(Planner, AReusedQueueIdWithAnotherArrivalTimeIsADifferentMessage) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.queue = {queued({"bob@customer.example"}, "4AbC1", kArrival + 3 * kHour)};
  Plan plan = s.at(kArrival + 50 * kHour);
  ASSERT_EQ(plan.messages.size(), 1u) << "no envelope given, so no adoption";
  EXPECT_EQ(plan.messages[0].queued, nullptr);
  EXPECT_EQ(plan.messages[0].recipients[0].action, RecipientAction::depart);
  EXPECT_EQ(candidate_ids(s.config, s.input.recorded, s.input.queue),
            std::vector<std::string>{"4AbC1"});
}

TEST(Planner, FirstMatchWithinAnHourRecordsTheQueueArrivalTime) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.recorded[0].mta_arrival_time.reset();
  s.input.queue = {queued({"bob@customer.example"}, "4AbC1", kArrival + 59 * 60)};
  const MessagePlan& m = only_message(s.at(kArrival + kHour));
  ASSERT_NE(m.queued, nullptr);
  EXPECT_TRUE(m.record_mta_arrival);
  s.input.queue[0].arrival_time = kArrival + 61 * 60;
  EXPECT_EQ(only_message(s.at(kArrival + kHour)).queued, nullptr)
      << "61 minutes off: not the same message";
}

TEST(Planner, UnrecordedEtrnMailWithAnEnvelopeIsAdopted) {
  Sweep s;
  s.input.queue = {queued({"bob@customer.example", "dave@elsewhere.example"}, "5XyZ9", kArrival)};
  QueuedEnvelope envelope;
  envelope.envelope.sender = "alice@sender.example";
  envelope.envelope.envid = "env-1";
  envelope.recipients = {
      {"bob@customer.example", Notify::parse("NEVER"), "rfc822;bob@customer.example"}};
  s.input.adoptions = {{&s.input.queue[0], envelope, Priority::normal, {}}};
  const MessagePlan& m = only_message(s.at(kArrival + 49 * kHour));
  EXPECT_TRUE(m.adopt);
  EXPECT_EQ(m.envelope.envid, "env-1");
  EXPECT_EQ(m.envelope.sender, "alice@sender.example") << "the envelope as the MTA queued it";
  ASSERT_EQ(m.recipients.size(), 1u) << "only the ETRN-only recipient is adopted";
  EXPECT_EQ(m.recipients[0].dsn.orcpt, "rfc822;bob@customer.example");
  EXPECT_EQ(m.recipients[0].action, RecipientAction::expire_silent)
      << "NOTIFY=NEVER from the envelope";
  EXPECT_EQ(m.removal, Removal::split);
}

TEST(Planner, TheDeferredTransportDelayReasonAloneIsNoEtrnMail) {
  Sweep s;
  s.config.etrn_domains.clear();
  s.config.etrn_transports = {"etrn-only"};
  s.input.queue = {queued({"bob@other.example"}, "5XyZ9")};  // "deferred transport"
  EXPECT_TRUE(candidate_ids(s.config, {}, s.input.queue).empty())
      << "any transport in defer_transports gives that reason";
  s.input.queue[0].recipients[0].mailer = "slowlane";
  EXPECT_TRUE(candidate_ids(s.config, {}, s.input.queue).empty()) << "another deferred transport";
  s.input.queue[0].recipients[0].mailer = "etrn-only";
  EXPECT_EQ(candidate_ids(s.config, {}, s.input.queue), std::vector<std::string>{"5XyZ9"});
}

TEST(Planner, OfTwoEntriesWithAReusedQueueIdOnlyTheUnrecordedOneIsACandidate) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.queue = {queued({"bob@customer.example"}, "4AbC1", kArrival + 3 * kHour),
                   queued({"bob@customer.example"})};
  const auto candidates = review_queue(s.config, s.input).unrecorded;
  ASSERT_EQ(candidates.size(), 1u);
  EXPECT_EQ(candidates[0], &s.input.queue[0]) << "the entry 3 hours off the recorded arrival";
  s.input.adoptions = {{candidates[0], envelope_of(*candidates[0]), Priority::normal, {}}};
  Plan plan = s.at(kArrival + kHour);
  ASSERT_EQ(plan.messages.size(), 1u)
      << "the recorded entry needs nothing; only the other is adopted";
  EXPECT_TRUE(plan.messages[0].adopt);
  EXPECT_EQ(plan.messages[0].queued, &s.input.queue[0]);
}

TEST(Planner, TwoRowsForOneQueuedMessageAreMergedIntoTheOlderClock) {
  Sweep s;
  RecordedMessage moved = recorded({recipient(1, "bob@customer.example")}, "6New1");
  moved.mta_arrival_time.reset();
  moved.match_reference = kArrival + 50 * kHour;
  RecordedMessage milter_row = recorded({recipient(2, "bob@customer.example")}, "6New1");
  milter_row.id = 9;
  milter_row.arrival_time = kArrival + 50 * kHour;
  milter_row.mta_arrival_time.reset();
  milter_row.match_reference = milter_row.arrival_time;
  s.input.recorded = {milter_row, moved};
  s.input.queue = {queued({"bob@customer.example"}, "6New1", kArrival + 50 * kHour)};
  Plan plan = s.at(kArrival + 50 * kHour);
  ASSERT_EQ(plan.merges.size(), 1u);
  EXPECT_EQ(plan.merges[0].keep, 7);
  EXPECT_EQ(plan.merges[0].drop, 9);
  ASSERT_EQ(plan.messages.size(), 1u);
  EXPECT_EQ(plan.messages[0].id, 7);
}

TEST(Planner, WarnsWhenPostfixWouldExpireEtrnMailFirst) {
  Config c = etrn_config();
  c.domain_policies = {DomainPolicy{"customer.example", Seconds(7 * 24 * kHour), std::nullopt}};
  auto warnings = lifetime_warnings(c, QueueLifetimes{5 * 24 * kHour, 5 * 24 * kHour});
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("maximal_queue_lifetime (5d)"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("(1w)"), std::string::npos) << warnings[0];
  EXPECT_TRUE(
      lifetime_warnings(etrn_config(), QueueLifetimes{5 * 24 * kHour, 5 * 24 * kHour}).empty());
}

}  // namespace
}  // namespace etrn

namespace etrn {
namespace {

TEST(PlannerPriority, AdoptedMailTakesThePriorityOfItsHeaders) {
  Sweep s;
  s.input.queue = {queued({"bob@customer.example"}, "5XyZ9", kArrival)};
  s.input.adoptions = {{&s.input.queue[0], envelope_of(s.input.queue[0]), Priority::urgent, {}}};
  EXPECT_EQ(action_of(s.at(kArrival + 24 * kHour)), RecipientAction::expire_dsn) << "urgent: 24h";
}

TEST(PlannerPriority, HeadersAreReadUpToTheBlankLineWithFoldedValues) {
  EXPECT_EQ(priority_from_headers("Subject: x\nX-Priority:\n 1 (Highest)\n\nPrecedence: bulk\n"),
            Priority::urgent);
  EXPECT_EQ(priority_from_headers("Precedence: bulk\r\nSubject: y\r\n"), Priority::non_urgent);
  EXPECT_EQ(priority_from_headers("Subject: z\n\nPriority: urgent\n"), Priority::normal)
      << "body ignored";
}

}  // namespace
}  // namespace etrn

namespace etrn {
namespace {

TEST(PlannerCopies, ASplitListsNewerQueuedMessagesWithOnlySurvivorsAsCopyCandidates) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.queue = {
      queued({"bob@customer.example", "dave@elsewhere.example"}),
      queued({"dave@elsewhere.example"}, "7CoPy1", kArrival + 49 * kHour),
      queued({"dave@elsewhere.example", "x@elsewhere.example"}, "8NoT1", kArrival + 49 * kHour),
      queued({"dave@elsewhere.example"}, "9OlD1", kArrival - kHour)};
  Plan plan = s.at(kArrival + 49 * kHour);
  auto split = std::find_if(plan.messages.begin(), plan.messages.end(),
                            [](const MessagePlan& m) { return m.queue_id == "4AbC1"; });
  ASSERT_NE(split, plan.messages.end());
  ASSERT_EQ(split->copy_candidates.size(), 1u);
  EXPECT_EQ(split->copy_candidates[0]->queue_id, "7CoPy1");
}

TEST(PlannerCopies, ACopyHoldingOneChunkOfTheSurvivorsIsACandidate) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.queue = {
      queued({"bob@customer.example", "dave@elsewhere.example", "erin@elsewhere.example"}),
      queued({"erin@elsewhere.example"}, "7CoPy1", kArrival + 49 * kHour)};
  const MessagePlan split = only_message(s.at(kArrival + 49 * kHour));
  ASSERT_EQ(split.copy_candidates.size(), 1u);
  EXPECT_EQ(split.copy_candidates[0]->queue_id, "7CoPy1");
}

// Issue 15: a run killed after re-injecting left a copy of ETRN survivors,
// which the milter does not record. The rerun's split takes it over; were
// it adopted too, its recipient would get a second row and a second DSN.
TEST(PlannerCopies, ACopyNamingASplitPlannedThisRunIsNotAdopted) {
  Sweep s;
  // erin's domain expires later: at 49h bob expires and erin stays.
  s.config.domain_policies = {DomainPolicy{"later.example", Seconds(120 * kHour), {}}};
  s.config.etrn_domains.push_back("later.example");
  s.input.recorded = {
      recorded({recipient(1, "bob@customer.example"), recipient(2, "erin@later.example")})};
  s.input.queue = {queued({"bob@customer.example", "erin@later.example"}),
                   queued({"erin@later.example"}, "7CoPy1", kArrival + 49 * kHour)};
  Adoption copy{&s.input.queue[1], envelope_of(s.input.queue[1]), Priority::normal, "4AbC1"};
  s.input.adoptions = {copy};
  Plan plan = s.at(kArrival + 49 * kHour);
  ASSERT_EQ(plan.messages.size(), 1u) << "the split only, no adoption";
  EXPECT_EQ(plan.messages[0].queue_id, "4AbC1");
  EXPECT_FALSE(plan.messages[0].adopt);

  // The same copy without a split of its original to take it over (here it
  // names another message) is adopted: nothing else would track it.
  s.input.adoptions[0].reinjected_from = "5OtHeR";
  plan = s.at(kArrival + 49 * kHour);
  ASSERT_EQ(plan.messages.size(), 2u);
  EXPECT_TRUE(plan.messages[1].adopt);
  EXPECT_EQ(plan.messages[1].queue_id, "7CoPy1");
}

TEST(PlannerCopies, ReinjectedFromReadsTheHeaderOnlyInTheHeaderSection) {
  EXPECT_EQ(reinjected_from("X-ETRN-Sweeper-Reinjected: 4AbC1\nSubject: x\n\nbody\n"), "4AbC1");
  EXPECT_EQ(reinjected_from("Subject: x\r\nx-etrn-sweeper-reinjected:  4AbC1 \r\n\r\n"), "4AbC1");
  EXPECT_EQ(reinjected_from("Subject: x\n\nX-ETRN-Sweeper-Reinjected: 4AbC1\n"), "")
      << "a line of the body is not a header";
  EXPECT_EQ(reinjected_from("X-ETRN-Sweeper-Reinjected-Not: 4AbC1\n"), "");
  EXPECT_EQ(reinjected_from(""), "");
}

// ---- the expiry protocol: busy mail, DSNs in flight, attention, the sweeper's hold ----

TEST(PlannerProtocol, MailTheMtaMayBeDeliveringIsNeitherActedOnNorDepartedNorAdopted) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.queue = {queued({"bob@customer.example"}, "4AbC1", kArrival + 1, "active"),
                   queued({"carol@customer.example"}, "5NeW1", kArrival + 1, "incoming")};
  s.input.queue[0].busy = s.input.queue[1].busy = true;
  EXPECT_TRUE(s.at(kArrival + 49 * kHour).messages.empty())
      << "expired, but a site may be collecting it right now";
  EXPECT_TRUE(candidate_ids(s.config, s.input.recorded, s.input.queue).empty());
}

TEST(PlannerProtocol, ARecipientWhoseDsnIsInFlightLeavesItsMessageAlone) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example", RecipientState::expired),
                                recipient(2, "carol@customer.example")})};
  s.input.queue = {
      queued({"bob@customer.example", "carol@customer.example"}, "4AbC1", kArrival + 1, "hold")};
  s.input.recorded[0].held_by_sweeper = true;
  s.input.in_flight = {2};
  const MessagePlan m = only_message(s.at(kArrival + 49 * kHour));
  EXPECT_EQ(m.recipients[0].action, RecipientAction::none) << "not removed under its DSN";
  EXPECT_EQ(m.recipients[1].action, RecipientAction::none) << "no second DSN";
  EXPECT_EQ(m.removal, Removal::none);
  EXPECT_FALSE(m.release) << "it stays on hold while its DSN is retried";
  EXPECT_FALSE(m.left_alone_because.empty());
  EXPECT_FALSE(m.done);
}

TEST(PlannerProtocol, AttentionIsLeftToAPersonWhileOnHoldAndDepartsWhenGone) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example", RecipientState::attention),
                                recipient(2, "carol@customer.example")})};
  s.input.recorded[0].held_by_sweeper = true;
  s.input.queue = {
      queued({"bob@customer.example", "carol@customer.example"}, "4AbC1", kArrival + 1, "hold")};
  const MessagePlan held = only_message(s.at(kArrival + 60 * kHour));
  EXPECT_TRUE(held.needs_person);
  EXPECT_FALSE(held.acts_on_queue()) << "carol is not expired either: a person decides";
  EXPECT_FALSE(held.release);

  s.input.queue[0].held = false;  // a person released it
  s.input.queue[0].queue_name = "deferred";
  const MessagePlan released = only_message(s.at(kArrival + 60 * kHour));
  EXPECT_FALSE(released.needs_person);
  EXPECT_TRUE(released.forget_hold);

  s.input.queue.clear();  // ... and its site collected it
  const MessagePlan gone = only_message(s.at(kArrival + 60 * kHour));
  EXPECT_EQ(gone.recipients[0].action, RecipientAction::depart);
  EXPECT_TRUE(gone.done);
}

TEST(PlannerProtocol, TheSweepersHoldWithNothingLeftToDoIsReleased) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.recorded[0].held_by_sweeper = true;
  s.input.queue = {queued({"bob@customer.example"}, "4AbC1", kArrival + 1, "hold")};
  const MessagePlan idle = only_message(s.at(kArrival + 1 * kHour));
  EXPECT_TRUE(idle.release);
  EXPECT_FALSE(idle.done) << "not done before it is back in delivery";
  const MessagePlan due = only_message(s.at(kArrival + 49 * kHour));
  EXPECT_FALSE(due.release) << "an expiry due continues the protocol instead";
  EXPECT_TRUE(due.held_by_sweeper);
  EXPECT_EQ(due.removal, Removal::whole);
}

TEST(PlannerProtocol, AnAdminsHoldIsNeverReleased) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.queue = {queued({"bob@customer.example"}, "4AbC1", kArrival + 1, "hold")};
  EXPECT_TRUE(s.at(kArrival + 1 * kHour).messages.empty());
  const MessagePlan due = only_message(s.at(kArrival + 49 * kHour));
  EXPECT_FALSE(due.held_by_sweeper);
  EXPECT_FALSE(due.release);
}

}  // namespace
}  // namespace etrn

// Recipients matched the way the MTA sees them: a matched message whose
// listed recipients differ from the record's is planned from its queued
// envelope, where each recipient carries its original_recipient.
namespace etrn {
namespace {

constexpr const char* kTeam = "team@customer.example";

struct QueuedAs {
  std::string address;
  std::string original;     // original_recipient in the envelope
  std::string mailer = "";  // the transport the MTA resolves
};

struct WantRecipient {
  std::string address;
  RecipientOrigin origin;
  RecipientAction action;
  std::string recorded_address = "";
  std::int64_t id = 0;
};

// One recorded message and its queue entry, its recipients queued as given.
Sweep sweep_of(std::vector<RecordedRecipient> recorded_recipients,
               const std::vector<QueuedAs>& queued_as) {
  Sweep s;
  s.config.etrn_transports = {"etrn-only"};
  s.input.recorded = {recorded(std::move(recorded_recipients))};
  std::vector<std::string> addresses;
  for (const QueuedAs& q : queued_as) addresses.push_back(q.address);
  s.input.queue = {queued(addresses)};
  for (std::size_t i = 0; i < queued_as.size(); ++i)
    s.input.queue[0].recipients[i].mailer = queued_as[i].mailer;
  return s;
}

struct MatchingCase {
  const char* name;
  std::vector<RecordedRecipient> recorded;
  std::vector<QueuedAs> queued;
  bool envelope_read;
  std::vector<WantRecipient> want;
};

void PrintTo(const MatchingCase& c, std::ostream* os) {
  *os << c.name;
}

class PlannerMatching : public ::testing::TestWithParam<MatchingCase> {};

TEST_P(PlannerMatching, TiesQueuedRecipientsToRecordedOnesThroughTheirOriginalRecipient) {
  const MatchingCase& c = GetParam();
  Sweep s = sweep_of(c.recorded, c.queued);
  QueuedEnvelope envelope;
  envelope.envelope.sender = "alice@sender.example";
  for (const QueuedAs& q : c.queued) envelope.recipients.push_back({q.address, {}, q.original});
  if (c.envelope_read) s.input.envelopes[&s.input.queue[0]] = envelope;
  const Plan plan = s.at(kArrival + 49 * kHour);
  if (c.want.empty()) {
    EXPECT_TRUE(plan.messages.empty()) << c.name << ": nothing to do this run";
    return;
  }
  const MessagePlan m = only_message(plan);
  ASSERT_EQ(m.recipients.size(), c.want.size()) << c.name;
  for (std::size_t i = 0; i < c.want.size(); ++i) {
    const RecipientPlan& got = m.recipients[i];
    const WantRecipient& want = c.want[i];
    EXPECT_EQ(got.address, want.address) << c.name << " #" << i;
    EXPECT_EQ(got.origin, want.origin)
        << c.name << " " << got.address << ": got " << to_string(got.origin) << ", want "
        << to_string(want.origin);
    EXPECT_EQ(got.action, want.action)
        << c.name << " " << got.address << ": got " << to_string(got.action) << ", want "
        << to_string(want.action);
    EXPECT_EQ(got.recorded_address, want.recorded_address) << c.name << " " << got.address;
    EXPECT_EQ(got.id, want.id) << c.name << " " << got.address;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rules, PlannerMatching,
    ::testing::Values(
        MatchingCase{"an alias expanded into two ETRN recipients expires as those",
                     {recipient(1, kTeam)},
                     {{"a@customer.example", kTeam}, {"b@customer.example", kTeam}},
                     true,
                     {{"a@customer.example", RecipientOrigin::followed, RecipientAction::expire_dsn,
                       kTeam, 1},
                      {"b@customer.example", RecipientOrigin::expanded, RecipientAction::expire_dsn,
                       kTeam, 0}}},
        MatchingCase{"a recipient rewritten by canonical maps is followed",
                     {recipient(1, "bob@customer.example")},
                     {{"robert@customer.example", "bob@customer.example"}},
                     true,
                     {{"robert@customer.example", RecipientOrigin::followed,
                       RecipientAction::expire_dsn, "bob@customer.example", 1}}},
        MatchingCase{"original_recipient is compared without regard to case",
                     {recipient(1, "Bob@Customer.Example")},
                     {{"robert@customer.example", "bob@customer.example"}},
                     true,
                     {{"robert@customer.example", RecipientOrigin::followed,
                       RecipientAction::expire_dsn, "Bob@Customer.Example", 1}}},
        MatchingCase{"an alias also expanded into itself keeps its row and adds the others",
                     {recipient(1, kTeam)},
                     {{kTeam, kTeam}, {"b@customer.example", kTeam}},
                     true,
                     {{kTeam, RecipientOrigin::recorded, RecipientAction::expire_dsn, "", 1},
                      {"b@customer.example", RecipientOrigin::expanded, RecipientAction::expire_dsn,
                       kTeam, 0}}},
        MatchingCase{
            "an ETRN recipient the message gained is adopted into it",
            {recipient(1, "carol@customer.example")},
            {{"carol@customer.example", "carol@customer.example"},
             {"archive@transport-only.example", "archive@transport-only.example", "etrn-only"}},
            true,
            {{"carol@customer.example", RecipientOrigin::recorded, RecipientAction::expire_dsn, "",
              1},
             {"archive@transport-only.example", RecipientOrigin::adopted,
              RecipientAction::expire_dsn, "", 0}}},
        MatchingCase{"a gained recipient of another transport is left to the MTA",
                     {recipient(1, "carol@customer.example")},
                     {{"carol@customer.example", "carol@customer.example"},
                      {"x@slow.example", "x@slow.example", "slowlane"}},
                     true,
                     {{"carol@customer.example", RecipientOrigin::recorded,
                       RecipientAction::expire_dsn, "", 1}}},
        MatchingCase{"an alias expanded only into mail for elsewhere departs",
                     {recipient(1, kTeam)},
                     {{"x@elsewhere.example", kTeam, "smtp"}},
                     true,
                     {{kTeam, RecipientOrigin::recorded, RecipientAction::depart, "", 1}}},
        MatchingCase{"an unlisted recipient waits while the envelope is unread",
                     {recipient(1, kTeam)},
                     {{"a@customer.example", kTeam}},
                     false,
                     {}},
        MatchingCase{
            "a departed recipient queued again is adopted anew",
            {recipient(1, "bob@customer.example", RecipientState::departed)},
            {{"bob@customer.example", "bob@customer.example"}},
            true,
            {{"bob@customer.example", RecipientOrigin::recorded, RecipientAction::none, "", 1},
             {"bob@customer.example", RecipientOrigin::adopted, RecipientAction::expire_dsn, "",
              0}}}));

TEST(PlannerMatching, AnExpandedRecipientKeepsTheStateNotifyAndOrcptOfTheRecordedOne) {
  Sweep s;
  RecordedRecipient team = recipient(1, kTeam, RecipientState::warned);
  team.dsn.notify = Notify::parse("FAILURE");
  s.input.recorded = {recorded({team})};
  s.input.queue = {queued({"a@customer.example", "b@customer.example"})};
  QueuedEnvelope envelope = envelope_of(s.input.queue[0]);
  for (auto& r : envelope.recipients) r.original_recipient = kTeam;
  s.input.envelopes[&s.input.queue[0]] = envelope;
  const MessagePlan m = only_message(s.at(kArrival + 5 * kHour));
  ASSERT_EQ(m.recipients.size(), 2u);
  for (const RecipientPlan& r : m.recipients) {
    EXPECT_EQ(r.state, RecipientState::warned) << r.address;
    EXPECT_EQ(r.action, RecipientAction::none) << r.address << ": warned once, as team@ was";
    EXPECT_EQ(r.dsn.orcpt, "rfc822;team@customer.example") << r.address;
    EXPECT_EQ(r.dsn.notify.to_string(), "FAILURE") << r.address;
    EXPECT_EQ(r.domain, "customer.example");
  }
  EXPECT_TRUE(m.changes_something());
  EXPECT_EQ(m.removal, Removal::none);
}

// A run killed after a split recorded its copies: the held original still
// lists the survivor, whose row now belongs to the copy. Adopting it into
// the original again gave the survivor a second delay DSN (found by the soak).
TEST(PlannerMatching, TheSweepersHeldOriginalGainsNoRecipient) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.recorded[0].held_by_sweeper = true;
  s.input.queue = {
      queued({"bob@customer.example", "erin@customer.example"}, "4AbC1", kArrival + 1, "hold")};
  s.input.envelopes[&s.input.queue[0]] = envelope_of(s.input.queue[0]);
  const MessagePlan m = only_message(s.at(kArrival + 49 * kHour));
  ASSERT_EQ(m.recipients.size(), 1u) << "erin is not adopted into the original";
  EXPECT_EQ(m.recipients[0].address, "bob@customer.example");
  EXPECT_EQ(m.removal, Removal::split) << "erin stays queued: a survivor, in her copy";

  s.input.recorded[0].held_by_sweeper = false;  // not the sweeper's hold: adopted as before
  EXPECT_EQ(only_message(s.at(kArrival + 49 * kHour)).recipients.size(), 2u);
}

TEST(PlannerMatching, ARecordedOrcptIsKeptForTheRecipientsMadeOfIt) {
  Sweep s;
  RecordedRecipient team = recipient(1, kTeam);
  team.dsn.orcpt = "rfc822;Team+40x@customer.example";
  s.input.recorded = {recorded({team})};
  s.input.queue = {queued({"a@customer.example"})};
  QueuedEnvelope envelope = envelope_of(s.input.queue[0]);
  envelope.recipients[0].original_recipient = kTeam;
  s.input.envelopes[&s.input.queue[0]] = envelope;
  EXPECT_EQ(only_message(s.at(kArrival + kHour)).recipients[0].dsn.orcpt,
            "rfc822;Team+40x@customer.example");
}

TEST(PlannerMatching, AnAdoptedRecipientTakesItsDsnParametersFromTheEnvelope) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "carol@customer.example")})};
  s.input.queue = {queued({"carol@customer.example", "copy@customer.example"})};
  QueuedEnvelope envelope = envelope_of(s.input.queue[0]);
  envelope.recipients[1].dsn.notify = Notify::parse("NEVER");  // always_bcc
  s.input.envelopes[&s.input.queue[0]] = envelope;
  const MessagePlan m = only_message(s.at(kArrival + 49 * kHour));
  ASSERT_EQ(m.recipients.size(), 2u);
  EXPECT_EQ(m.recipients[1].action, RecipientAction::expire_silent) << "NOTIFY=NEVER: no DSN";
  EXPECT_EQ(m.removal, Removal::whole);
}

struct ReviewCase {
  const char* name;
  std::vector<std::string> recorded;  // the record's recipients
  std::vector<QueuedAs> queued;
  bool want_mismatched;
  std::vector<std::string> want_unrouted;
};

void PrintTo(const ReviewCase& c, std::ostream* os) {
  *os << c.name;
}

class PlannerReview : public ::testing::TestWithParam<ReviewCase> {};

TEST_P(PlannerReview, ReadsEnvelopesAndTransportsOnlyWhereTheListingAndTheRecordDisagree) {
  const ReviewCase& c = GetParam();
  std::vector<RecordedRecipient> recipients;
  for (std::size_t i = 0; i < c.recorded.size(); ++i)
    recipients.push_back(recipient(static_cast<std::int64_t>(i + 1), c.recorded[i]));
  const Sweep s = sweep_of(recipients, c.queued);
  const QueueReview review = review_queue(s.config, s.input);
  EXPECT_EQ(review.mismatched.size(), c.want_mismatched ? 1u : 0u) << c.name;
  EXPECT_EQ(review.unrouted, c.want_unrouted) << c.name;
  EXPECT_TRUE(review.absent.empty() && review.unrecorded.empty()) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Rules, PlannerReview,
    ::testing::Values(ReviewCase{"the same recipients: nothing to read",
                                 {"bob@customer.example"},
                                 {{"bob@customer.example", ""}},
                                 false,
                                 {}},
                      ReviewCase{"addresses compared without regard to case",
                                 {"Bob@Customer.Example"},
                                 {{"bob@customer.example", ""}},
                                 false,
                                 {}},
                      ReviewCase{"a recorded recipient not listed",
                                 {"team@customer.example"},
                                 {{"a@customer.example", ""}},
                                 true,
                                 {}},
                      ReviewCase{"a listed ETRN recipient not recorded",
                                 {"bob@customer.example"},
                                 {{"bob@customer.example", ""}, {"copy@customer.example", ""}},
                                 true,
                                 {}},
                      ReviewCase{"another recipient only its transport can judge",
                                 {"bob@customer.example"},
                                 {{"bob@customer.example", ""}, {"x@slow.example", ""}},
                                 false,
                                 {"x@slow.example"}},
                      ReviewCase{"its transport is not ETRN",
                                 {"bob@customer.example"},
                                 {{"bob@customer.example", ""}, {"x@slow.example", "", "slowlane"}},
                                 false,
                                 {}},
                      ReviewCase{
                          "its transport is ETRN",
                          {"bob@customer.example"},
                          {{"bob@customer.example", ""}, {"x@slow.example", "", "etrn-only"}},
                          true,
                          {}}));

TEST(PlannerReview, AMessageMissingFromTheListingIsLookedForAgainAfterTheGrace) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "bob@customer.example")})};
  s.input.recorded[0].recorded_at = s.input.real_now - kDepartureGrace;
  ASSERT_EQ(review_queue(s.config, s.input).absent.size(), 1u);
  s.input.recorded[0].recorded_at = s.input.real_now - kDepartureGrace + 1;
  EXPECT_TRUE(review_queue(s.config, s.input).absent.empty())
      << "recorded less than a minute ago: maybe not queued yet, nothing to confirm";
  EXPECT_TRUE(s.at(kArrival + 49 * kHour).messages.empty()) << "and not departed";
}

TEST(PlannerReview, UnrecordedMailIsJudgedByItsTransportOnceKnown) {
  Sweep s;
  s.config.etrn_transports = {"etrn-only"};
  s.input.queue = {queued({"x@slow.example"}, "5XyZ9"), queued({"y@etrn.example"}, "6XyZ9")};
  QueueReview review = review_queue(s.config, s.input);
  EXPECT_TRUE(review.unrecorded.empty());
  EXPECT_EQ(review.unrouted, (std::vector<std::string>{"x@slow.example", "y@etrn.example"}));
  s.input.queue[0].recipients[0].mailer = "slowlane";
  s.input.queue[1].recipients[0].mailer = "etrn-only";
  review = review_queue(s.config, s.input);
  ASSERT_EQ(review.unrecorded.size(), 1u);
  EXPECT_EQ(review.unrecorded[0]->queue_id, "6XyZ9");
  EXPECT_TRUE(review.unrouted.empty());
}

TEST(PlannerReview, NoTransportIsAskedForWithoutEtrnTransports) {
  Sweep s;
  s.input.queue = {queued({"x@slow.example"}, "5XyZ9")};
  EXPECT_TRUE(review_queue(s.config, s.input).unrouted.empty());
}

TEST(PlannerReview, BusyEntriesWaitForTheNextRun) {
  Sweep s;
  s.input.recorded = {recorded({recipient(1, "team@customer.example")})};
  s.input.queue = {queued({"a@customer.example"}), queued({"c@customer.example"}, "7UnRe")};
  s.input.queue[0].busy = s.input.queue[1].busy = true;
  const QueueReview review = review_queue(s.config, s.input);
  EXPECT_TRUE(review.mismatched.empty() && review.unrecorded.empty());
}

TEST(PlannerSecondLook, OnlyTheAbsentMessagesFoundAgainAreKept) {
  const RecordedMessage absent = recorded({recipient(1, "bob@customer.example")});
  std::vector<QueuedMessage> looked = {queued({"bob@customer.example"}),
                                       queued({"bob@customer.example"}, "4AbC1", kArrival + 99),
                                       queued({"x@customer.example"}, "8OthR")};
  const std::vector<QueuedMessage> kept = found_again({&absent}, looked);
  ASSERT_EQ(kept.size(), 1u) << "a reused queue ID or another message is not the absent one";
  EXPECT_EQ(kept[0].arrival_time, kArrival + 1);
}

TEST(PlannerReopen, AReopenedMessageIsPlannedAsTheRecordWasBeforeItDeparted) {
  Sweep s;
  RecordedMessage r = recorded({recipient(1, "bob@customer.example", RecipientState::warned)});
  r.reopened = true;
  r.recipients[0].reopened = true;
  s.input.recorded = {r};
  s.input.queue = {queued({"bob@customer.example"})};
  const MessagePlan m = only_message(s.at(kArrival + 5 * kHour));
  EXPECT_TRUE(m.reopen);
  EXPECT_TRUE(m.recipients[0].reopened);
  EXPECT_EQ(m.recipients[0].action, RecipientAction::none) << "warned before: not warned again";
  EXPECT_FALSE(m.done);
  EXPECT_EQ(action_of(s.at(kArrival + 49 * kHour)), RecipientAction::expire_dsn);
}

}  // namespace
}  // namespace etrn
