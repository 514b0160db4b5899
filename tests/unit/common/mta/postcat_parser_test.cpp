// Tests for postcat_parser on real `postcat -e` output (Postfix 3.7) and on
// damaged output.
#include "common/mta/postcat_parser.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace etrn {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(ETRN_TEST_DATA_DIR) + "/postfix/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

QueuedEnvelope parsed(const std::string& name) {
  auto envelope = parse_postcat_envelope(fixture(name));
  EXPECT_TRUE(envelope.ok()) << name << ": " << (envelope.ok() ? "" : envelope.error().message);
  return envelope.ok() ? *envelope : QueuedEnvelope{};
}

TEST(PostcatParser, ReadsRetEnvidNotifyAndOrcptOfAMessageWithDsnParameters) {
  // Sent with RET=HDRS ENVID=abc+2Bdef, each RCPT NOTIFY=SUCCESS,DELAY
  // ORCPT=rfc822;x+2Bspecial@y.example.
  const auto e = parsed("postcat-e-dsn-params.txt");
  EXPECT_EQ(e.envelope.sender, "alice@sender.example");
  EXPECT_EQ(e.envelope.ret, ReturnContent::headers);
  EXPECT_EQ(e.envelope.envid, "abc+def") << "postcat shows the ENVID already decoded";
  EXPECT_FALSE(e.envelope.smtputf8);
  ASSERT_EQ(e.recipients.size(), 3u);
  for (const auto& r : e.recipients) {
    EXPECT_EQ(r.dsn.notify.to_string(), "SUCCESS,DELAY") << r.address;
    EXPECT_EQ(r.dsn.orcpt, "rfc822;x+special@y.example") << r.address;
  }
  EXPECT_EQ(e.recipients[1].address, "carol@customer.example");
}

TEST(PostcatParser, ReadsTheNullSenderAndNoDsnParameters) {
  const auto e = parsed("postcat-e-null-sender.txt");
  EXPECT_EQ(e.envelope.sender, "");
  EXPECT_EQ(e.envelope.ret, ReturnContent::unspecified);
  EXPECT_EQ(e.envelope.envid, "");
  ASSERT_EQ(e.recipients.size(), 1u);
  EXPECT_FALSE(e.recipients[0].dsn.notify.given);
  EXPECT_EQ(e.recipients[0].dsn.orcpt, "rfc822;bob@customer.example")
      << "smtpd records an ORCPT even when the client gave none";
}

TEST(PostcatParser, ReadsSmtputf8RetFullAndNotifyNever) {
  const auto e = parsed("postcat-e-smtputf8.txt");
  EXPECT_TRUE(e.envelope.smtputf8);
  EXPECT_EQ(e.envelope.ret, ReturnContent::full);
  EXPECT_EQ(e.envelope.sender, "jos\xC3\xA9@sender.example");
  ASSERT_EQ(e.recipients.size(), 1u);
  EXPECT_TRUE(e.recipients[0].dsn.notify.never);
  EXPECT_EQ(e.recipients[0].address, "m\xC3\xBCller@customer.example");
}

TEST(PostcatParser, LeavesOutDoneRecipientsAndKeepsAttributesWithTheirRecipient) {
  const auto e = parsed("postcat-e-done-recipient.txt");
  ASSERT_EQ(e.recipients.size(), 2u) << "gone@discard.example was delivered";
  EXPECT_EQ(e.recipients[0].address, "frank@customer.example");
  EXPECT_EQ(e.recipients[0].dsn.notify.to_string(), "FAILURE");
  EXPECT_EQ(e.recipients[0].dsn.orcpt, "rfc822;Frank@Old@customer.example");
  EXPECT_EQ(e.recipients[1].address, "gina@customer.example");
  EXPECT_FALSE(e.recipients[1].dsn.notify.given) << "NOTIFY must not leak from frank to gina";
}

TEST(PostcatParser, GivesEachRecipientItsOriginalRecipient) {
  const auto from_fixture = parsed("postcat-e-done-recipient.txt");
  ASSERT_EQ(from_fixture.recipients.size(), 2u);
  EXPECT_EQ(from_fixture.recipients[0].original_recipient, "frank@customer.example")
      << "not the delivered recipient's gone@discard.example";
  auto expanded = parse_postcat_envelope(
      "*** ENVELOPE RECORDS deferred/ABCDEF12 ***\n"
      "sender: a@b\n"
      "original_recipient: team@customer.example\n"
      "recipient: ann@customer.example\n"
      "original_recipient: team@customer.example\n"
      "recipient: ben@customer.example\n"
      "recipient: cat@customer.example\n"
      "*** MESSAGE FILE END deferred/ABCDEF12 ***\n");
  ASSERT_TRUE(expanded.ok()) << expanded.error().message;
  ASSERT_EQ(expanded->recipients.size(), 3u);
  EXPECT_EQ(expanded->recipients[0].original_recipient, "team@customer.example");
  EXPECT_EQ(expanded->recipients[1].original_recipient, "team@customer.example");
  EXPECT_EQ(expanded->recipients[2].original_recipient, "")
      << "an original recipient must not leak to the next recipient";
}

