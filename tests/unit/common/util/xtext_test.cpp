// xtext_test.cpp - tests of RFC 3461 xtext encoding and decoding.
#include "common/util/xtext.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

TEST(XtextDecode, PassesPlainTextThrough) {
  const auto got = xtext_decode("abc.123@example");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, "abc.123@example");
}

TEST(XtextDecode, DecodesHexEscapes) {
  const auto got = xtext_decode("a+2Bb+3Dc+20d");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, "a+b=c d");
}

TEST(XtextDecode, AcceptsLowerCaseHexLeniently) {
  const auto got = xtext_decode("a+2bb+3d");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, "a+b=");
}

TEST(XtextDecode, DecodesNonAsciiBytes) {
  const auto got = xtext_decode("+C3+A4");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, "\xC3\xA4");
}

TEST(XtextDecode, RejectsAPlusAtTheEnd) {
  const auto got = xtext_decode("abc+");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find("offset 3"), std::string::npos) << got.error().message;
}

TEST(XtextDecode, RejectsAPlusWithOnlyOneHexDigit) {
  EXPECT_FALSE(xtext_decode("abc+4").ok());
}

TEST(XtextDecode, RejectsAPlusFollowedByNonHex) {
  EXPECT_FALSE(xtext_decode("+GG").ok());
  EXPECT_FALSE(xtext_decode("+2G").ok());
  EXPECT_FALSE(xtext_decode("++20").ok());
}

TEST(XtextDecode, DecodesTheEmptyString) {
  const auto got = xtext_decode("");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "");
}

TEST(XtextEncode, EncodesPlusEqualsSpaceControlAndNonAscii) {
  EXPECT_EQ(xtext_encode("a+b=c d\x01\xC3\xA4"), "a+2Bb+3Dc+20d+01+C3+A4");
}

TEST(XtextEncode, LeavesPrintableAsciiAlone) {
  EXPECT_EQ(xtext_encode("!az~<@>"), "!az~<@>");
}

TEST(Xtext, EveryByteRoundTrips) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const auto got = xtext_decode(xtext_encode(all));
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, all);
}

}  // namespace
}  // namespace etrn
