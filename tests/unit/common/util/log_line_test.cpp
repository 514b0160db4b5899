// log_line_test.cpp - LogLine: Postfix's "QID: key=value, ..." text, and
// envelope values that cannot break or forge a line.
#include "common/util/log_line.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

TEST(LogLineTest, TheQueueIdComesFirstThenItemsSeparatedByCommas) {
  LogLine line("4Xyz1abc");
  line.address("to", "bob@customer.example")
      .field("relay", "none")
      .field("delay", "172800")
      .field("dsn", "5.4.7")
      .status("expired", "customer.example did not collect its mail within 48h")
      .phrase("returned to sender <etrn-failed-1.4Xyz1abc@mx.example>");
  const std::string want =
      "4Xyz1abc: to=<bob@customer.example>, relay=none, delay=172800, dsn=5.4.7, "
      "status=expired (customer.example did not collect its mail within 48h), "
      "returned to sender <etrn-failed-1.4Xyz1abc@mx.example>";
  EXPECT_EQ(line.str(), want);
}

TEST(LogLineTest, ABarePhraseMayOpenTheLine) {
  LogLine line("4Xyz1abc");
  line.phrase("split").phrase("survivors requeued as 4Abc2def");
  EXPECT_EQ(line.str(), "4Xyz1abc: split, survivors requeued as 4Abc2def");
}

TEST(LogLineTest, TheNullSenderIsAnEmptyPairOfBrackets) {
  LogLine line("Q1");
  line.address("from", "");
  EXPECT_EQ(line.str(), "Q1: from=<>");
}

TEST(LogLineTest, AStatusWithoutAReasonHasNoParentheses) {
  LogLine line("Q1");
  line.status("departed", "");
  EXPECT_EQ(line.str(), "Q1: status=departed");
}

TEST(LogLineTest, ControlBytesInValuesBecomeQuestionMarksAsInPostfix) {
  LogLine line("Q\n1");
  line.address("from", "evil\r\nFAKE: line@sender.example")
      .field("k", std::string("a\0b\x7f", 4))
      .status("expired", "why\n")
      .phrase("tab\there");
  EXPECT_EQ(line.str(),
            "Q?1: from=<evil??FAKE: line@sender.example>, k=a?b?, "
            "status=expired (why?), tab?here");
}

TEST(LogLineTest, Utf8AddressesAreKeptAsTheyAre) {
  LogLine line("Q1");
  line.address("to",
               "j\xc3\xb6rg@b\xc3\xbc"
               "cher.example");
  EXPECT_EQ(line.str(),
            "Q1: to=<j\xc3\xb6rg@b\xc3\xbc"
            "cher.example>");
}

}  // namespace
}  // namespace etrn