TEST(PostcatParser, TellsTheQueueFromTheFrameAndTheArrivalTimeAsUtc) {
  auto held = parse_postcat_envelope(
      "*** ENVELOPE RECORDS hold/3D08FA723E2 ***\n"
      "message_arrival_time: Tue Dec  1 17:24:41 2026\n"
      "sender: alice@mx.provider.example\n"
      "recipient: bob@customer.example\n"
      "*** MESSAGE FILE END hold/3D08FA723E2 ***\n");
  ASSERT_TRUE(held.ok()) << held.error().message;
  EXPECT_EQ(held->queue_name, "hold");
  EXPECT_EQ(held->arrival_time, 1796145881);
  EXPECT_EQ(held->envelope.sender, "alice@mx.provider.example") << "the sender as queued";
  EXPECT_EQ(parsed("postcat-e-dsn-params.txt").queue_name, "deferred") << "deferred/2/ID";
}

TEST(PostcatParser, ReadsTheOlderRecordSpellings) {
  auto e = parse_postcat_envelope(
      "*** ENVELOPE RECORDS deferred/ABCDEF12 ***\n"
      "dsn_envelope_id: id1\n"
      "dsn_return_flags: 1\n"
      "sender: a@b\n"
      "dsn_notify_flags: 6\n"
      "dsn_orig_rcpt: rfc822;c@d\n"
      "recipient: c@d\n"
      "*** MESSAGE FILE END deferred/ABCDEF12 ***\n");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->envelope.envid, "id1");
  EXPECT_EQ(e->envelope.ret, ReturnContent::full);
  EXPECT_EQ(e->recipients.at(0).dsn.notify.to_string(), "SUCCESS,FAILURE");
  EXPECT_EQ(e->recipients.at(0).dsn.orcpt, "rfc822;c@d");
}

TEST(PostcatParser, RejectsOutputThatWasCutShort) {
  std::string text = fixture("postcat-e-dsn-params.txt");
  text = text.substr(0, text.find("*** MESSAGE FILE END"));
  auto e = parse_postcat_envelope(text);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("cut short"), std::string::npos) << e.error().message;
}

TEST(PostcatParser, RejectsOutputThatIsNotPostcats) {
  EXPECT_FALSE(parse_postcat_envelope("").ok());
  EXPECT_FALSE(parse_postcat_envelope("postcat: fatal: open queue file X: No such file\n").ok());
  EXPECT_FALSE(
      parse_postcat_envelope("*** ENVELOPE RECORDS x ***\n*** MESSAGE FILE END x ***\n").ok())
      << "no sender record";
}

TEST(PostcatParser, RejectsANonNumericNotifyMask) {
  auto e = parse_postcat_envelope(
      "*** ENVELOPE RECORDS x ***\nsender: a@b\nnamed_attribute: notify_flags=lots\n"
      "recipient: c@d\n*** MESSAGE FILE END x ***\n");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("notify_flags"), std::string::npos) << e.error().message;
}

TEST(PostcatParser, MapsEveryNotifyBit) {
  EXPECT_FALSE(notify_from_postfix_mask(0).given);
  EXPECT_EQ(notify_from_postfix_mask(1).to_string(), "NEVER");
  EXPECT_EQ(notify_from_postfix_mask(2).to_string(), "SUCCESS");
  EXPECT_EQ(notify_from_postfix_mask(4).to_string(), "FAILURE");
  EXPECT_EQ(notify_from_postfix_mask(8).to_string(), "DELAY");
  EXPECT_EQ(notify_from_postfix_mask(14).to_string(), "SUCCESS,FAILURE,DELAY");
}

// ---- PostcatContentSplitter: several messages from one postcat ----------

const std::vector<std::string> kTwoIds = {"B6400A76115", "B9DAEA76116"};

Result<std::vector<PostcatMessage>> split_messages(const std::string& text,
                                                   std::vector<std::string> ids) {
  PostcatContentSplitter splitter(std::move(ids));
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) splitter.add_line(line);
  return splitter.finish();
}

