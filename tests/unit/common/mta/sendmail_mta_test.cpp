// Tests for SendmailMta with a scripted CommandRunner (the exact argv of
// every Sendmail command) over a real temporary queue directory holding qf
// files captured from Sendmail 8.17.1.9 (tests/data/sendmail/).
#include "common/mta/sendmail_mta.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "common/util/posix_file.hpp"
#include "tests/unit/common/mta/fake_command_runner.hpp"

namespace etrn {
namespace {

namespace fs = std::filesystem;
using testing::FakeCommandRunner;
using testing::FakeOutcome;

constexpr const char* kProgram = "/opt/sendmail/sendmail";
constexpr const char* kCf = "/etc/mail/test.cf";
constexpr const char* kId = "6AT3P87O011046";

class SendmailMtaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "etrn-sendmail-mta-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    fs::create_directories(dir_ / "qf");
    fs::create_directories(dir_ / "df");
    copy_fixture("qf-dsn-parameters", dir_ / "qf" / (std::string("qf") + kId));
    copy_fixture("df-dsn-parameters", dir_ / "df" / (std::string("df") + kId));
    copy_fixture("hf-quarantined-8bit", dir_ / "qf" / "hf6AT3SGBe016782");
  }
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "test files left in " << dir_ << "\n";
    } else {
      fs::remove_all(dir_);
    }
  }
  static void copy_fixture(const std::string& name, const fs::path& to) {
    fs::copy_file(fs::path(ETRN_TEST_DATA_DIR) / "sendmail" / name, to);
  }
  SendmailMta mta(std::vector<std::string> transports = {"dsmtp"}) {
    SendmailCommands c;
    c.program = kProgram;
    c.config_file = kCf;
    c.queue_directories = {dir_.string()};
    c.etrn_transports = std::move(transports);
    return SendmailMta(c, runner_);
  }
  std::map<std::string, QueuedMessage> listed(SendmailMta& m) {
    std::map<std::string, QueuedMessage> out;
    auto status = m.for_each_queued([&](QueuedMessage&& q) { out[q.queue_id] = std::move(q); });
    EXPECT_TRUE(status.ok()) << status.error().message;
    return out;
  }
  fs::path dir_;
  std::shared_ptr<FakeCommandRunner> runner_ = std::make_shared<FakeCommandRunner>();
};

TEST_F(SendmailMtaTest, IsAvailableOnlyWhenEveryQueueDirectoryExists) {
  EXPECT_TRUE(mta().available().ok());
  SendmailCommands c;
  c.program = kProgram;
  c.queue_directories = {dir_.string(), (dir_ / "missing").string()};
  auto got = SendmailMta(c, runner_).available();
  ASSERT_FALSE(got.ok()) << "a missing queue directory must make the MTA unavailable";
  EXPECT_NE(got.error().message.find("missing"), std::string::npos) << got.error().message;
  c.queue_directories = {};
  EXPECT_FALSE(SendmailMta(c, runner_).available().ok()) << "no queue directory at all";
}

TEST_F(SendmailMtaTest, ListsQueuedAndQuarantinedMessagesWithTheirMailers) {
  // One address per domain is asked about; which one depends on the
  // directory order, so both are answered.
  runner_->outcomes.push_back(FakeOutcome(
      {"bob@customer.example... deliverable: mailer dsmtp, host [127.0.0.1], user bob",
       "frank@customer.example... deliverable: mailer dsmtp, host [127.0.0.1], user frank"}));
  auto m = mta();
  auto queue = listed(m);
  ASSERT_EQ(queue.size(), 2u);
  const QueuedMessage& q = queue.at(kId);
  EXPECT_EQ(q.queue_name, "queue");
  EXPECT_EQ(q.arrival_time, 1795922708);
  EXPECT_EQ(q.sender, "alice@sender.example");
  EXPECT_FALSE(q.busy);
  EXPECT_FALSE(q.held);
  ASSERT_EQ(q.recipients.size(), 3u);
  EXPECT_EQ(q.recipients[0].mailer, "dsmtp") << "from sendmail -bv";
  EXPECT_EQ(queue.at("6AT3SGBe016782").queue_name, "hold") << "an hf file is quarantined";
  EXPECT_TRUE(queue.at("6AT3SGBe016782").held) << "a quarantined message is held";
  ASSERT_EQ(runner_->calls.size(), 1u);
  const auto& argv = runner_->calls[0].argv;
  ASSERT_EQ(argv.size(), 5u) << "one address per domain";
  EXPECT_EQ((std::vector<std::string>(argv.begin(), argv.begin() + 4)),
            (std::vector<std::string>{kProgram, std::string("-C") + kCf, "-bv", "--"}));
  EXPECT_NE(argv[4].find("@customer.example"), std::string::npos) << argv[4];
}

