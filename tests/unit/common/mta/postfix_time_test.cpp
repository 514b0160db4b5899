// Tests for postfix_time: Postfix time units and postconf output.
#include "common/mta/postfix_time.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

TEST(PostfixTime, ReadsEveryUnit) {
  EXPECT_EQ(*parse_postfix_time("30s", 'd'), 30);
  EXPECT_EQ(*parse_postfix_time("90m", 'd'), 5400);
  EXPECT_EQ(*parse_postfix_time("1h", 'd'), 3600);
  EXPECT_EQ(*parse_postfix_time("5d", 's'), 5 * 86400);
  EXPECT_EQ(*parse_postfix_time("2w", 's'), 14 * 86400);
}

TEST(PostfixTime, GivesABareNumberTheDefaultUnit) {
  EXPECT_EQ(*parse_postfix_time("5", 'd'), 5 * 86400);
  EXPECT_EQ(*parse_postfix_time("0", 'd'), 0);
}

TEST(PostfixTime, RejectsWhatPostfixRejects) {
  for (const char* bad : {"", "d", "5x", "5dd", "-1d", "1.5h", "99999999999999999999w"}) {
    EXPECT_FALSE(parse_postfix_time(bad, 'd').ok()) << bad;
  }
}

TEST(PostfixTime, ReadsPostconfOutputForBothLifetimes) {
  auto got = parse_queue_lifetimes("5d\n1h\n");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->maximal_queue_lifetime, 5 * 86400);
  EXPECT_EQ(got->bounce_queue_lifetime, 3600);
}

TEST(PostfixTime, RejectsPostconfOutputWithTheWrongShape) {
  EXPECT_FALSE(parse_queue_lifetimes("5d\n").ok());
  EXPECT_FALSE(parse_queue_lifetimes("5d\nforever\n").ok());
}

TEST(PostfixTime, ReadsPostcatsAsctimeDatesAsUtc) {
  EXPECT_EQ(parse_asctime_utc("Tue Dec  1 17:24:41 2026"), 1796145881);
  EXPECT_EQ(parse_asctime_utc("Sun Nov 29 05:21:06 2026"), 1795929666);
  EXPECT_EQ(parse_asctime_utc("Thu Feb 29 00:00:00 2024"), 1709164800) << "a leap day";
  EXPECT_EQ(parse_asctime_utc("Thu Jan  1 00:00:00 1970"), 0);
}

TEST(PostfixTime, RefusesWhatIsNotAnAsctimeDate) {
  for (const char* bad :
       {"", "Tue Dec 1 17:24 2026", "Tue Dex  1 17:24:41 2026", "Tue Dec 32 17:24:41 2026",
        "Tue Dec  1 25:24:41 2026", "Tue Dec  1 17:24:41", "1796145881"}) {
    EXPECT_FALSE(parse_asctime_utc(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace etrn
