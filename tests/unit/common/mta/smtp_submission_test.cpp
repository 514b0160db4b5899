// Tests for smtp_submission: the SMTP commands and the dialogue, against a
// scripted peer.
#include "common/mta/smtp_submission.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/unit/common/mta/fake_command_runner.hpp"

namespace etrn {
namespace {

using testing::FakeSession;

ReinjectRecipient recipient(std::string address, std::string notify, std::string orcpt) {
  return {std::move(address),
          {notify.empty() ? Notify{} : Notify::parse(notify), std::move(orcpt)}};
}

SmtpSubmission sample() {
  return {
      {"erin@sender.example", ReturnContent::headers, "x+y", false},
      false,
      {recipient("frank@customer.example", "FAILURE,DELAY", "rfc822;old+frank@customer.example"),
       recipient("gina@customer.example", "", "")}};
}

TEST(SmtpSubmission, MailFromCarriesRetEnvidAndSmtputf8) {
  auto s = sample();
  EXPECT_EQ(mail_from_command(s), "MAIL FROM:<erin@sender.example> RET=HDRS ENVID=x+2By");
  s.envelope.smtputf8 = true;
  s.envelope.ret = ReturnContent::full;
  s.envelope.envid.clear();
  EXPECT_EQ(mail_from_command(s), "MAIL FROM:<erin@sender.example> RET=FULL SMTPUTF8");
  s.eight_bit = true;
  EXPECT_EQ(mail_from_command(s),
            "MAIL FROM:<erin@sender.example> RET=FULL BODY=8BITMIME SMTPUTF8");
  s.eight_bit = false;
  s.envelope.sender.clear();
  s.envelope.ret = ReturnContent::unspecified;
  s.envelope.smtputf8 = false;
  EXPECT_EQ(mail_from_command(s), "MAIL FROM:<>");
}

TEST(SmtpSubmission, RcptToCarriesNotifyAndAnXtextOrcpt) {
  const auto s = sample();
  EXPECT_EQ(rcpt_to_command(s.recipients[0], false),
            "RCPT TO:<frank@customer.example> NOTIFY=FAILURE,DELAY "
            "ORCPT=rfc822;old+2Bfrank@customer.example");
  EXPECT_EQ(rcpt_to_command(s.recipients[1], false), "RCPT TO:<gina@customer.example>");
}

TEST(SmtpSubmission, WritesUtf8OrcptOnlyUnderSmtputf8) {
  const std::string orcpt = "rfc822;m\xC3\xBCller+x@customer.example";
  EXPECT_EQ(orcpt_parameter_value(orcpt, false), "");
  EXPECT_EQ(orcpt_parameter_value(orcpt, true), "utf-8;m\xC3\xBCller\\x{2B}x@customer.example");
  EXPECT_EQ(orcpt_parameter_value("no-type", false), "");
}

TEST(SmtpSubmission, DetectsEightBitContentAndRewinds) {
  std::istringstream ascii("Subject: x\n\nplain\n");
  EXPECT_FALSE(has_8bit_content(ascii));
  std::string first;
  EXPECT_TRUE(std::getline(ascii, first));
  EXPECT_EQ(first, "Subject: x");
  std::istringstream utf8(
      "Subject: x\n\nGr\xC3\xBC\xC3\x9F"
      "e\n");
  EXPECT_TRUE(has_8bit_content(utf8));
  EXPECT_TRUE(std::getline(utf8, first));
  EXPECT_EQ(first, "Subject: x");
}

TEST(SmtpSubmission, DotStuffsContentLines) {
  EXPECT_EQ(data_line(".hidden"), "..hidden\r\n");
  EXPECT_EQ(data_line("."), "..\r\n");
  EXPECT_EQ(data_line("plain"), "plain\r\n");
  EXPECT_EQ(data_line(""), "\r\n");
}

TEST(SmtpSubmission, FindsTheQueueIdInPostfixsReply) {
  auto id = queue_id_from_reply("250 2.0.0 Ok: queued as C1F98A7211F");
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(*id, "C1F98A7211F");
  EXPECT_FALSE(queue_id_from_reply("250 2.0.0 Ok").ok());
  EXPECT_FALSE(queue_id_from_reply("250 2.0.0 Ok: queued as ALL").ok());
}

TEST(SmtpSubmission, RefusesAddressesThatWouldBreakTheCommandLine) {
  auto s = sample();
  s.recipients[0].address = "a@b>\r\nRCPT TO:<evil@x";
  EXPECT_FALSE(check_submission(s).ok());
  s = sample();
  s.envelope.sender = "a b@c";
  EXPECT_FALSE(check_submission(s).ok());
  s = sample();
  s.recipients.clear();
  EXPECT_FALSE(check_submission(s).ok());
  EXPECT_TRUE(check_submission(sample()).ok());
}

TEST(SmtpSubmission, RunsTheWholeDialogueAndReturnsTheNewQueueId) {
  std::string transcript;
  FakeSession session(
      {"220 mx ESMTP Postfix", "250-mx", "250-DSN", "250 SMTPUTF8", "250 2.1.0 Ok", "250 2.1.5 Ok",
       "250 2.1.5 Ok", "354 End data", "250 2.0.0 Ok: queued as C1F98A7211F"},
      &transcript);
  std::istringstream content("Subject: x\n\n.dot\r\nlast");
  auto id = submit_over_smtp(session, sample(), content);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(*id, "C1F98A7211F");
  EXPECT_EQ(transcript,
            "EHLO localhost\r\n"
            "MAIL FROM:<erin@sender.example> RET=HDRS ENVID=x+2By\r\n"
            "RCPT TO:<frank@customer.example> NOTIFY=FAILURE,DELAY "
            "ORCPT=rfc822;old+2Bfrank@customer.example\r\n"
            "RCPT TO:<gina@customer.example>\r\n"
            "DATA\r\n"
            "Subject: x\r\n\r\n..dot\r\nlast\r\n.\r\n"
            "QUIT\r\n");
}

TEST(SmtpSubmission, StopsAtARejectedRecipientAndQuotesTheReply) {
  std::string transcript;
  FakeSession session({"220 mx", "250 mx", "250 2.1.0 Ok", "554 5.7.1 Relay access denied"},
                      &transcript);
  std::istringstream content("Subject: x\n\nbody\n");
  auto id = submit_over_smtp(session, sample(), content);
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.error().message.find("554 5.7.1 Relay access denied"), std::string::npos)
      << id.error().message;
  EXPECT_EQ(transcript.find("DATA"), std::string::npos) << "no DATA after a rejected RCPT";
}

TEST(SmtpSubmission, FailsWhenThePeerGoesAway) {
  std::string transcript;
  FakeSession session({"220 mx"}, &transcript);
  std::istringstream content("x\n");
  EXPECT_FALSE(submit_over_smtp(session, sample(), content).ok());
}

// ---- SmtpDsnSubmitter: many DSNs over one conversation --------------------

class SmtpDsnSubmitterTest : public ::testing::Test {
 protected:
  std::unique_ptr<DsnSubmitter> open() {
    CommandSpec spec;
    spec.argv = {"/usr/sbin/sendmail", "-bs"};
    auto submitter = SmtpDsnSubmitter::open(
        runner, spec, [this](const std::string& path, const std::string& rcpt) {
          fallbacks.push_back(path + " " + rcpt);
          return ok_status();
        });
    EXPECT_TRUE(submitter.ok()) << submitter.error().message;
    return submitter.ok() ? std::move(*submitter) : nullptr;
  }

