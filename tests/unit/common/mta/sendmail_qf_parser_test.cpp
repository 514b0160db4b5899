// Tests for sendmail_qf_parser on qf files written by Debian 12's Sendmail
// 8.17.1.9 (tests/data/sendmail/, captured from a private instance) and on
// damaged copies of them.
#include "common/mta/sendmail_qf_parser.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace etrn {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(ETRN_TEST_DATA_DIR) + "/sendmail/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

SendmailQf parsed(const std::string& name) {
  auto qf = parse_sendmail_qf(fixture(name));
  EXPECT_TRUE(qf.ok()) << name << ": " << (qf.ok() ? "" : qf.error().message);
  return qf.ok() ? *qf : SendmailQf{};
}

TEST(SendmailQfParser, ReadsTheEnvelopeOfAMessageWithDsnParameters) {
  // Sent with MAIL FROM:<alice@sender.example> RET=HDRS ENVID=env+2Bid-1;
  // bob NOTIFY=FAILURE,DELAY ORCPT=rfc822;Bob+40customer.example, carol
  // without parameters, dave NOTIFY=NEVER.
  const SendmailQf qf = parsed("qf-dsn-parameters");
  EXPECT_EQ(qf.version, 8);
  EXPECT_EQ(qf.creation_time, 1795922708);
  EXPECT_EQ(qf.envelope.sender, "alice@sender.example");
  EXPECT_EQ(qf.envelope.envid, "env+id-1") << "the Z line is xtext and must be decoded";
  EXPECT_EQ(qf.envelope.ret, ReturnContent::headers);
  EXPECT_FALSE(qf.envelope.smtputf8);
  EXPECT_TRUE(qf.quarantine_reason.empty());
  ASSERT_EQ(qf.recipients.size(), 3u);
  EXPECT_EQ(qf.recipients[0].address, "bob@customer.example");
  EXPECT_EQ(qf.recipients[0].dsn.notify.to_string(), "FAILURE,DELAY");
  EXPECT_EQ(qf.recipients[0].dsn.orcpt, "rfc822;Bob@customer.example");
  EXPECT_EQ(qf.recipients[0].final_recipient, "RFC822; bob@customer.example");
}

TEST(SendmailQfParser, ReadsNoNotifyAsNotGivenAndNotifyNeverAsNever) {
  const SendmailQf qf = parsed("qf-dsn-parameters");
  ASSERT_EQ(qf.recipients.size(), 3u);
  const Notify carol = qf.recipients[1].dsn.notify;
  EXPECT_FALSE(carol.given) << "got NOTIFY " << carol.to_string() << " for carol, want none";
  EXPECT_TRUE(carol.allows_delay_dsn());
  EXPECT_TRUE(qf.recipients[1].dsn.orcpt.empty()) << "an ORCPT must not leak to the next recipient";
  const Notify dave = qf.recipients[2].dsn.notify;
  EXPECT_TRUE(dave.given && dave.never) << "got " << dave.to_string() << ", want NEVER";
  EXPECT_FALSE(dave.allows_failure_dsn());
}

TEST(SendmailQfParser, KeepsTheHeadersAnSmtpMailerWouldSendAndDropsReturnPath) {
  const SendmailQf qf = parsed("qf-dsn-parameters");
  EXPECT_EQ(qf.headers.find("Return-Path"), std::string::npos) << qf.headers;
  EXPECT_EQ(qf.headers.find('\x81'), std::string::npos) << "an unexpanded macro leaked";
  EXPECT_EQ(qf.headers.rfind("Received: from client.example", 0), 0u) << qf.headers;
  EXPECT_NE(qf.headers.find("\tby mx.provider.example (8.17.1.9/8.17.1.9) with ESMTP id "
                            "6AT3P87O011046;\n"),
            std::string::npos)
      << "continuation lines stay with their header: " << qf.headers;
  EXPECT_NE(qf.headers.find("\nDate: Sun, 29 Nov 2026 03:25:08 GMT\n"), std::string::npos);
  EXPECT_NE(qf.headers.find("\nMessage-Id: <202611290325.6AT3P87O011046@mx.provider.example>\n"),
            std::string::npos);
  EXPECT_NE(qf.headers.find("\nPriority: urgent\n"), std::string::npos);
  EXPECT_NE(qf.headers.find("\nX-Long: a\n b continued\n"), std::string::npos) << qf.headers;
  EXPECT_EQ(qf.headers.back(), '\n');
}

