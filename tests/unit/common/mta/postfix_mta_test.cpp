// Tests for PostfixMta through the recording FakeCommandRunner: the exact
// argv and environment of every command, and how exit status, stderr and
// output are judged.
#include "common/mta/postfix_mta.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "tests/unit/common/mta/fake_command_runner.hpp"
#include "tests/unit/support/prerequisite.hpp"

namespace etrn {
namespace {

using testing::FakeCommandRunner;
using testing::FakeOutcome;
using Argv = std::vector<std::string>;

class PostfixMtaTest : public ::testing::Test {
 protected:
  PostfixMtaTest() : runner(std::make_shared<FakeCommandRunner>()), mta(commands(), runner) {}

  static PostfixCommands commands() {
    PostfixCommands c;
    c.config_directory = "/etc/postfix-etrn";
    c.command_directory = "/usr/sbin";
    return c;
  }

  void expect_mail_config(const CommandSpec& spec) {
    ASSERT_FALSE(spec.env_additions.empty());
    EXPECT_EQ(spec.env_additions[0].first, "MAIL_CONFIG");
    EXPECT_EQ(spec.env_additions[0].second, "/etc/postfix-etrn");
  }

  // postcat prints its dates in the zone it runs in; the parser reads UTC.
  void expect_utc(const CommandSpec& spec) {
    using Var = std::pair<std::string, std::string>;
    EXPECT_NE(std::find(spec.env_additions.begin(), spec.env_additions.end(), Var{"TZ", "UTC"}),
              spec.env_additions.end())
        << spec.describe();
  }

  static QueuedMessage listed(const char* id, bool held = false, EpochSeconds arrival = 1795929666,
                              const char* sender = "sender@sender.example") {
    QueuedMessage m;
    m.queue_name = held ? "hold" : "deferred";
    m.queue_id = id;
    m.arrival_time = arrival;
    m.sender = sender;
    m.held = held;
    return m;
  }

  static std::string line_of(const char* id, const char* sender = "a@b") {
    return std::string(R"({"queue_name": "deferred", "queue_id": ")") + id +
           R"(", "arrival_time": 1, "message_size": 2, "sender": ")" + sender +
           R"(", "recipients": [{"address": "c@d"}]})";
  }

  std::shared_ptr<FakeCommandRunner> runner;
  PostfixMta mta;
};

TEST(PostfixMtaAvailability, NeedsAnExecutablePostqueueAndAReadableMainCf) {
  std::string pattern = (std::filesystem::temp_directory_path() / "etrn-pf-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir = pattern;
  PostfixCommands c;
  c.config_directory = dir.string();
  c.command_directory = dir.string();
  PostfixMta mta(c, std::make_shared<FakeCommandRunner>());
  auto got = mta.available();
  ASSERT_FALSE(got.ok()) << "no postqueue: want unavailable";
  EXPECT_NE(got.error().message.find("postqueue"), std::string::npos) << got.error().message;

  std::ofstream(dir / "postqueue") << "#!/bin/sh\n";
  std::filesystem::permissions(dir / "postqueue", std::filesystem::perms::owner_all);
  got = mta.available();
  ASSERT_FALSE(got.ok()) << "no main.cf: want unavailable";
  EXPECT_NE(got.error().message.find("main.cf"), std::string::npos) << got.error().message;

  std::ofstream(dir / "main.cf") << "\n";
  got = mta.available();
  EXPECT_TRUE(got.ok()) << got.error().message;
  std::filesystem::remove_all(dir);
}

TEST_F(PostfixMtaTest, ListsTheQueueWithPostqueueJAndStreamsEveryMessage) {
  runner->outcomes.push_back({{line_of("ABCDEF1"), line_of("ABCDEF2", "MAILER-DAEMON")}});
  std::vector<QueuedMessage> got;
  auto status = mta.for_each_queued([&](QueuedMessage&& m) { got.push_back(std::move(m)); });
  ASSERT_TRUE(status.ok()) << status.error().message;
  ASSERT_EQ(runner->calls.size(), 1u);
  EXPECT_EQ(runner->calls[0].argv, (Argv{"/usr/sbin/postqueue", "-c", "/etc/postfix-etrn", "-j"}));
  expect_mail_config(runner->calls[0]);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].queue_id, "ABCDEF2");
  EXPECT_EQ(got[1].sender, "");
}

TEST_F(PostfixMtaTest, LeavesOutTheMaildropQueueWhoseIdsChangeAtPickup) {
  std::string maildrop = line_of("ABCDEF2");
  maildrop.replace(maildrop.find("deferred"), 8, "maildrop");
  runner->outcomes.push_back({{line_of("ABCDEF1"), maildrop}});
  std::vector<std::string> ids;
  auto status = mta.for_each_queued([&](QueuedMessage&& m) { ids.push_back(m.queue_id); });
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"ABCDEF1"}));
}