  testing::FakeCommandRunner runner;
  const std::vector<std::string> texts = {"Subject: DSN 0\n\nbody 0\n",
                                          "Subject: DSN 1\n\nbody 1\n"};
  std::vector<std::string> fallbacks;
};

TEST_F(SmtpDsnSubmitterTest, SendsEveryDsnWithTheNullSenderInOneConversation) {
  runner.smtp_replies = {"220 mx",       "250 mx",
                         "250 2.1.0 Ok", "250 2.1.5 Ok",
                         "354 go",       "250 2.0.0 Ok: queued as A1",
                         "250 2.1.0 Ok", "250 2.1.5 Ok",
                         "354 go",       "250 2.0.0 Ok: queued as A2",
                         "221 bye"};
  {
    auto submitter = open();
    ASSERT_TRUE(submitter);
    EXPECT_TRUE(submitter->submit(texts[0], "alice@sender.example").ok());
    EXPECT_TRUE(submitter->submit(texts[1], "bob@sender.example").ok());
  }
  EXPECT_EQ(runner.calls.size(), 1u) << "one program for all the DSNs";
  EXPECT_EQ(runner.smtp_transcript,
            "EHLO localhost\r\n"
            "MAIL FROM:<>\r\nRCPT TO:<alice@sender.example>\r\nDATA\r\n"
            "Subject: DSN 0\r\n\r\nbody 0\r\n.\r\n"
            "MAIL FROM:<>\r\nRCPT TO:<bob@sender.example>\r\nDATA\r\n"
            "Subject: DSN 1\r\n\r\nbody 1\r\n.\r\n"
            "QUIT\r\n");
  EXPECT_TRUE(fallbacks.empty());
}

TEST_F(SmtpDsnSubmitterTest, ADsnRefusedBeforeItsContentGoesThroughTheFallbackAndTheNextGoesOn) {
  runner.smtp_replies = {"220 mx",
                         "250 mx",
                         "250 2.1.0 Ok",
                         "554 5.7.1 Relay access denied",
                         "250 2.0.0 Reset",
                         "250 2.1.0 Ok",
                         "250 2.1.5 Ok",
                         "354 go",
                         "250 2.0.0 Ok: queued as A2",
                         "221 bye"};
  auto submitter = open();
  ASSERT_TRUE(submitter);
  EXPECT_TRUE(submitter->submit(texts[0], "alice@far.example").ok());
  EXPECT_EQ(fallbacks, std::vector<std::string>{texts[0] + " alice@far.example"});
  EXPECT_TRUE(submitter->submit(texts[1], "bob@sender.example").ok());
  EXPECT_EQ(fallbacks.size(), 1u) << "the second DSN went over SMTP again";
  EXPECT_NE(runner.smtp_transcript.find("RSET\r\n"), std::string::npos);
}

TEST_F(SmtpDsnSubmitterTest, AnAddressSmtpCannotCarryGoesThroughTheFallbackUnsent) {
  runner.smtp_replies = {"220 mx", "250 mx"};
  auto submitter = open();
  ASSERT_TRUE(submitter);
  EXPECT_TRUE(submitter->submit(texts[0], "\"odd <name>\"@sender.example").ok());
  EXPECT_EQ(fallbacks.size(), 1u);
  EXPECT_EQ(runner.smtp_transcript.find("MAIL FROM"), std::string::npos);
}

TEST_F(SmtpDsnSubmitterTest, AFailureAfterTheContentIsAnErrorAndNeverSentAgain) {
  runner.smtp_replies = {"220 mx", "250 mx", "250 2.1.0 Ok", "250 2.1.5 Ok", "354 go"};
  auto submitter = open();
  ASSERT_TRUE(submitter);
  EXPECT_FALSE(submitter->submit(texts[0], "alice@sender.example").ok())
      << "the final reply never came: the MTA may have queued it";
  EXPECT_TRUE(fallbacks.empty()) << "not submitted a second time";
  EXPECT_TRUE(submitter->submit(texts[1], "bob@sender.example").ok());
  EXPECT_EQ(fallbacks.size(), 1u) << "after a broken conversation, the rest go one by one";
}

TEST_F(SmtpDsnSubmitterTest, ADsnRefusedAfterItsContentIsRefusedForGoodAndTheNextGoesOn) {
  runner.smtp_replies = {"220 mx",       "250 mx",
                         "250 2.1.0 Ok", "250 2.1.5 Ok",
                         "354 go",       "550 5.7.1 message content rejected",
                         "250 2.1.0 Ok", "250 2.1.5 Ok",
                         "354 go",       "451 4.3.0 try again later",
                         "221 bye"};
  auto submitter = open();
  ASSERT_TRUE(submitter);
  auto refused = submitter->submit(texts[0], "alice@sender.example");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::refused) << refused.error().message;
  EXPECT_NE(refused.error().message.find("550 5.7.1 message content rejected"), std::string::npos);
  auto later = submitter->submit(texts[1], "bob@sender.example");
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.error().kind, ErrorKind::other) << "a 4xx may pass";
  EXPECT_TRUE(fallbacks.empty()) << "answered DSNs are not sent another way";
}

TEST_F(SmtpDsnSubmitterTest, AskesForSmtputf8OnlyForAUtf8RecipientOrHeader) {
  runner.smtp_replies = {"220 mx",       "250 mx", "250 2.1.0 Ok",
                         "250 2.1.5 Ok", "354 go", "250 2.0.0 Ok: queued as A1"};
  auto submitter = open();
  ASSERT_TRUE(submitter);
  EXPECT_TRUE(submitter->submit(texts[0], "jos\xc3\xa9@sender.example").ok());
  EXPECT_NE(runner.smtp_transcript.find("MAIL FROM:<> SMTPUTF8\r\n"), std::string::npos)
      << runner.smtp_transcript;
}

TEST(SmtpSubmission, FindsEightBitBytesOnlyInTheHeaderSection) {
  std::istringstream body_only("Subject: x\n\nb\xc3\xa9\n");
  EXPECT_FALSE(has_8bit_header_section(body_only));
  std::istringstream header("Subject: \xc3\xa9\n\nbody\n");
  EXPECT_TRUE(has_8bit_header_section(header));
  EXPECT_EQ(header.tellg(), 0) << "rewound";
}

}  // namespace
}  // namespace etrn
