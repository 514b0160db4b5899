// postmaster_notice_test.cpp - the postmaster's notice of a DSN that could
// not be delivered: what it says, and that hostile values stay harmless.
#include "common/dsn/postmaster_notice.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

PostmasterNoticeInput sample() {
  PostmasterNoticeInput in;
  in.reporting_mta = "mx.provider.example";
  in.postmaster = "postmaster@provider.example";
  in.message_id = "etrn-attention-7.4AbC1@mx.provider.example";
  in.now = 1795919458;  // Sun, 29 Nov 2026 02:30:58 +0000
  in.queue_id = "4AbC1";
  in.sender = "alice@sender.example";
  in.recipients = {"bob@customer.example", "carol@customer.example"};
  in.reason = "SMTP end of data: 550 5.7.1 message content rejected";
  in.refused_headers =
      "From: Mail Delivery System <MAILER-DAEMON@mx.provider.example>\n"
      "To: <alice@sender.example>\n"
      "Subject: Undelivered Mail Returned to Sender\n";
  in.how_to_release = "release it with postsuper -H 4AbC1";
  in.how_to_remove = "remove it with postsuper -d 4AbC1 hold";
  return in;
}

TEST(PostmasterNotice, NamesTheMessageItsPeopleTheReasonAndWhatToDo) {
  auto notice = build_postmaster_notice(sample());
  ASSERT_TRUE(notice.ok()) << notice.error().message;
  for (const char* want :
       {"From: Mail Delivery System <MAILER-DAEMON@mx.provider.example>\n",
        "To: <postmaster@provider.example>\n", "Date: Sun, 29 Nov 2026 02:30:58 +0000\n",
        "Message-ID: <etrn-attention-7.4AbC1@mx.provider.example>\n",
        "Auto-Submitted: auto-generated\n", "Queue ID:   4AbC1\n",
        "Sender:     <alice@sender.example>\n", "Recipient:  <carol@customer.example>\n",
        "550 5.7.1 message content rejected", "postsuper -H 4AbC1", "postsuper -d 4AbC1 hold",
        "    Subject: Undelivered Mail Returned to Sender\n"}) {
    EXPECT_NE(notice->find(want), std::string::npos) << "want \"" << want << "\" in\n" << *notice;
  }
  EXPECT_NE(notice->find("Subject: ETRN Sweeper: a failure DSN was refused; message 4AbC1"),
            std::string::npos);
}

TEST(PostmasterNotice, KeepsHostileValuesOutOfItsHeaders) {
  PostmasterNoticeInput in = sample();
  in.sender = "evil\r\nBcc: victim@example";
  in.refused_headers = "X-Evil: a\r\nBcc: victim@example\n";
  auto notice = build_postmaster_notice(in);
  ASSERT_TRUE(notice.ok()) << notice.error().message;
  const std::string headers = notice->substr(0, notice->find("\n\n") + 1);
  EXPECT_EQ(headers.find("Bcc:"), std::string::npos) << headers;
  EXPECT_EQ(notice->find('\r'), std::string::npos);

  in = sample();
  in.postmaster = "a@b\nBcc: c@d";
  EXPECT_FALSE(build_postmaster_notice(in).ok());
  in = sample();
  in.reporting_mta = "mx.example:25";
  EXPECT_FALSE(build_postmaster_notice(in).ok());
}

}  // namespace
}  // namespace etrn