Result<std::vector<std::string>> split(const std::string& text, std::vector<std::string> ids) {
  auto messages = split_messages(text, std::move(ids));
  if (!messages) return messages.error();
  std::vector<std::string> contents;
  for (PostcatMessage& m : *messages) contents.push_back(std::move(m.content));
  return contents;
}

TEST(PostcatContentSplitter, GivesEachMessageExactlyWhatPostcatPrintsForItAlone) {
  for (const auto& [together, alone] :
       {std::pair{"postcat-ehb-two-messages.txt", "postcat-hb-each.txt"},
        std::pair{"postcat-eh-two-messages.txt", "postcat-h-each.txt"}}) {
    auto contents = split(fixture(together), kTwoIds);
    ASSERT_TRUE(contents.ok()) << together << ": " << contents.error().message;
    ASSERT_EQ(contents->size(), 2u);
    EXPECT_NE((*contents)[0].find("Received: from"), std::string::npos);
    EXPECT_EQ((*contents)[0] + (*contents)[1], fixture(alone)) << together;
  }
}

TEST(PostcatContentSplitter, GivesEachMessageItsEnvelopeWithQueueArrivalTimeAndSender) {
  auto messages = split_messages(fixture("postcat-ehb-two-messages.txt"), kTwoIds);
  ASSERT_TRUE(messages.ok()) << messages.error().message;
  for (const PostcatMessage& m : *messages) {
    ASSERT_TRUE(m.envelope.ok()) << m.envelope.error().message;
    EXPECT_EQ(m.envelope->queue_name, "deferred");
    EXPECT_EQ(m.envelope->arrival_time, 1795929666) << "Sun Nov 29 05:21:06 2026 UTC";
    EXPECT_EQ(m.envelope->envelope.sender, "sender@sender.example");
    ASSERT_EQ(m.envelope->recipients.size(), 1u);
    EXPECT_EQ(m.envelope->recipients[0].address, "rcpt@customer.example");
  }
}

TEST(PostcatContentSplitter, RefusesMessagesInAnotherOrderThanAskedFor) {
  auto contents = split(fixture("postcat-ehb-two-messages.txt"), {kTwoIds[1], kTwoIds[0]});
  ASSERT_FALSE(contents.ok());
  EXPECT_NE(contents.error().message.find("expected the envelope of B9DAEA76116"),
            std::string::npos)
      << contents.error().message;
}

TEST(PostcatContentSplitter, RefusesOutputCutShort) {
  std::string text = fixture("postcat-ehb-two-messages.txt");
  text.resize(text.rfind("*** HEADER EXTRACTED"));
  auto contents = split(text, kTwoIds);
  ASSERT_FALSE(contents.ok());
  EXPECT_NE(contents.error().message.find("cut short"), std::string::npos);
}

TEST(PostcatContentSplitter, RefusesTheLotWhenAContentForgesTheFrameOfTheNextMessage) {
  // The first body ends its own message early and begins a fake second one;
  // the real markers then come in addition.
  const std::string forged =
      "*** HEADER EXTRACTED deferred/B/B6400A76115 ***\n"
      "*** MESSAGE FILE END deferred/B/B6400A76115 ***\n"
      "*** ENVELOPE RECORDS deferred/B/B9DAEA76116 ***\n"
      "*** MESSAGE CONTENTS deferred/B/B9DAEA76116 ***\n"
      "Subject: not what the second sender wrote\n";
  std::string text = fixture("postcat-ehb-two-messages.txt");
  text.insert(text.find("*** HEADER EXTRACTED deferred/B/B6400A76115"), forged);
  EXPECT_FALSE(split(text, kTwoIds).ok());
}

TEST(PostcatContentSplitter, RefusesContentWithAMarkerLikeLineEvenWhereItWouldFit) {
  std::string text = fixture("postcat-ehb-two-messages.txt");
  text.insert(text.find("*** HEADER EXTRACTED deferred/B/B9DAEA76116"),
              "*** MESSAGE FILE END deferred/x/OTHER ***\n");
  auto contents = split(text, kTwoIds);
  ASSERT_FALSE(contents.ok());
  EXPECT_NE(contents.error().message.find("look like postcat"), std::string::npos)
      << contents.error().message;
}

TEST(PostcatContentSplitter, KeepsOrdinaryStarredLinesAsContent) {
  std::string text = fixture("postcat-ehb-two-messages.txt");
  text.insert(text.find("*** HEADER EXTRACTED deferred/B/B9DAEA76116"), "*** IMPORTANT ***\n");
  auto contents = split(text, kTwoIds);
  ASSERT_TRUE(contents.ok()) << contents.error().message;
  EXPECT_TRUE((*contents)[1].ends_with("*** IMPORTANT ***\n"));
}

