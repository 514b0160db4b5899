// dsn_text_test.cpp - the plain-words part of a DSN.
#include "common/dsn/dsn_text.hpp"

#include <gtest/gtest.h>

#include "tests/unit/common/dsn/dsn_test_support.hpp"

namespace etrn {
namespace {

using namespace dsn_test;

// The text with its line wrapping undone, so phrases can be searched.
std::string unwrapped(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n') {
      out += text[i];
      continue;
    }
    out += ' ';
    while (i + 1 < text.size() && text[i + 1] == ' ') ++i;
  }
  return out;
}

TEST(DescribeDsnInWords, FailedNoticeSaysExpiredSiteWaitAndPolicy) {
  const std::string got = unwrapped(describe_dsn_in_words(failed_input()));
  for (const char* want :
       {"delivery time", "2 days 1 hour", "ETRN (RFC 1985)",
        "<bob@customer.example>: customer.example never asked",
        "domain_policy customer.example: expire after 2d", "Its queue ID was 4NxYz12AbC"}) {
    EXPECT_NE(got.find(want), std::string::npos) << "want \"" << want << "\" in:\n" << got;
  }
  EXPECT_EQ(got.find("keep trying"), std::string::npos) << "a failure does not promise retries";
}

TEST(DescribeDsnInWords, DelayWarningSaysUntilWhenItKeepsTrying) {
  const std::string got = unwrapped(describe_dsn_in_words(delayed_input()));
  EXPECT_NE(got.find("only a warning"), std::string::npos) << got;
  EXPECT_NE(got.find("keep trying until Sun, 29 Nov 2026 01:30:58 +0000"), std::string::npos)
      << got;
}

TEST(DescribeDsnInWords, WrapsAt72ColumnsWhereWordsAllow) {
  const std::string got = describe_dsn_in_words(failed_input());
  EXPECT_LE(longest_line_octets(got), 72u) << got;
}

TEST(DescribeDsnInWords, ControlCharactersInValuesCannotBreakLines) {
  DsnInput input = failed_input();
  input.recipients[0].domain = "x\r\nX-Injected: yes";
  const std::string got = describe_dsn_in_words(input);
  EXPECT_EQ(got.find("\nX-Injected"), std::string::npos) << got;
  EXPECT_NE(got.find("x\\x0D\\x0AX-Injected: yes"), std::string::npos) << got;
}

TEST(PrintableText, KeepsUtf8AndEscapesControlsAndInvalidBytes) {
  EXPECT_EQ(printable_text("m\xC3\xBCller"), "m\xC3\xBCller");
  EXPECT_EQ(printable_text("a\tb\x7f"), "a\\x09b\\x7F");
  EXPECT_EQ(printable_text("caf\xE9!"), "caf\\xE9!");
  EXPECT_EQ(printable_text("\xE2\x82"), "\\xE2\\x82") << "truncated sequence";
}

}  // namespace
}  // namespace etrn
