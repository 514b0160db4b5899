// message_collector_test.cpp - the pure part of the milter: envelope and
// header events in, a MessageRecord (only ETRN-only recipients) or nothing out.
#include "milter/message_collector.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "sweeper/executor.hpp"  // kReinjectedHeader, which the milter must recognise

namespace etrn {
namespace {

using Args = std::vector<std::string_view>;

class MessageCollectorTest : public ::testing::Test {
 protected:
  EtrnMatcher matcher_{{"customer.example", ".dialup.example"}, {"etrn-only"}};
  MessageCollector collector_{matcher_};
  ClientInfo client_{"192.0.2.7", "client.example", "helo.example"};

  void mail(Args args, std::string_view auth = "") { collector_.begin(args, 1000, auth); }
  void rcpt(Args args, std::string_view mailer = "") { collector_.add_recipient(args, mailer); }
};

TEST_F(MessageCollectorTest, RecordsOnlyTheEtrnOnlyRecipients) {
  mail({"<alice@sender.example>"});
  rcpt({"<bob@customer.example>"}, "etrn-only");
  rcpt({"<carol@sender.example>"}, "virtual");
  rcpt({"<dave@transport-only.example>"}, "etrn-only");
  rcpt({"<erin@host.dialup.example>"}, "smtp");
  rcpt({"<frank@dialup.example>"}, "smtp");
  collector_.set_queue_id("4A1B2C");
  const auto record = collector_.finish(client_);
  ASSERT_TRUE(record);
  std::vector<std::string> got;
  for (const auto& r : record->recipients) got.push_back(r.address);
  const std::vector<std::string> want{"bob@customer.example", "dave@transport-only.example",
                                      "erin@host.dialup.example"};
  EXPECT_EQ(got, want);
  EXPECT_EQ(record->queue_id, "4A1B2C");
  EXPECT_EQ(record->envelope.sender, "alice@sender.example") << "angle brackets must be stripped";
  EXPECT_EQ(record->arrival_time, 1000);
  EXPECT_EQ(record->client_addr, "192.0.2.7");
  EXPECT_EQ(record->client_name, "client.example");
  EXPECT_EQ(record->helo, "helo.example");
}

TEST_F(MessageCollectorTest, TakeGivesWhatFinishGivesAndLeavesTheCollectorReset) {
  mail({"<alice@sender.example>"});
  rcpt({"<bob@customer.example>"}, "etrn-only");
  collector_.add_header("Subject", "hello");
  collector_.set_queue_id("4A1B2C");
  const auto finished = collector_.finish(client_);
  const auto taken = collector_.take(client_);
  ASSERT_TRUE(finished);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->queue_id, finished->queue_id);
  EXPECT_EQ(taken->envelope.sender, "alice@sender.example");
  EXPECT_EQ(taken->subject, "hello");
  EXPECT_EQ(taken->size, finished->size);
  EXPECT_EQ(taken->helo, "helo.example");
  ASSERT_EQ(taken->recipients.size(), 1u);
  EXPECT_EQ(taken->recipients[0].address, "bob@customer.example");
  EXPECT_FALSE(collector_.started()) << "take() must leave the collector reset";
  EXPECT_FALSE(collector_.take(client_)) << "a second take() must give nothing";
}

TEST_F(MessageCollectorTest, TakeWithoutEtrnRecipientsGivesNothing) {
  mail({"<alice@sender.example>"});
  rcpt({"<carol@sender.example>"}, "virtual");
  collector_.set_queue_id("4A1B2C");
  EXPECT_FALSE(collector_.take(client_));
}

TEST_F(MessageCollectorTest, AMessageWithoutEtrnRecipientsGivesNothing) {
  mail({"<alice@sender.example>"});
  rcpt({"<carol@sender.example>"}, "virtual");
  collector_.set_queue_id("4A1B2C");
  EXPECT_FALSE(collector_.finish(client_));
  EXPECT_FALSE(collector_.has_etrn_recipients());
}

TEST_F(MessageCollectorTest, NothingBeforeMailGivesNothing) {
  rcpt({"<bob@customer.example>"});
  EXPECT_FALSE(collector_.finish(client_)) << "a RCPT without MAIL must not be recorded";
}

TEST_F(MessageCollectorTest, ParsesMailParameters) {
  mail({"<alice@sender.example>", "SIZE=100", "RET=HDRS", "ENVID=a+2Bb+20c", "SMTPUTF8",
        "BODY=8BITMIME"},
       "alice");
  rcpt({"<bob@customer.example>"});
  const auto record = collector_.finish(client_);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->envelope.ret, ReturnContent::headers);
  EXPECT_EQ(record->envelope.envid, "a+b c") << "ENVID must be xtext-decoded";
  EXPECT_TRUE(record->envelope.smtputf8);
  EXPECT_EQ(record->auth_user, "alice");
}

