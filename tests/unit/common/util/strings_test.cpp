// strings_test.cpp - tests of the generic string helpers.
#include "common/util/strings.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

TEST(Trim, RemovesSpacesTabsAndLineEndsFromBothEnds) {
  EXPECT_EQ(trim("  \t a b \r\n"), "a b");
}

TEST(Trim, ReturnsEmptyForOnlyWhitespace) {
  EXPECT_EQ(trim(" \t\n"), "");
}

TEST(Trim, LeavesAStringWithoutWhitespaceAlone) {
  EXPECT_EQ(trim("abc"), "abc");
}

TEST(AsciiLower, LowersAsciiLettersOnly) {
  EXPECT_EQ(ascii_lower("MiXeD-123.Example"), "mixed-123.example");
  // UTF-8 bytes are not ASCII letters and are kept as they are.
  EXPECT_EQ(ascii_lower("\xC3\x84RGER.DE"), "\xC3\x84rger.de");
}

TEST(Iequals, IgnoresAsciiCase) {
  EXPECT_TRUE(iequals("X-Priority", "x-PRIORITY"));
  EXPECT_FALSE(iequals("abc", "abd"));
  EXPECT_FALSE(iequals("abc", "abcd"));
  EXPECT_TRUE(iequals("", ""));
}

TEST(IstartsWith, MatchesAPrefixInAnyCase) {
  EXPECT_TRUE(istarts_with("RFC822;bob@example", "rfc822;"));
  EXPECT_FALSE(istarts_with("utf-8;bob", "rfc822;"));
  EXPECT_FALSE(istarts_with("rfc", "rfc822;"));
  EXPECT_TRUE(istarts_with("anything", ""));
}

TEST(SplitList, SplitsTrimsAndDropsEmptyPieces) {
  const std::vector<std::string> want{"a", "b c", "d"};
  EXPECT_EQ(split_list(" a ,, b c ,d, ", ','), want);
}

TEST(SplitList, ReturnsNothingForAnEmptyString) {
  EXPECT_TRUE(split_list("", ',').empty());
}

TEST(SplitList, ReturnsTheWholeStringWhenThereIsNoSeparator) {
  const std::vector<std::string> want{"abc"};
  EXPECT_EQ(split_list("abc", ','), want);
}

}  // namespace
}  // namespace etrn
