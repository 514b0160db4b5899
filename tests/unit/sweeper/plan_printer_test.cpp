// plan_printer_test.cpp - the --dry-run text.
#include "sweeper/plan_printer.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace etrn {
namespace {

std::string printed(const Plan& plan) {
  std::ostringstream out;
  print_plan(out, plan);
  return out.str();
}

TEST(PlanPrinter, SaysNothingToDoForAnEmptyPlan) {
  EXPECT_EQ(printed(Plan{1796115600, {}, {}, {}}),
            "sweep plan as of 2026-12-01T09:00:00Z\nnothing to do\n");
}

TEST(PlanPrinter, EnvelopeTextReachesTheTerminalWithoutControlCharacters) {
  const QueuedMessage queued{"deferred", "4AbC1", 1795942800, 1, "x", false, {}};
  MessagePlan m;
  m.id = 1;
  m.queue_id = "4AbC1";
  m.envelope.sender = "evil\x1b[2J@sender.example";
  m.queued = &queued;
  m.removal = Removal::whole;
  RecipientPlan bob;
  bob.address = "bob\r@customer.example";
  bob.action = RecipientAction::expire_dsn;
  m.recipients = {bob};
  const std::string text = printed(Plan{1796115600, {m}, {}, {}});
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos) << text;
  EXPECT_NE(text.find("<evil\\x1B[2J@sender.example>"), std::string::npos) << text;
  EXPECT_NE(text.find("bob\\x0D@customer.example: expired"), std::string::npos) << text;
}

TEST(PlanPrinter, NamesTheMessageTheRemovalAndEachRecipientsAction) {
  const QueuedMessage queued{"deferred", "4AbC1", 1795942800, 1, "alice@sender.example", false, {}};
  MessagePlan m;
  m.id = 1;
  m.queue_id = "4AbC1";
  m.envelope.sender = "alice@sender.example";
  m.arrival_time = 1795942800;
  m.queued = &queued;
  m.removal = Removal::whole;
  RecipientPlan bob;
  bob.address = "bob@customer.example";
  bob.action = RecipientAction::expire_dsn;
  bob.deadlines.expires_at = 1796115600;
  RecipientPlan carol;
  carol.address = "carol@customer.example";
  carol.action = RecipientAction::expire_silent;
  carol.why = "no DSN: NOTIFY=NEVER";
  m.recipients = {bob, carol};
  const std::string text = printed(Plan{1796115600, {m}, {}, {}});
  EXPECT_NE(text.find("4AbC1 (from <alice@sender.example>"), std::string::npos) << text;
  EXPECT_NE(text.find("remove from the queue"), std::string::npos) << text;
  EXPECT_NE(text.find("bob@customer.example: expired 2026-12-01T09:00:00Z, failure DSN (5.4.7)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("carol@customer.example: expired"), std::string::npos) << text;
  EXPECT_NE(text.find("no DSN: NOTIFY=NEVER"), std::string::npos) << text;
}

TEST(PlanPrinter, SaysWhichRecipientsTheMtaMadeOfARecordedOneAndWhatIsReopened) {
  const QueuedMessage queued{"deferred", "4AbC1", 1795942800, 1, "alice@sender.example", false, {}};
  MessagePlan m;
  m.id = 1;
  m.queue_id = "4AbC1";
  m.queued = &queued;
  m.reopen = true;
  RecipientPlan a;
  a.address = "a@customer.example";
  a.origin = RecipientOrigin::followed;
  a.recorded_address = "team@customer.example";
  RecipientPlan copy;
  copy.address = "copy@customer.example";
  copy.origin = RecipientOrigin::adopted;
  RecipientPlan bob;
  bob.address = "bob@customer.example";
  bob.reopened = true;
  m.recipients = {a, copy, bob};
  const std::string text = printed(Plan{1796115600, {m}, {}, {}});
  EXPECT_NE(text.find("reopen (listed again after it looked gone)"), std::string::npos) << text;
  EXPECT_NE(text.find("a@customer.example: wait until 1970-01-01T00:00:00Z (queued by the MTA for "
                      "recorded team@customer.example)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("copy@customer.example: wait until 1970-01-01T00:00:00Z (adopted)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("bob@customer.example: wait until 1970-01-01T00:00:00Z (reopened)"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace etrn