TEST_F(SendmailMtaTest, DoesNotAskForMailersWithoutEtrnTransports) {
  auto m = mta({});
  EXPECT_EQ(listed(m).size(), 2u);
  EXPECT_TRUE(runner_->calls.empty());
}

TEST_F(SendmailMtaTest, AFailedMailerLookupStillListsTheQueue) {
  FakeOutcome failed;
  failed.start_error = make_error("no such program");
  runner_->outcomes.push_back(failed);
  auto m = mta();
  auto queue = listed(m);
  ASSERT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue.at(kId).recipients[0].mailer, "");
}

TEST_F(SendmailMtaTest, SkipsADamagedQueueFileAndListsTheRest) {
  copy_fixture("damaged-truncated", dir_ / "qf" / "qf6AT3TORq018081");
  auto m = mta({});
  auto queue = listed(m);
  EXPECT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue.count("6AT3TORq018081"), 0u) << "a damaged file must not be listed";
}

TEST_F(SendmailMtaTest, ReadsTheEnvelopeFromTheQfFile) {
  auto m = mta();
  auto e = m.read_envelope(kId);
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->envelope.sender, "alice@sender.example");
  EXPECT_EQ(e->envelope.ret, ReturnContent::headers);
  EXPECT_EQ(e->envelope.envid, "env+id-1");
  ASSERT_EQ(e->recipients.size(), 3u);
  EXPECT_EQ(e->recipients[0].dsn.orcpt, "rfc822;Bob@customer.example");
  EXPECT_EQ(e->recipients[0].original_recipient, "Bob@customer.example") << "from its ORCPT";
  EXPECT_EQ(e->recipients[1].original_recipient, "carol@customer.example") << "from its r line";
  EXPECT_FALSE(m.read_envelope("6AT3XXXX000000").ok()) << "not queued";
  EXPECT_FALSE(m.read_envelope("../../x").ok()) << "not an ID";
}

TEST_F(SendmailMtaTest, LooksAgainAtTheQueueFilesOfTheMessagesAsked) {
  runner_->outcomes.push_back(FakeOutcome(
      {"bob@customer.example... deliverable: mailer dsmtp, host [127.0.0.1], user bob"}));
  auto m = mta();
  std::vector<QueuedMessage> found;
  auto status = m.look_again({kId, "6AT3SGBe016782", "6AT3XXXX000000"},
                             [&](QueuedMessage&& q) { found.push_back(std::move(q)); });
  ASSERT_TRUE(status.ok()) << status.error().message;
  ASSERT_EQ(found.size(), 2u) << "the missing one is not there";
  EXPECT_EQ(found[0].queue_id, kId);
  EXPECT_EQ(found[0].arrival_time, 1795922708);
  EXPECT_EQ(found[0].recipients.at(0).mailer, "dsmtp");
  EXPECT_TRUE(found[1].held);
  ASSERT_EQ(runner_->calls.size(), 1u) << "no listing: only the mailer lookup";
}

TEST_F(SendmailMtaTest, ReadsHeadersAloneOrHeadersAndBody) {
  auto m = mta();
  auto headers = m.read_content(kId, ContentPart::headers_only);
  ASSERT_TRUE(headers.ok()) << headers.error().message;
  EXPECT_EQ(headers->back(), '\n');
  EXPECT_EQ(headers->find("body line"), std::string::npos);
  auto full = m.read_content(kId, ContentPart::whole_message);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(*full, *headers + "\nbody line\n.dot line\n");
}

TEST_F(SendmailMtaTest, SubmitsADsnWithTheNullSenderThroughItsOwnSendmail) {
  auto m = mta();
  ASSERT_TRUE(m.submit_dsn("Subject: dsn\n\n", "alice@sender.example").ok());
  ASSERT_EQ(runner_->calls.size(), 1u);
  EXPECT_EQ(runner_->calls[0].argv,
            (std::vector<std::string>{kProgram, std::string("-C") + kCf, "-i", "-f", "<>", "--",
                                      "alice@sender.example"}));
  EXPECT_EQ(runner_->calls[0].stdin_source.value, "Subject: dsn\n\n");
  EXPECT_FALSE(m.submit_dsn("Subject: dsn\n\n", "-oQ/tmp").ok()) << "an option as recipient";
  runner_->outcomes.push_back(FakeOutcome({}, "", FakeOutcome::exited(75, "deferred")));
  auto deferred = m.submit_dsn("Subject: dsn\n\n", "alice@sender.example");
  ASSERT_FALSE(deferred.ok());
  EXPECT_EQ(deferred.error().kind, ErrorKind::other) << "EX_TEMPFAIL may pass";
  runner_->outcomes.push_back(FakeOutcome({}, "", FakeOutcome::exited(67, "User unknown")));
  auto refused = m.submit_dsn("Subject: dsn\n\n", "alice@sender.example");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::refused) << "EX_NOUSER";
}