TEST_F(PostfixMtaTest, SkipsAGarbageLineButListsTheRest) {
  runner->outcomes.push_back({{line_of("ABCDEF1"), "garbage {", line_of("ABCDEF2")}});
  int seen = 0;
  auto status = mta.for_each_queued([&](QueuedMessage&&) { ++seen; });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(seen, 2);
}

TEST_F(PostfixMtaTest, FailsTheListingWhenPostqueueFails) {
  FakeOutcome outcome{{line_of("ABCDEF1")}};
  outcome.result = FakeOutcome::exited(69, "postqueue: fatal: Queue report unavailable");
  runner->outcomes.push_back(outcome);
  auto status = mta.for_each_queued([](QueuedMessage&&) {});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("exit status 69: postqueue: fatal"), std::string::npos)
      << status.error().message;
}

TEST_F(PostfixMtaTest, FailsTheListingWhenPostqueueIsKilled) {
  FakeOutcome outcome;
  outcome.result = CommandResult{};
  outcome.result.term_signal = 9;
  runner->outcomes.push_back(outcome);
  EXPECT_FALSE(mta.for_each_queued([](QueuedMessage&&) {}).ok());
}

TEST_F(PostfixMtaTest, FailsTheListingWhenTheOutputIsCutShortAndDropsThePiece) {
  FakeOutcome outcome{{line_of("ABCDEF1")}};
  outcome.stdout_unterminated = line_of("ABCDEF2");
  runner->outcomes.push_back(outcome);
  std::vector<std::string> ids;
  auto status = mta.for_each_queued([&](QueuedMessage&& m) { ids.push_back(m.queue_id); });
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("cut short"), std::string::npos);
  EXPECT_EQ(ids, (std::vector<std::string>{"ABCDEF1"}));
}

TEST_F(PostfixMtaTest, LooksAgainWithASecondListingKeepingOnlyTheMessagesAsked) {
  runner->outcomes.push_back(
      {{line_of("ABCDEF1"), line_of("BCDEF12"), "not json", line_of("CDEF123")}});
  std::vector<std::string> seen;
  auto status = mta.look_again({"BCDEF12", "XYZ0001"},
                               [&](QueuedMessage&& m) { seen.push_back(m.queue_id); });
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(seen, std::vector<std::string>{"BCDEF12"});
  EXPECT_EQ(runner->calls.at(0).argv,
            (Argv{"/usr/sbin/postqueue", "-c", "/etc/postfix-etrn", "-j"}));
}

TEST_F(PostfixMtaTest, ReadsTheEnvelopeWithPostcatE) {
  runner->outcomes.push_back({{"*** ENVELOPE RECORDS deferred/ABCDEF1 ***", "sender: a@b",
                               "named_attribute: notify_flags=4", "recipient: c@d",
                               "*** MESSAGE FILE END deferred/ABCDEF1 ***"}});
  auto envelope = mta.read_envelope("ABCDEF1");
  ASSERT_TRUE(envelope.ok()) << envelope.error().message;
  EXPECT_EQ(runner->calls.at(0).argv,
            (Argv{"/usr/sbin/postcat", "-c", "/etc/postfix-etrn", "-e", "-q", "ABCDEF1"}));
  expect_mail_config(runner->calls[0]);
  expect_utc(runner->calls[0]);
  EXPECT_EQ(envelope->recipients.at(0).dsn.notify.to_string(), "FAILURE");
  EXPECT_EQ(envelope->queue_name, "deferred");
  EXPECT_FALSE(envelope->in_delivery);
}

TEST_F(PostfixMtaTest, TellsAnEnvelopeReadInTheActiveQueueIsInDelivery) {
  runner->outcomes.push_back({{"*** ENVELOPE RECORDS active/ABCDEF1 ***", "sender: a@b",
                               "recipient: c@d", "*** MESSAGE FILE END active/ABCDEF1 ***"}});
  auto envelope = mta.read_envelope("ABCDEF1");
  ASSERT_TRUE(envelope.ok()) << envelope.error().message;
  EXPECT_TRUE(envelope->in_delivery);
}

TEST_F(PostfixMtaTest, RunsNothingForAnInvalidQueueId) {
  for (const char* id : {"ALL", "-", "-d", "", "abc"}) {
    EXPECT_FALSE(mta.read_envelope(id).ok()) << id;
    EXPECT_FALSE(mta.read_content(id, ContentPart::whole_message).ok()) << id;
    EXPECT_FALSE(mta.hold(id).ok()) << id;
    EXPECT_FALSE(mta.remove(id).ok()) << id;
  }
  EXPECT_TRUE(runner->calls.empty()) << "got " << runner->calls.size() << " commands, want none";
}