TEST_F(MessageCollectorTest, ParameterKeywordsAreCaseInsensitive) {
  const Envelope got = parse_mail_arguments(Args{"<a@b.example>", "ret=full", "envid=x"});
  EXPECT_EQ(got.ret, ReturnContent::full);
  EXPECT_EQ(got.envid, "x");
  EXPECT_FALSE(got.smtputf8);
}

TEST_F(MessageCollectorTest, TheNullSenderIsEmpty) {
  EXPECT_EQ(parse_mail_arguments(Args{"<>"}).sender, "");
  EXPECT_EQ(parse_mail_arguments(Args{}).sender, "");
}

TEST_F(MessageCollectorTest, ParsesNotifyAndOrcpt) {
  const RecipientRecord got =
      parse_rcpt_arguments(Args{"<Bob@Customer.Example>", "NOTIFY=SUCCESS,DELAY",
                                "ORCPT=rfc822;bob+2Bx@customer.example"},
                           "etrn-only");
  EXPECT_EQ(got.address, "Bob@Customer.Example");
  EXPECT_EQ(got.domain, "customer.example");
  EXPECT_TRUE(got.dsn.notify.given);
  EXPECT_TRUE(got.dsn.notify.success);
  EXPECT_TRUE(got.dsn.notify.delay);
  EXPECT_FALSE(got.dsn.notify.failure);
  EXPECT_EQ(got.dsn.orcpt, "rfc822;bob+x@customer.example");
  EXPECT_EQ(got.mailer, "etrn-only");
}

TEST_F(MessageCollectorTest, NotifyNeverIsKept) {
  const RecipientRecord got =
      parse_rcpt_arguments(Args{"bob@customer.example", "NOTIFY=NEVER"}, "");
  EXPECT_TRUE(got.dsn.notify.never);
  EXPECT_FALSE(got.dsn.notify.allows_failure_dsn());
}

TEST_F(MessageCollectorTest, MalformedXtextIsKeptAsGiven) {
  const RecipientRecord got =
      parse_rcpt_arguments(Args{"<b@customer.example>", "ORCPT=rfc822;b+ZZ"}, "");
  EXPECT_EQ(got.dsn.orcpt, "rfc822;b+ZZ");
}

TEST_F(MessageCollectorTest, AddressesWithoutBracketsFromLocalSubmissionWork) {
  mail({"root@mx.provider.example"});
  rcpt({"bob@customer.example"});  // no {rcpt_mailer} for non_smtpd_milters
  collector_.set_queue_id("5E5E");
  const auto record = collector_.finish(ClientInfo{});
  ASSERT_TRUE(record);
  EXPECT_EQ(record->envelope.sender, "root@mx.provider.example");
  EXPECT_EQ(record->recipients.at(0).address, "bob@customer.example");
  EXPECT_EQ(record->client_addr, "");
}

TEST_F(MessageCollectorTest, HeadersGiveMessageIdSubjectAndPriority) {
  mail({"<a@sender.example>"});
  rcpt({"<bob@customer.example>"});
  collector_.add_header("Message-ID", " <m1@sender.example>");
  collector_.add_header("Subject", "first");
  collector_.add_header("subject", "second");
  collector_.add_header("Priority", "urgent");
  const auto record = collector_.finish(client_);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->message_id, "<m1@sender.example>");
  EXPECT_EQ(record->subject, "first") << "the first Subject wins";
  EXPECT_EQ(record->priority, Priority::urgent);
}

TEST_F(MessageCollectorTest, HeadersTheRecordDoesNotUseAreIgnored) {
  mail({"<a@sender.example>"});
  rcpt({"<bob@customer.example>"});
  collector_.add_header("X-Subject", "not the subject");
  collector_.add_header("Message-ID-Old", "<old@sender.example>");
  collector_.add_header("X-Importance", "high");
  const auto record = collector_.finish(client_);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->subject, "");
  EXPECT_EQ(record->message_id, "");
  EXPECT_EQ(record->priority, Priority::normal);
}

