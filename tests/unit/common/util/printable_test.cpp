// printable_test.cpp - envelope text made safe for a terminal.
#include "common/util/printable.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

TEST(Printable, KeepsPrintableAsciiAndUtf8) {
  EXPECT_EQ(printable("bob@customer.example"), "bob@customer.example");
  EXPECT_EQ(printable("j\xC3\xB6rg@b\xC3\xBC\x63her.example"),
            "j\xC3\xB6rg@b\xC3\xBC\x63her.example");
}

TEST(Printable, EscapesControlCharactersSoNoneReachTheTerminal) {
  EXPECT_EQ(printable("a\x1B[2Jb"), "a\\x1B[2Jb") << "ESC";
  EXPECT_EQ(printable("line\r\nforged"), "line\\x0D\\x0Aforged");
  EXPECT_EQ(printable(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(printable("del\x7F"), "del\\x7F");
  EXPECT_EQ(printable("c1\xC2\x9B"), "c1\\xC2\\x9B") << "CSI written in UTF-8";
}

TEST(Printable, EscapesBytesThatAreNotUtf8AndTheBackslash) {
  EXPECT_EQ(printable("bad\xFF"), "bad\\xFF");
  EXPECT_EQ(printable("cut\xC3"), "cut\\xC3");
  EXPECT_EQ(printable("overlong\xE0\x80\xAF"), "overlong\\xE0\\x80\\xAF");
  EXPECT_EQ(printable("a\\x41"), "a\\\\x41") << "an escape cannot be forged";
}

TEST(DisplayWidth, CountsCharactersNotBytes) {
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("j\xC3\xB6rg"), 4u);
}

}  // namespace
}  // namespace etrn