TEST_F(PostfixMtaTest, ReportsPostcatsFailureForAMissingMessage) {
  runner->outcomes.push_back(
      {{}, "", FakeOutcome::exited(1, "postcat: fatal: open queue file ABCDEF1: No such file")});
  auto envelope = mta.read_envelope("ABCDEF1");
  ASSERT_FALSE(envelope.ok());
  EXPECT_NE(envelope.error().message.find("No such file"), std::string::npos);
  EXPECT_EQ(envelope.error().kind, ErrorKind::gone);
}

TEST_F(PostfixMtaTest, ReadsContentWithPostcatHeadersAndBody) {
  runner->outcomes.push_back({{"Subject: x", "", "body"}});
  auto content = mta.read_content("ABCDEF1", ContentPart::whole_message);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "Subject: x\n\nbody\n");
  EXPECT_EQ(runner->calls.at(0).argv,
            (Argv{"/usr/sbin/postcat", "-c", "/etc/postfix-etrn", "-h", "-b", "-q", "ABCDEF1"}));
}

TEST_F(PostfixMtaTest, ReadsHeadersOnlyWithPostcatH) {
  runner->outcomes.push_back({{"Subject: x"}});
  auto content = mta.read_content("4jcWcd55ffz1bY07", ContentPart::headers_only);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(runner->calls.at(0).argv,
            (Argv{"/usr/sbin/postcat", "-c", "/etc/postfix-etrn", "-h", "-q", "4jcWcd55ffz1bY07"}));
}

TEST_F(PostfixMtaTest, RemovesWithPostsuperDAndChecksTheCount) {
  runner->outcomes.push_back(
      {{},
       "",
       FakeOutcome::exited(0, "postsuper: ABCDEF1: removed\npostsuper: Deleted: 1 message\n")});
  auto status = mta.remove("ABCDEF1");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(runner->calls.at(0).argv,
            (Argv{"/usr/sbin/postsuper", "-c", "/etc/postfix-etrn", "-d", "ABCDEF1"}));
  expect_mail_config(runner->calls[0]);
}

TEST_F(PostfixMtaTest, TreatsZeroDeletedMessagesAsAFailure) {
  runner->outcomes.push_back({{}, "", FakeOutcome::exited(0, "postsuper: Deleted: 0 messages\n")});
  auto status = mta.remove("ABCDEF1");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("Deleted: 0 messages"), std::string::npos);
}

TEST_F(PostfixMtaTest, HoldsWithPostsuperH) {
  runner->outcomes.push_back(
      {{},
       "",
       FakeOutcome::exited(
           0, "postsuper: ABCDEF1: placed on hold\npostsuper: Placed on hold: 1 message\n")});
  EXPECT_TRUE(mta.hold("ABCDEF1").ok());
  EXPECT_EQ(runner->calls.at(0).argv,
            (Argv{"/usr/sbin/postsuper", "-c", "/etc/postfix-etrn", "-h", "ABCDEF1"}));
  runner->outcomes.push_back(
      {{}, "", FakeOutcome::exited(0, "postsuper: Placed on hold: 0 messages\n")});
  EXPECT_FALSE(mta.hold("ABCDEF1").ok());
}

TEST_F(PostfixMtaTest, SaysToRemoveOrReleaseAHeldMessageWithPostsuper) {
  EXPECT_EQ(mta.how_to_remove_held("ABCDEF1"), "remove it with postsuper -d ABCDEF1 hold");
  EXPECT_EQ(mta.how_to_release_held("ABCDEF1"), "release it with postsuper -H ABCDEF1");
}

TEST_F(PostfixMtaTest, SubmitsADsnWithTheNullSenderFromItsText) {
  auto status = mta.submit_dsn("Subject: dsn\n\nbody\n", "alice@sender.example");
  ASSERT_TRUE(status.ok());
  const auto& spec = runner->calls.at(0);
  EXPECT_EQ(spec.argv,
            (Argv{"/usr/sbin/sendmail", "-i", "-f", "<>", "--", "alice@sender.example"}));
  EXPECT_EQ(spec.stdin_source.kind, StdinSource::Kind::text);
  EXPECT_EQ(spec.stdin_source.value, "Subject: dsn\n\nbody\n");
  expect_mail_config(spec);
}

TEST_F(PostfixMtaTest, RefusesADsnRecipientThatLooksLikeAnOption) {
  EXPECT_FALSE(mta.submit_dsn("Subject: dsn\n\n", "-bv").ok());
  EXPECT_FALSE(mta.submit_dsn("Subject: dsn\n\n", "").ok());
  EXPECT_FALSE(mta.submit_dsn("Subject: dsn\n\n", "a@b\nc").ok());
  EXPECT_TRUE(runner->calls.empty());
}