TEST_F(SendmailMtaTest, HoldQuarantinesWithSendmailAndChecksThatItHappened) {
  auto m = mta();
  auto held = m.hold(kId);
  ASSERT_FALSE(held.ok()) << "the fake runner did not quarantine anything";
  EXPECT_NE(held.error().message.find("not quarantined"), std::string::npos);
  ASSERT_EQ(runner_->calls.size(), 1u);
  const auto& argv = runner_->calls[0].argv;
  ASSERT_EQ(argv.size(), 4u);
  EXPECT_EQ(argv[2], std::string("-qI") + kId);
  EXPECT_EQ(argv[3].rfind("-Q", 0), 0u);

  fs::rename(dir_ / "qf" / (std::string("qf") + kId), dir_ / "qf" / (std::string("hf") + kId));
  EXPECT_FALSE(m.hold(kId).ok()) << "already quarantined";
}

// ---- the expiry protocol -------------------------------------------------

TEST_F(SendmailMtaTest, HoldsByLockingTheQfAndKeepsTheLockUntilTheUnlink) {
  auto m = mta({});
  auto queue = listed(m);
  const QueuedMessage listed_message = queue.at(kId);
  const std::string qf = (dir_ / "qf" / (std::string("qf") + kId)).string();
  auto held = m.hold_all({{&listed_message, false}});
  ASSERT_TRUE(held.at(0).ok()) << held[0].error().message;
  EXPECT_TRUE(runner_->calls.empty()) << "a lock, no command";
  auto probe = open_file(qf, O_RDONLY);
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(try_lock(*probe, LockMode::shared, qf).value(), LockOutcome::busy)
      << "Sendmail cannot take the message while the sweeper reports on it";

  auto copies = m.read_held({&listed_message}, ContentPart::whole_message);
  ASSERT_TRUE(copies.at(0).ok()) << copies[0].error().message;
  EXPECT_EQ(copies[0]->envelope.envelope.sender, "alice@sender.example") << "the qf's S line";
  EXPECT_EQ(copies[0]->envelope.arrival_time, listed_message.arrival_time);
  EXPECT_NE(copies[0]->content.find("body line"), std::string::npos);
  EXPECT_EQ(try_lock(*probe, LockMode::shared, qf).value(), LockOutcome::busy)
      << "still locked after the read";

  auto removed = m.remove_held({kId});
  ASSERT_TRUE(removed.at(0).ok()) << removed[0].error().message;
  EXPECT_FALSE(fs::exists(qf));
  EXPECT_FALSE(fs::exists(dir_ / "df" / (std::string("df") + kId)));
}

TEST_F(SendmailMtaTest, AMessageSendmailHasLockedIsNotTakenAndAnotherMessageIsGone) {
  auto m = mta({});
  auto queue = listed(m);
  const std::string qf = (dir_ / "qf" / (std::string("qf") + kId)).string();
  auto sendmail = open_file(qf, O_RDONLY);
  ASSERT_TRUE(sendmail.ok());
  ASSERT_EQ(try_lock(*sendmail, LockMode::exclusive, qf).value(), LockOutcome::acquired);
  auto held = m.hold_all({{&queue.at(kId), false}});
  ASSERT_FALSE(held.at(0).ok());
  EXPECT_EQ(held[0].error().kind, ErrorKind::busy);
  sendmail->reset();

  QueuedMessage reused = queue.at(kId);
  reused.arrival_time += 3600;  // another message under the same ID
  ASSERT_TRUE(m.hold_all({{&reused, false}}).at(0).ok());
  auto copies = m.read_held({&reused}, ContentPart::headers_only);
  ASSERT_FALSE(copies.at(0).ok());
  EXPECT_EQ(copies[0].error().kind, ErrorKind::gone) << copies[0].error().message;
  EXPECT_TRUE(m.release_held({kId}).at(0).ok());
  EXPECT_TRUE(runner_->calls.empty()) << "not quarantined: nothing to lift";
  auto probe = open_file(qf, O_RDONLY);
  EXPECT_EQ(try_lock(*probe, LockMode::exclusive, qf).value(), LockOutcome::acquired)
      << "released: Sendmail may deliver it again";
}