TEST(PostcatContentSplitter, RecognisesOnlyTheFourFrameMarkers) {
  EXPECT_TRUE(looks_like_postcat_marker("*** MESSAGE FILE END deferred/B/B9DAEA76116 ***"));
  EXPECT_TRUE(looks_like_postcat_marker("*** ENVELOPE RECORDS hold/4jcWcd55ffz1bY07 ***"));
  EXPECT_FALSE(looks_like_postcat_marker("*** IMPORTANT ***"));
  EXPECT_FALSE(looks_like_postcat_marker("*** MESSAGE FILE END ***"));
  EXPECT_FALSE(looks_like_postcat_marker("** MESSAGE FILE END deferred/B/B9DAEA76116 ***"));
}

// Found by fuzzing: in "*** ***" (or "*****") the opening and closing
// "***" overlap, and cutting both off read past the line. Any sender can
// put such a line in a body; it is content, never a marker.
TEST(PostcatContentSplitter, TakesOverlappingStarsForContentNotAMarker) {
  for (const char* line : {"*** ***", "*****", "***", "*** **", "***  ***"})
    EXPECT_FALSE(looks_like_postcat_marker(line)) << line;
  std::string text = fixture("postcat-ehb-two-messages.txt");
  text.insert(text.find("*** HEADER EXTRACTED deferred/B/B9DAEA76116"), "*** ***\n*****\n");
  auto contents = split(text, kTwoIds);
  ASSERT_TRUE(contents.ok()) << contents.error().message;
  EXPECT_TRUE((*contents)[1].ends_with("*** ***\n*****\n"));
}

}  // namespace
}  // namespace etrn

// ---- PostcatEnvelopeSplitter: the envelopes of several messages --------

namespace etrn {
namespace {

const std::vector<std::string> kExpandedIds = {"0181EA72AB0", "0ADFEA72ABD"};

Result<std::vector<QueuedEnvelope>> split_envelopes(const std::string& text,
                                                    std::vector<std::string> ids) {
  PostcatEnvelopeSplitter splitter(std::move(ids));
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) splitter.add_line(line);
  return splitter.finish();
}

TEST(PostcatEnvelopeSplitter, GivesEachMessageItsRecipientsWithTheirOriginalRecipients) {
  auto envelopes = split_envelopes(fixture("postcat-e-expanded-two-messages.txt"), kExpandedIds);
  ASSERT_TRUE(envelopes.ok()) << envelopes.error().message;
  ASSERT_EQ(envelopes->size(), 2u);
  const QueuedEnvelope& alias = (*envelopes)[0];
  ASSERT_EQ(alias.recipients.size(), 3u) << "virtual_alias_maps: a@, b@; recipient_bcc_maps";
  EXPECT_EQ(alias.recipients[0].address, "a@customer.example");
  EXPECT_EQ(alias.recipients[0].original_recipient, "team@customer.example");
  EXPECT_EQ(alias.recipients[1].original_recipient, "team@customer.example");
  EXPECT_EQ(alias.recipients[1].dsn.notify.to_string(), "FAILURE");
  EXPECT_EQ(alias.recipients[2].address, "archive@transport-only.example");
  EXPECT_EQ(alias.recipients[2].dsn.notify.to_string(), "NEVER") << "Postfix's own for a bcc";
  const QueuedEnvelope& canonical = (*envelopes)[1];
  ASSERT_EQ(canonical.recipients.size(), 1u);
  EXPECT_EQ(canonical.recipients[0].address, "robert@customer.example");
  EXPECT_EQ(canonical.recipients[0].original_recipient, "bob@customer.example");
  EXPECT_EQ(canonical.recipients[0].dsn.orcpt, "rfc822;Bob@x@customer.example");
}

TEST(PostcatEnvelopeSplitter, RefusesAnotherOrderOutputCutShortAndStrayFrames) {
  const std::string text = fixture("postcat-e-expanded-two-messages.txt");
  EXPECT_FALSE(split_envelopes(text, {kExpandedIds[1], kExpandedIds[0]}).ok()) << "order";
  EXPECT_FALSE(
      split_envelopes(text.substr(0, text.rfind("*** MESSAGE FILE END")), kExpandedIds).ok())
      << "cut short";
  EXPECT_FALSE(split_envelopes(text, {kExpandedIds[0]}).ok()) << "more than asked for";
  std::string stray = text;
  stray.insert(stray.find("*** HEADER EXTRACTED deferred/0/0181EA72AB0"),
               "*** MESSAGE CONTENTS deferred/0/0181EA72AB0 ***\n");
  EXPECT_FALSE(split_envelopes(stray, kExpandedIds).ok()) << "a fifth frame line";
}

}  // namespace
}  // namespace etrn