TEST_F(PostfixMtaTest, TellsARefusalForGoodFromAFailureThatMayPass) {
  runner->outcomes.push_back({{}, "", FakeOutcome::exited(65, "sendmail: fatal: bad address")});
  runner->outcomes.push_back({{}, "", FakeOutcome::exited(75, "sendmail: fatal: try again")});
  auto refused = mta.submit_dsn("Subject: dsn\n\n", "alice@sender.example");
  auto temporary = mta.submit_dsn("Subject: dsn\n\n", "alice@sender.example");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::refused) << "EX_DATAERR";
  ASSERT_FALSE(temporary.ok());
  EXPECT_EQ(temporary.error().kind, ErrorKind::other) << "EX_TEMPFAIL";
}

TEST_F(PostfixMtaTest, ReportsAFailedDsnSubmission) {
  runner->outcomes.push_back(
      {{}, "", FakeOutcome::exited(75, "sendmail: fatal: queue file write error")});
  auto status = mta.submit_dsn("Subject: dsn\n\n", "alice@sender.example");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("queue file write error"), std::string::npos);
}

// ---- bulk forms ---------------------------------------------------------

std::vector<std::string> fixture_lines(const std::string& name) {
  std::ifstream in(std::string(ETRN_TEST_DATA_DIR) + "/postfix/" + name);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The two-message fixture as postcat shows it once both are on hold.
std::vector<std::string> held_fixture_lines() {
  std::vector<std::string> lines = fixture_lines("postcat-ehb-two-messages.txt");
  for (std::string& line : lines) {
    if (line.starts_with("*** ")) line.replace(line.find("deferred/B/"), 11, "hold/");
  }
  return lines;
}

TEST_F(PostfixMtaTest, HoldsDeferredMailWithOnePostsuperAndBelievesOnlyItsPerIdLines) {
  runner->outcomes.push_back(
      {{"postsuper: ABCDEF1: placed on hold", "postsuper: Placed on hold: 1 message"}});
  const QueuedMessage a = listed("ABCDEF1"), b = listed("BCDEF12"), c = listed("CDEF123", true);
  auto held = mta.hold_all({{&a, false}, {&b, false}, {&c, true}});
  ASSERT_EQ(held.size(), 3u);
  EXPECT_TRUE(held[0].ok());
  ASSERT_FALSE(held[1].ok()) << "postsuper did not say it held BCDEF12: it moved on";
  EXPECT_EQ(held[1].error().kind, ErrorKind::busy);
  EXPECT_TRUE(held[2].ok()) << "mail on hold already stays there";
  ASSERT_EQ(runner->calls.size(), 1u);
  const CommandSpec& spec = runner->calls[0];
  EXPECT_EQ(spec.argv,
            (Argv{"/usr/sbin/postsuper", "-c", "/etc/postfix-etrn", "-h", "-", "deferred"}));
  EXPECT_EQ(spec.stdin_source.value, "ABCDEF1\nBCDEF12\n") << "only the deferred ones, on stdin";
  EXPECT_TRUE(spec.stderr_to_stdout);
  expect_mail_config(spec);
}

TEST_F(PostfixMtaTest, RemovesAndReleasesOnlyFromTheHoldQueueEachIdConfirmed) {
  runner->outcomes.push_back({{"postsuper: ABCDEF1: removed", "postsuper: Deleted: 1 message"}});
  auto removed = mta.remove_held({"ABCDEF1", "BCDEF12", "-x;rm"});
  ASSERT_EQ(removed.size(), 3u);
  EXPECT_TRUE(removed[0].ok());
  EXPECT_FALSE(removed[1].ok()) << "postsuper did not say it removed BCDEF12";
  EXPECT_FALSE(removed[2].ok()) << "an invalid queue ID is refused";
  EXPECT_EQ(runner->calls.at(0).argv,
            (Argv{"/usr/sbin/postsuper", "-c", "/etc/postfix-etrn", "-d", "-", "hold"}));
  EXPECT_EQ(runner->calls[0].stdin_source.value, "ABCDEF1\nBCDEF12\n")
      << "the invalid ID never reaches it";

  runner->outcomes.push_back(
      {{"postsuper: ABCDEF1: released from hold", "postsuper: Released from hold: 1 message"}});
  auto released = mta.release_held({"ABCDEF1"});
  EXPECT_TRUE(released.at(0).ok());
  EXPECT_EQ(runner->calls.at(1).argv,
            (Argv{"/usr/sbin/postsuper", "-c", "/etc/postfix-etrn", "-H", "-", "hold"}));
}

// Found by fuzzing: "postsuper: removed" overlaps the prefix and the suffix
// that frame an ID, and cutting both off read past the line.
TEST_F(PostfixMtaTest, ALineWithoutAnIdBetweenPrefixAndSuffixRemovesNothing) {
  runner->outcomes.push_back({{"postsuper: removed", "postsuper: : removed"}});
  auto removed = mta.remove_held({"ABCDEF1"});
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_FALSE(removed[0].ok()) << "no line names ABCDEF1";
}

TEST_F(PostfixMtaTest, RemovesNothingWhenPostsuperCannotRun) {
  FakeOutcome broken;
  broken.start_error = make_error("no such program");
  runner->outcomes.push_back(broken);
  auto removed = mta.remove_held({"ABCDEF1"});
  ASSERT_FALSE(removed.at(0).ok());
  EXPECT_NE(removed[0].error().message.find("no such program"), std::string::npos);
}

TEST_F(PostfixMtaTest, ReadsManyHeldCopiesWithOnePostcatInUtc) {
  runner->outcomes.push_back({held_fixture_lines()});
  const QueuedMessage a = listed("B6400A76115", true), b = listed("B9DAEA76116", true);
  auto held = mta.read_held({&a, &b}, ContentPart::whole_message);
  ASSERT_EQ(held.size(), 2u);
  ASSERT_TRUE(held[0].ok() && held[1].ok()) << (held[0] ? held[1] : held[0]).error().message;
  EXPECT_NE(held[1]->content.find("Received: from"), std::string::npos);
  EXPECT_EQ(held[1]->envelope.envelope.sender, "sender@sender.example");
  ASSERT_EQ(runner->calls.size(), 1u);
  EXPECT_EQ(runner->calls[0].argv, (Argv{"/usr/sbin/postcat", "-c", "/etc/postfix-etrn", "-e", "-h",
                                         "-b", "-q", "B6400A76115", "B9DAEA76116"}));
  expect_utc(runner->calls[0]);
}

TEST_F(PostfixMtaTest, ACopyThatIsNotTheListedMessageOnHoldIsGone) {
  const QueuedMessage reused = listed("B6400A76115", true, 1795929666 - 3600);
  const QueuedMessage other_sender = listed("B9DAEA76116", true, 1795929666, "x@sender.example");
  runner->outcomes.push_back({held_fixture_lines()});
  auto held = mta.read_held({&reused, &other_sender}, ContentPart::whole_message);
  for (const auto& h : held) {
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.error().kind, ErrorKind::gone) << h.error().message;
  }
  const QueuedMessage a = listed("B6400A76115", true), b = listed("B9DAEA76116", true);
  runner->outcomes.push_back({fixture_lines("postcat-ehb-two-messages.txt")});
  held = mta.read_held({&a, &b}, ContentPart::whole_message);
  ASSERT_FALSE(held.at(0).ok());
  EXPECT_NE(held[0].error().message.find("not on hold but in \"deferred\""), std::string::npos)
      << held[0].error().message;
}