TEST_F(SendmailMtaTest, ReleasingAQuarantinedMessageLiftsTheQuarantine) {
  auto m = mta({});
  auto queue = listed(m);
  const QueuedMessage& quarantined = queue.at("6AT3SGBe016782");
  ASSERT_TRUE(m.hold_all({{&quarantined, true}}).at(0).ok());
  ASSERT_TRUE(m.release_held({"6AT3SGBe016782"}).at(0).ok());
  ASSERT_EQ(runner_->calls.size(), 1u);
  EXPECT_EQ(runner_->calls[0].argv, (std::vector<std::string>{kProgram, std::string("-C") + kCf,
                                                              "-qQ", "-qI6AT3SGBe016782", "-Q"}));
}

TEST_F(SendmailMtaTest, AsksSendmailForItsOwnNameWithDollarJInTestMode) {
  runner_->outcomes.push_back(
      FakeOutcome({"ADDRESS TEST MODE (ruleset 3 NOT automatically invoked)",
                   "Enter <ruleset> <address>", "> mx.provider.example", "> "}));
  auto m = mta();
  auto name = m.own_host_name();
  ASSERT_TRUE(name.ok()) << name.error().message;
  EXPECT_EQ(*name, "mx.provider.example");
  EXPECT_EQ(runner_->calls.at(0).argv,
            (std::vector<std::string>{kProgram, std::string("-C") + kCf, "-bt"}));
  EXPECT_EQ(runner_->calls[0].stdin_source.value, "$j\n");
  runner_->outcomes.push_back(FakeOutcome({"> "}));
  EXPECT_FALSE(m.own_host_name().ok()) << "no value printed";
}

TEST_F(SendmailMtaTest, SaysWhichFilesToDeleteToRemoveAHeldMessageByHand) {
  const fs::path qf = dir_ / "qf" / (std::string("qf") + kId);
  const fs::path df = dir_ / "df" / (std::string("df") + kId);
  EXPECT_EQ(mta().how_to_remove_held(kId), "remove it with rm " + qf.string() + " " + df.string());
}

TEST_F(SendmailMtaTest, RemovesTheMessageFiles) {
  auto m = mta();
  ASSERT_TRUE(m.remove(kId).ok());
  EXPECT_FALSE(fs::exists(dir_ / "qf" / (std::string("qf") + kId)));
  EXPECT_FALSE(fs::exists(dir_ / "df" / (std::string("df") + kId)));
  EXPECT_FALSE(m.remove(kId).ok()) << "a second removal finds nothing";
}

TEST_F(SendmailMtaTest, ReinjectsOverSmtpAndReadsSendmailsQueueId) {
  runner_->smtp_replies = {
      "220 mx ESMTP", "250 ok", "250 ok",
      "250 ok",       "354 go", "250 2.0.0 6AT4aaBB012345 Message accepted for delivery"};
  auto m = mta();
  auto id = m.reinject("Subject: x\n\nbody\n",
                       Envelope{"alice@sender.example", ReturnContent::headers, "e1", false},
                       {{"bob@customer.example", {Notify::parse("FAILURE"), ""}}});
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(*id, "6AT4aaBB012345");
  EXPECT_EQ(runner_->calls.at(0).argv,
            (std::vector<std::string>{kProgram, std::string("-C") + kCf, "-bs",
                                      "-M{client_addr}127.0.0.1"}));
  EXPECT_NE(runner_->smtp_transcript.find("RCPT TO:<bob@customer.example> NOTIFY=FAILURE"),
            std::string::npos)
      << runner_->smtp_transcript;
}

TEST(SendmailReplies, TheQueueIdIsReadWithOrWithoutTheReplyCode) {
  for (const char* reply : {"250 2.0.0 6AT3P87O011046 Message accepted for delivery",
                            "2.0.0 6AT3P87O011046 Message accepted for delivery",
                            "6AT3P87O011046 Message accepted for delivery"}) {
    auto id = sendmail_queue_id_from_reply(reply);
    ASSERT_TRUE(id.ok()) << reply << ": " << id.error().message;
    EXPECT_EQ(*id, "6AT3P87O011046") << reply;
  }
  EXPECT_FALSE(sendmail_queue_id_from_reply("250 2.0.0 Ok: queued as 3F1C2A7225E").ok());
  EXPECT_FALSE(sendmail_queue_id_from_reply("").ok());
}

TEST(SendmailReplies, VerifyOutputGivesEachAddressItsMailer) {
  const auto mailers = parse_sendmail_verify_output(
      {"Bob@Customer.example... deliverable: mailer dsmtp, host [127.0.0.1], user bob",
       "gina@other.example... deliverable: mailer esmtp, host other.example, user gina",
       "x@y.example... User unknown"});
  EXPECT_EQ(mailers, (std::map<std::string, std::string>{{"bob@customer.example", "dsmtp"},
                                                         {"gina@other.example", "esmtp"}}));
}

}  // namespace
}  // namespace etrn
