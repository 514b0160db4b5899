// postgres_text_test.cpp - any bytes survive the trip through PostgreSQL
// text: the mapping is valid UTF-8, one to one, and leaves valid UTF-8
// without the escape's code points as it is.
#include "common/store/postgres_text.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace etrn {
namespace {

// Whether `text` is valid UTF-8 (RFC 3629: no overlongs, no surrogates).
bool valid_utf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
    std::size_t n = b(0) < 0x80                    ? 1
                    : b(0) >= 0xC2 && b(0) <= 0xDF ? 2
                    : b(0) >= 0xE0 && b(0) <= 0xEF ? 3
                    : b(0) >= 0xF0 && b(0) <= 0xF4 ? 4
                                                   : 0;
    if (n == 0 || i + n > text.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((b(k) & 0xC0) != 0x80) return false;
    if (n == 3 && ((b(0) == 0xE0 && b(1) < 0xA0) || (b(0) == 0xED && b(1) >= 0xA0))) return false;
    if (n == 4 && ((b(0) == 0xF0 && b(1) < 0x90) || (b(0) == 0xF4 && b(1) >= 0x90))) return false;
    i += n;
  }
  return true;
}

TEST(PostgresText, LeavesAsciiAndValidUtf8AsTheyAre) {
  for (const std::string text :
       {"", "alice@sender.example", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7"})
    EXPECT_EQ(to_postgres_text(text), text);
}

TEST(PostgresText, MapsEveryOtherByteToValidUtf8AndBack) {
  for (const std::string& bytes :
       {std::string("caf\xe9 cr\xe8me"), std::string("j\xfcrgen@sender.example"),
        std::string("\x80\xbf\xc0\xc1\xf5\xff"), std::string("cut \xe2\x82"),
        std::string("\xed\xa0\x80 surrogate"), std::string("\xe0\x80\xaf overlong"),
        std::string("\xf4\x90\x80\x80 past U+10FFFF"), std::string("nul \0 inside", 12)}) {
    const std::string text = to_postgres_text(bytes);
    EXPECT_TRUE(valid_utf8(text)) << bytes;
    EXPECT_EQ(from_postgres_text(text), bytes);
  }
}

TEST(PostgresText, EscapesTheCodePointsItUsesSoThatTheMappingIsOneToOne) {
  const std::string raw_e9 = "\xe9";
  const std::string written_as = to_postgres_text(raw_e9);  // U+10FEE9
  EXPECT_NE(to_postgres_text(written_as), written_as) << "a real U+10FEE9 must differ";
  EXPECT_EQ(from_postgres_text(to_postgres_text(written_as)), written_as);
  const std::string escape = "\xf4\x8f\xb9\xbf";  // U+10FE7F itself
  EXPECT_EQ(from_postgres_text(to_postgres_text(escape)), escape);
  EXPECT_EQ(from_postgres_text(to_postgres_text(escape + raw_e9)), escape + raw_e9);
}

TEST(PostgresText, RandomBytesRoundTripAndStayDistinct) {
  std::mt19937 random(20261202);
  std::set<std::string> inputs, outputs;
  for (int n = 0; n < 5000; ++n) {
    std::string bytes(random() % 12, '\0');
    for (char& c : bytes) c = static_cast<char>(random() % 4 == 0 ? 0xF4 : random() % 256);
    const std::string text = to_postgres_text(bytes);
    ASSERT_TRUE(valid_utf8(text));
    ASSERT_EQ(from_postgres_text(text), bytes);
    if (inputs.insert(bytes).second) outputs.insert(text);
  }
  EXPECT_EQ(outputs.size(), inputs.size());
}

}  // namespace
}  // namespace etrn