TEST_F(PostfixMtaTest, ReadsHeldCopiesOneByOneWhenTheBulkOutputCannotBeSplit) {
  runner->outcomes.push_back(
      {{},
       "",
       FakeOutcome::exited(1, "postcat: fatal: open queue file B9DAEA76116: No such file")});
  runner->outcomes.push_back(
      {{"*** ENVELOPE RECORDS hold/B6400A76115 ***",
        "message_arrival_time: Sun Nov 29 05:21:06 2026", "sender: sender@sender.example",
        "recipient: c@d", "*** MESSAGE FILE END hold/B6400A76115 ***"}});
  runner->outcomes.push_back({{"Subject: one"}});
  runner->outcomes.push_back(
      {{},
       "",
       FakeOutcome::exited(1, "postcat: fatal: open queue file B9DAEA76116: No such file")});
  const QueuedMessage a = listed("B6400A76115", true), b = listed("B9DAEA76116", true);
  auto held = mta.read_held({&a, &b}, ContentPart::headers_only);
  ASSERT_EQ(runner->calls.size(), 4u);
  EXPECT_EQ(runner->calls[1].argv,
            (Argv{"/usr/sbin/postcat", "-c", "/etc/postfix-etrn", "-e", "-q", "B6400A76115"}));
  EXPECT_EQ(runner->calls[2].argv,
            (Argv{"/usr/sbin/postcat", "-c", "/etc/postfix-etrn", "-h", "-q", "B6400A76115"}));
  ASSERT_TRUE(held[0].ok()) << held[0].error().message;
  EXPECT_EQ(held[0]->content, "Subject: one\n");
  ASSERT_FALSE(held[1].ok()) << "the message that left the queue is an error of its own";
  EXPECT_EQ(held[1].error().kind, ErrorKind::gone);
}

