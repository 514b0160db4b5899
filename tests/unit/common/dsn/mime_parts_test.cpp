// mime_parts_test.cpp - line ends, header sections, transfer encodings and
// quoted-printable for DSN parts.
#include "common/dsn/mime_parts.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

TEST(NormalizeLineEnds, TurnsCrlfAndLoneCrIntoLf) {
  EXPECT_EQ(normalize_line_ends("a\r\nb\rc\n"), "a\nb\nc\n");
}

TEST(NormalizeLineEnds, AddsAFinalLfButLeavesEmptyTextEmpty) {
  EXPECT_EQ(normalize_line_ends("a"), "a\n");
  EXPECT_EQ(normalize_line_ends(""), "");
}

TEST(HeaderSection, StopsBeforeTheBlankLine) {
  EXPECT_EQ(header_section("A: 1\nB: 2\n\nbody\n"), "A: 1\nB: 2\n");
  EXPECT_EQ(header_section("A: 1\n"), "A: 1\n") << "no body at all";
  EXPECT_EQ(header_section("\nbody\n"), "") << "no headers at all";
}

TEST(IdentityTransferEncoding, PicksTheNarrowestThatFits) {
  EXPECT_EQ(identity_transfer_encoding("plain\n"), "7bit");
  EXPECT_EQ(identity_transfer_encoding("caf\xE9\n"), "8bit");
  EXPECT_EQ(identity_transfer_encoding(std::string("a\0b\n", 4)), "binary");
  EXPECT_EQ(identity_transfer_encoding(std::string(999, 'x') + "\n"), "binary");
  EXPECT_EQ(identity_transfer_encoding(std::string(998, 'x') + "\n"), "7bit");
}

TEST(QuotedPrintableEncode, EscapesEqualsEightBitAndTrailingSpace) {
  EXPECT_EQ(quoted_printable_encode("a=b m\xC3\xBC \n"), "a=3Db m=C3=BC=20\n");
}

TEST(QuotedPrintableEncode, BreaksLongLinesSoftlyWithin76Octets) {
  const std::string got = quoted_printable_encode(std::string(200, 'x') + "\n");
  std::size_t start = 0;
  while (start < got.size()) {
    const std::size_t end = got.find('\n', start);
    EXPECT_LE(end - start, 76u) << "line too long in " << got;
    start = end + 1;
  }
  std::string decoded = got;
  for (std::size_t at; (at = decoded.find("=\n")) != std::string::npos;) decoded.erase(at, 2);
  EXPECT_EQ(decoded, std::string(200, 'x') + "\n");
}

TEST(LongestLine, CountsOctetsWithoutTheLf) {
  EXPECT_EQ(longest_line("ab\nabcd\nx"), 4u);
  EXPECT_EQ(longest_line(""), 0u);
}

}  // namespace
}  // namespace etrn
