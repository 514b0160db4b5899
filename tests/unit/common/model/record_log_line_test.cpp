// record_log_line_test.cpp - the "QID: recorded, ..." line of a message
// the milter records or the sweeper adopts.
#include "common/model/record_log_line.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

MessageToRecord two_recipients() {
  MessageToRecord item;
  item.message.queue_id = "4A1B";
  item.message.envelope.sender = "alice@sender.example";
  item.message.size = 1234;
  item.message.priority = Priority::urgent;
  item.message.recipients.push_back({"bob@customer.example", "customer.example", {}, ""});
  item.message.recipients.push_back({"carol@slow.example", "slow.example", {}, ""});
  item.deadlines.push_back(Deadlines{std::nullopt, 1'796'000'000});  // the later one
  item.deadlines.push_back(Deadlines{std::nullopt, 1'795'000'000});
  return item;
}

TEST(RecordLogLineTest, NamesTheSenderRecipientsPriorityAndEarliestExpiry) {
  const std::string got = record_log_line("recorded", two_recipients()).str();
  const std::string want =
      "4A1B: recorded, from=<alice@sender.example>, size=1234, nrcpt=2, "
      "to=<bob@customer.example>, to=<carol@slow.example>, priority=urgent, "
      "expires=2026-11-18T11:06:40Z";
  EXPECT_EQ(got, want);
}

TEST(RecordLogLineTest, TheActionIsTheFirstItem) {
  const std::string got = record_log_line("adopted", two_recipients()).str();
  EXPECT_EQ(got.rfind("4A1B: adopted, from=<alice@sender.example>, ", 0), 0u) << "got " << got;
}

TEST(RecordLogLineTest, WithoutDeadlinesThereIsNoExpiry) {
  MessageToRecord item = two_recipients();
  item.deadlines.clear();
  const std::string got = record_log_line("recorded", item).str();
  EXPECT_EQ(got.find("expires="), std::string::npos) << "got " << got;
}

TEST(RecordLogLineTest, ControlCharactersCannotBreakTheLine) {
  MessageToRecord item = two_recipients();
  item.message.envelope.sender = "evil\r\nFAKE: line@sender.example";
  item.message.recipients[0].address = "b\x01@customer.example";
  const std::string got = record_log_line("recorded", item).str();
  EXPECT_EQ(got.find_first_of("\r\n\x01"), std::string::npos) << "got " << got;
  EXPECT_NE(got.find("from=<evil??FAKE: line@sender.example>"), std::string::npos) << "got " << got;
  EXPECT_NE(got.find("to=<b?@customer.example>"), std::string::npos) << "got " << got;
}

}  // namespace
}  // namespace etrn