// Adoption after a milter outage: thousands of messages, one postcat per
// batch instead of two per message (issue 15).
TEST_F(PostfixMtaTest, ReadsManyEnvelopesAndHeadersWithOnePostcat) {
  runner->outcomes.push_back({fixture_lines("postcat-eh-two-messages.txt")});
  const std::vector<std::string> ids = {"B6400A76115", "B9DAEA76116"};
  auto read = mta.read_headers(ids);
  ASSERT_EQ(runner->calls.size(), 1u);
  EXPECT_EQ(runner->calls[0].argv, (Argv{"/usr/sbin/postcat", "-c", "/etc/postfix-etrn", "-e", "-h",
                                         "-q", ids[0], ids[1]}));
  expect_utc(runner->calls[0]);
  ASSERT_EQ(read.size(), 2u);
  for (const auto& m : read) {
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->envelope.envelope.sender, "sender@sender.example");
    EXPECT_FALSE(m->envelope.in_delivery) << "read in the deferred queue";
    EXPECT_NE(m->content.find("Received: from"), std::string::npos);
  }
}

TEST_F(PostfixMtaTest, ReadsHeadersOneByOneForAnInvalidQueueId) {
  auto read = mta.read_headers({"B6400A76115", "-x;rm"});
  ASSERT_EQ(read.size(), 2u);
  EXPECT_FALSE(read[1].ok()) << "an invalid ID is refused";
  for (const auto& call : runner->calls)
    EXPECT_EQ(std::find(call.argv.begin(), call.argv.end(), "-x;rm"), call.argv.end())
        << "the invalid ID reaches no command";
}

TEST_F(PostfixMtaTest, AsksPostconfForItsHostNameAndRecipientLimit) {
  runner->outcomes.push_back({{"mx.provider.example"}});
  runner->outcomes.push_back({{"1000"}});
  runner->outcomes.push_back({{"many"}});
  EXPECT_EQ(mta.own_host_name().value(), "mx.provider.example");
  EXPECT_EQ(runner->calls.at(0).argv,
            (Argv{"/usr/sbin/postconf", "-c", "/etc/postfix-etrn", "-h", "myhostname"}));
  EXPECT_EQ(mta.recipients_per_copy().value(), 1000u);
  EXPECT_EQ(runner->calls.at(1).argv,
            (Argv{"/usr/sbin/postconf", "-c", "/etc/postfix-etrn", "-h", "smtpd_recipient_limit"}));
  EXPECT_FALSE(mta.recipients_per_copy().ok()) << "not a number";
}

TEST_F(PostfixMtaTest, ReadsQueueLifetimesWithPostconf) {
  runner->outcomes.push_back({{"5d", "1h"}});
  auto got = mta.queue_lifetimes();
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->maximal_queue_lifetime, 5 * 86400);
  EXPECT_EQ(got->bounce_queue_lifetime, 3600);
  EXPECT_EQ(runner->calls.at(0).argv, (Argv{"/usr/sbin/postconf", "-c", "/etc/postfix-etrn", "-h",
                                            "maximal_queue_lifetime", "bounce_queue_lifetime"}));
}

TEST_F(PostfixMtaTest, ReadsManyEnvelopesWithOnePostcatE) {
  runner->outcomes.push_back({fixture_lines("postcat-e-expanded-two-messages.txt")});
  auto envelopes = mta.read_envelopes({"0181EA72AB0", "0ADFEA72ABD"});
  ASSERT_EQ(envelopes.size(), 2u);
  ASSERT_TRUE(envelopes[0].ok() && envelopes[1].ok());
  EXPECT_EQ(envelopes[0]->recipients.at(1).original_recipient, "team@customer.example");
  EXPECT_EQ(envelopes[1]->recipients.at(0).original_recipient, "bob@customer.example");
  ASSERT_EQ(runner->calls.size(), 1u);
  EXPECT_EQ(runner->calls[0].argv, (Argv{"/usr/sbin/postcat", "-c", "/etc/postfix-etrn", "-e", "-q",
                                         "0181EA72AB0", "0ADFEA72ABD"}));
}

TEST_F(PostfixMtaTest, ReadsEnvelopesOneByOneWhenOneOfThemLeftTheQueue) {
  runner->outcomes.push_back(
      {{}, "", FakeOutcome::exited(1, "postcat: fatal: open queue file 0ADFEA72ABD: No such")});
  runner->outcomes.push_back({fixture_lines("postcat-e-done-recipient.txt")});
  runner->outcomes.push_back(
      {{}, "", FakeOutcome::exited(1, "postcat: fatal: open queue file 0ADFEA72ABD: No such")});
  auto envelopes = mta.read_envelopes({"AB5EDA72013", "0ADFEA72ABD"});
  ASSERT_EQ(runner->calls.size(), 3u);
  EXPECT_EQ(runner->calls[1].argv,
            (Argv{"/usr/sbin/postcat", "-c", "/etc/postfix-etrn", "-e", "-q", "AB5EDA72013"}));
  EXPECT_TRUE(envelopes.at(0).ok());
  EXPECT_FALSE(envelopes.at(1).ok());
}