TEST_F(MessageCollectorTest, TheSizeIsTheOneTheClientDeclared) {
  mail({"<a@sender.example>", "BODY=8BITMIME", "SIZE=12345"});
  rcpt({"<bob@customer.example>"});
  collector_.add_header("Subject", "sized");
  const auto record = collector_.finish(client_);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->size, 12345);
}

TEST_F(MessageCollectorTest, TheSizeTheMtaStatesAtEndOfMessageWins) {
  mail({"<a@sender.example>", "SIZE=100"});
  rcpt({"<bob@customer.example>"});
  collector_.set_size_stated_by_mta("2264");
  auto record = collector_.finish(client_);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->size, 2264);
  collector_.set_size_stated_by_mta("");
  record = collector_.finish(client_);
  EXPECT_EQ(record->size, 2264) << "an MTA that states no size changes nothing";
}

TEST_F(MessageCollectorTest, AnUnknownOrMalformedSizeIsZero) {
  for (const char* size : {"SIZE=", "SIZE=12x", "SIZE=-5", "SIZE=99999999999999999999"}) {
    mail({"<a@sender.example>", size});
    rcpt({"<bob@customer.example>"});
    const auto record = collector_.finish(client_);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->size, 0) << size;
  }
  mail({"<a@sender.example>"});
  rcpt({"<bob@customer.example>"});
  EXPECT_EQ(collector_.finish(client_)->size, 0) << "no SIZE= at all";
}

TEST_F(MessageCollectorTest, ACopyTheSweeperReinjectedIsNotRecorded) {
  mail({"<a@sender.example>"});
  rcpt({"<bob@customer.example>"});
  collector_.add_header("X-ETRN-Sweeper-Reinjected", " 4AbC1");
  EXPECT_TRUE(collector_.is_sweeper_copy());
  EXPECT_FALSE(collector_.finish(client_));
  EXPECT_FALSE(collector_.take(client_));
  mail({"<a@sender.example>"});
  rcpt({"<bob@customer.example>"});
  EXPECT_FALSE(collector_.is_sweeper_copy()) << "the next message is not a copy";
  EXPECT_TRUE(collector_.finish(client_));
}

TEST_F(MessageCollectorTest, BeginForgetsThePreviousMessage) {
  mail({"<a@sender.example>"});
  rcpt({"<bob@customer.example>"});
  collector_.add_header("Subject", "old");
  collector_.set_queue_id("OLD1");
  mail({"<b@sender.example>"});
  rcpt({"<carol@customer.example>"});
  const auto record = collector_.finish(client_);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->queue_id, "") << "the queue ID must not leak into the next message";
  EXPECT_EQ(record->subject, "");
  ASSERT_EQ(record->recipients.size(), 1u);
  EXPECT_EQ(record->recipients[0].address, "carol@customer.example");
}

TEST_F(MessageCollectorTest, ResetDropsTheMessage) {
  mail({"<a@sender.example>"});
  rcpt({"<bob@customer.example>"});
  collector_.reset();
  EXPECT_FALSE(collector_.started());
  EXPECT_FALSE(collector_.finish(client_));
}

TEST_F(MessageCollectorTest, AnEmptyQueueIdDoesNotOverwriteAKnownOne) {
  mail({"<a@sender.example>"});
  rcpt({"<bob@customer.example>"});
  collector_.set_queue_id("ABC123");
  collector_.set_queue_id("");
  EXPECT_EQ(collector_.queue_id(), "ABC123");
}

TEST(WithDeadlines, GivesEachRecipientItsDomainPolicy) {
  Config config;
  config.domain_policies.push_back({"slow.example", Seconds{72 * 3600}, Seconds{0}});
  MessageRecord message;
  message.arrival_time = 1000;
  message.priority = Priority::normal;
  message.recipients.push_back({"a@customer.example", "customer.example", {}, ""});
  message.recipients.push_back({"b@slow.example", "slow.example", {}, ""});
  const MessageToRecord got = with_deadlines(config, message);
  ASSERT_EQ(got.deadlines.size(), 2u);
  EXPECT_EQ(got.deadlines[0].expires_at, 1000 + 48 * 3600);
  EXPECT_EQ(got.deadlines[1].expires_at, 1000 + 72 * 3600);
  EXPECT_EQ(got.message.recipients.size(), 2u);
}

}  // namespace
}  // namespace etrn