TEST(SendmailQfParser, ReadsTheNullSenderAsEmpty) {
  const SendmailQf qf = parsed("qf-null-sender");
  EXPECT_EQ(qf.envelope.sender, "");
  EXPECT_EQ(qf.envelope.ret, ReturnContent::unspecified);
  ASSERT_EQ(qf.recipients.size(), 1u);
  EXPECT_EQ(qf.recipients[0].dsn.notify.to_string(), "SUCCESS,FAILURE");
}

TEST(SendmailQfParser, TellsRetFullFromRetAbsent) {
  EXPECT_EQ(parsed("qf-ret-full").envelope.ret, ReturnContent::full);
  EXPECT_EQ(parsed("qf-no-ret").envelope.ret, ReturnContent::unspecified);
}

TEST(SendmailQfParser, ReadsAQuarantinedFileWithItsReasonAndEightBitFlag) {
  const SendmailQf qf = parsed("hf-quarantined-8bit");
  EXPECT_EQ(qf.quarantine_reason, "held by test");
  EXPECT_TRUE(qf.eight_bit);
  ASSERT_EQ(qf.recipients.size(), 2u);
  EXPECT_EQ(qf.recipients[1].dsn.orcpt, "rfc822;gina+x@customer.example");
  EXPECT_NE(qf.headers.find("\nFrom: sender@sender.example\n"), std::string::npos)
      << "a From: Sendmail added for F-flag mailers is sent by smtp: " << qf.headers;
}

TEST(SendmailQfParser, ReadsTheSmtputf8Flag) {
  // Debian's 8.17.1.9 has no EAI, so this flag comes from the format only.
  auto qf = parse_sendmail_qf("V8\nT1\nFe\nS<a@b.example>\nRPN:<c@d.example>\n.\n");
  ASSERT_TRUE(qf.ok()) << qf.error().message;
  EXPECT_TRUE(qf->envelope.smtputf8);
}

TEST(SendmailQfParser, SkipsHeadersConditionalOnAMacroOrOnNonSmtpFlags) {
  auto qf = parse_sendmail_qf(
      "T1\nS<>\nH?${x}?X-Macro: 1\nH?l?X-Local: 1\nH?DM?X-Both: 1\nHPlain: 1\n.\n");
  ASSERT_TRUE(qf.ok()) << qf.error().message;
  EXPECT_EQ(qf->headers, "X-Both: 1\nPlain: 1\n");
}

// Found by fuzzing: "H??" left an empty header, a blank line that ended the
// header section early. Sendmail refuses a header without a name and colon.
TEST(SendmailQfParser, SkipsHeaderLinesWithoutANameAndColon) {
  auto qf = parse_sendmail_qf("T1\nS<>\nH??\nH\nHNo colon\nH: no name\nHPlain : 1\n.\n");
  ASSERT_TRUE(qf.ok()) << qf.error().message;
  EXPECT_EQ(qf->headers, "Plain : 1\n");
}

struct DamagedCase {
  const char* fixture;
  const char* want_in_error;
};

class DamagedQf : public ::testing::TestWithParam<DamagedCase> {};

TEST_P(DamagedQf, IsAnErrorSayingWhatIsWrong) {
  auto qf = parse_sendmail_qf(fixture(GetParam().fixture));
  ASSERT_FALSE(qf.ok()) << GetParam().fixture << " parsed, want an error";
  EXPECT_NE(qf.error().message.find(GetParam().want_in_error), std::string::npos)
      << "got \"" << qf.error().message << "\", want it to mention \"" << GetParam().want_in_error
      << "\"";
}

INSTANTIATE_TEST_SUITE_P(
    SendmailQfParser, DamagedQf,
    ::testing::Values(DamagedCase{"damaged-truncated", "cut short"},
                      DamagedCase{"damaged-empty", "empty"},
                      DamagedCase{"damaged-recipient-without-colon", "line 17: recipient"},
                      DamagedCase{"damaged-no-creation-time", "no creation time"},
                      DamagedCase{"damaged-no-sender", "no sender"},
                      DamagedCase{"damaged-unknown-line", "unknown line type 'X'"},
                      DamagedCase{"damaged-bad-time", "bad creation time"}));

}  // namespace
}  // namespace etrn