TEST_F(PostfixMtaTest, AsksEachTransportMapForTheKeysOfEveryAddressInTrivialRewritesOrder) {
  runner->outcomes.push_back(
      {{"hash:/etc/postfix/transport, regexp:/etc/postfix/transport.re", ""}});
  runner->outcomes.push_back({{"sub.slow.example\tslowlane:", "customer.example\tetrn-only:[h]"}});
  runner->outcomes.push_back({{"vip@customer.example\tsmtp:[vip]"}});
  auto got = mta.transports_for({"x@Sub.Slow.Example", "vip@customer.example",
                                 "bob@customer.example", "nobody@else.example", "-bad"});
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, (std::map<std::string, std::string>{{"x@Sub.Slow.Example", "slowlane"},
                                                      {"vip@customer.example", "smtp"},
                                                      {"bob@customer.example", "etrn-only"}}))
      << "the whole address first: vip@ before its domain";
  ASSERT_EQ(runner->calls.size(), 3u);
  EXPECT_EQ(runner->calls[0].argv, (Argv{"/usr/sbin/postconf", "-c", "/etc/postfix-etrn", "-xh",
                                         "transport_maps", "parent_domain_matches_subdomains"}));
  EXPECT_EQ(runner->calls[1].argv, (Argv{"/usr/sbin/postmap", "-c", "/etc/postfix-etrn", "-q", "-",
                                         "hash:/etc/postfix/transport"}));
  EXPECT_EQ(runner->calls[1].stdin_source.value,
            "*\n.example\n.slow.example\nbob@customer.example\ncustomer.example\nelse.example\n"
            "nobody@else.example\nsub.slow.example\nvip@customer.example\nx@sub.slow.example\n");
  EXPECT_EQ(runner->calls[2].stdin_source.value,
            "bob@customer.example\nnobody@else.example\nvip@customer.example\nx@sub.slow.example\n")
      << "a regexp table is asked the whole address only";
  expect_mail_config(runner->calls[1]);
}

TEST_F(PostfixMtaTest, ATransportMapThatCannotBeReadIsAnError) {
  runner->outcomes.push_back({{"hash:/etc/postfix/transport", ""}});
  runner->outcomes.push_back(
      {{}, "", FakeOutcome::exited(1, "postmap: fatal: open database /etc/postfix/transport.db")});
  auto got = mta.transports_for({"bob@customer.example"});
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find("open database"), std::string::npos) << got.error().message;
}

TEST_F(PostfixMtaTest, NoKeyFoundIsNoTransportAndNothingIsRunForNoAddress) {
  runner->outcomes.push_back({{"hash:/etc/postfix/transport", ""}});
  runner->outcomes.push_back({{}, "", FakeOutcome::exited(1, "")});
  auto got = mta.transports_for({"bob@customer.example"});
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(got->empty());
  runner->calls.clear();
  EXPECT_TRUE(mta.transports_for({}).ok());
  EXPECT_TRUE(runner->calls.empty());
}

TEST_F(PostfixMtaTest, ReinjectsOverSendmailBsAsMailOwner) {
  ETRN_REQUIRE_PREREQUISITE(::geteuid() == 0, "needs root to pick mail_owner credentials");
  runner->outcomes.push_back({{"root"}});  // postconf -h mail_owner
  runner->smtp_replies = {"220 mx", "250 mx", "250 Ok",
                          "250 Ok", "354 go", "250 2.0.0 Ok: queued as C1F98A7211F"};
  auto id = mta.reinject("Subject: x\n\nbody\n",
                         Envelope{"erin@sender.example", ReturnContent::headers, "x+y", false},
                         {{"frank@customer.example", {Notify::parse("FAILURE"), "rfc822;f@c"}}});
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(*id, "C1F98A7211F");
  ASSERT_EQ(runner->calls.size(), 2u);
  EXPECT_EQ(runner->calls[0].argv,
            (Argv{"/usr/sbin/postconf", "-c", "/etc/postfix-etrn", "-h", "mail_owner"}));
  EXPECT_EQ(runner->calls[1].argv, (Argv{"/usr/sbin/sendmail", "-bs"}));
  expect_mail_config(runner->calls[1]);
  ASSERT_TRUE(runner->calls[1].run_as.has_value());
  EXPECT_EQ(runner->calls[1].run_as->uid, 0u) << "mail_owner \"root\" in this test";
  EXPECT_NE(runner->smtp_transcript.find("RCPT TO:<frank@customer.example> NOTIFY=FAILURE "
                                         "ORCPT=rfc822;f@c\r\n"),
            std::string::npos)
      << runner->smtp_transcript;
}

TEST_F(PostfixMtaTest, LooksUpMailOwnerOnceBeforeTheSubmissionChildrenAreForked) {
  ETRN_REQUIRE_PREREQUISITE(::geteuid() == 0, "needs root to pick mail_owner credentials");
  runner->outcomes.push_back({{"root"}});  // postconf -h mail_owner
  mta.prepare_dsn_submission();
  runner->smtp_replies = {"220 mx", "250 mx"};
  auto submitter = mta.open_dsn_submitter();
  ASSERT_TRUE(submitter.ok()) << submitter.error().message;
  ASSERT_EQ(runner->calls.size(), 2u) << "one postconf, then sendmail -bs";
  EXPECT_EQ(runner->calls[1].argv, (Argv{"/usr/sbin/sendmail", "-bs"}));
  ASSERT_TRUE(runner->calls[1].run_as.has_value());
}

TEST_F(PostfixMtaTest, DoesNotReinjectWithoutContentOrRecipients) {
  const Envelope envelope{"a@b", ReturnContent::unspecified, "", false};
  EXPECT_FALSE(mta.reinject("", envelope, {{"c@d", {}}}).ok()) << "no content";
  EXPECT_FALSE(mta.reinject("Subject: x\n\nbody\n", envelope, {}).ok()) << "no recipients";
  EXPECT_TRUE(runner->calls.empty());
}

}  // namespace
}  // namespace etrn

namespace etrn {
namespace {

// PostfixMta with the real ProcessRunner and script stand-ins for postqueue
// in a temporary command directory.
class PostfixMtaWithScripts : public ::testing::Test {
 protected:
  PostfixMtaWithScripts()
      : dir_(std::filesystem::temp_directory_path() /
             ("etrn-fake-postfix-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
  }
  ~PostfixMtaWithScripts() override { std::filesystem::remove_all(dir_); }

  void install(const std::string& program, const std::string& body) {
    const auto path = dir_ / program;
    std::ofstream(path) << "#!/bin/sh\n" << body;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  }

  PostfixMta mta() {
    PostfixCommands commands;
    commands.config_directory = "/etc/postfix-test";
    commands.command_directory = dir_.string();
    return PostfixMta(commands, std::make_shared<ProcessRunner>());
  }

  std::filesystem::path dir_;
};

// A shell command printing `n` valid `postqueue -j` lines.
std::string json_lines_command(int n) {
  return "awk -v N=" + std::to_string(n) +
         " 'BEGIN { for (i = 0; i < N; i++) printf \"{\\\"queue_name\\\": \\\"deferred\\\", "
         "\\\"queue_id\\\": \\\"%X\\\", \\\"arrival_time\\\": %d, \\\"message_size\\\": 1, "
         "\\\"sender\\\": \\\"a@b\\\", \\\"recipients\\\": [{\\\"address\\\": \\\"c@d\\\"}]}\\n\", "
         "1048576 + i, i }'";
}

TEST_F(PostfixMtaWithScripts, StreamsAHundredThousandQueuedMessages) {
  install("postqueue", json_lines_command(100000) + "\n");
  auto adapter = mta();
  std::size_t count = 0;
  std::int64_t last_arrival = -1;
  auto status = adapter.for_each_queued([&](QueuedMessage&& m) {
    ++count;
    last_arrival = m.arrival_time;
  });
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(count, 100000u);
  EXPECT_EQ(last_arrival, 99999);
}

TEST_F(PostfixMtaWithScripts, SeesMailConfigAndTheArguments) {
  install("postqueue", "echo \"$MAIL_CONFIG $*\" >&2; exit 1\n");
  auto adapter = mta();
  auto status = adapter.for_each_queued([](QueuedMessage&&) {});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("exit status 1: /etc/postfix-test -c /etc/postfix-test -j"),
            std::string::npos)
      << status.error().message;
}

TEST_F(PostfixMtaWithScripts, FailsWhenPostqueueExitsNonZeroAfterPrintingLines) {
  install("postqueue", json_lines_command(3) + "; exit 1\n");
  auto adapter = mta();
  EXPECT_FALSE(adapter.for_each_queued([](QueuedMessage&&) {}).ok());
}

TEST_F(PostfixMtaWithScripts, FailsWhenPostqueueOutputIsCutShort) {
  install("postqueue", json_lines_command(3) + "; printf '{\"queue_name\": \"def'\n");
  auto adapter = mta();
  int seen = 0;
  auto status = adapter.for_each_queued([&](QueuedMessage&&) { ++seen; });
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("cut short"), std::string::npos);
  EXPECT_EQ(seen, 3);
}

TEST_F(PostfixMtaWithScripts, SkipsGarbageLinesFromPostqueue) {
  install("postqueue", "echo 'postqueue: warning: garbage'; " + json_lines_command(2) +
                           "; echo '{\"queue_id\": \"ALL\"}'\n");
  auto adapter = mta();
  int seen = 0;
  auto status = adapter.for_each_queued([&](QueuedMessage&&) { ++seen; });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace etrn
