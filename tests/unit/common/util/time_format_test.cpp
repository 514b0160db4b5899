// time_format_test.cpp - RFC 5322 and ISO 8601 dates, plain-word durations.
#include "common/util/time_format.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace etrn {
namespace {

TEST(FormatRfc5322Date, EpochIsThursdayFirstOfJanuary1970) {
  EXPECT_EQ(format_rfc5322_date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
}

TEST(FormatRfc5322Date, KnownInstantMatchesGnuDate) {
  // date -u -d @1795919458 +'%a, %-d %b %Y %T %z'
  EXPECT_EQ(format_rfc5322_date(1795919458), "Sun, 29 Nov 2026 02:30:58 +0000");
}

TEST(FormatRfc5322Date, LeapDayAndYearEndAreRight) {
  EXPECT_EQ(format_rfc5322_date(951782400), "Tue, 29 Feb 2000 00:00:00 +0000");
  EXPECT_EQ(format_rfc5322_date(1798761599), "Thu, 31 Dec 2026 23:59:59 +0000");
}

TEST(FormatRfc5322Date, InstantBeforeEpochIsStillADate) {
  EXPECT_EQ(format_rfc5322_date(-1), "Wed, 31 Dec 1969 23:59:59 +0000");
}

// A queue file's arrival time may be anything: the first and last instants
// an int64 holds still format (t - days * 86400 overflowed for them: only
// UBSan saw it, as the fuzz target did; the wrapped value happened to be
// right). The times of day are t mod 86400, worked out by hand.
TEST(FormatRfc5322Date, TheEndsOfTheInt64RangeAreDates) {
  const std::string got_min = format_rfc5322_date(std::numeric_limits<EpochSeconds>::min());
  const std::string got_max = format_rfc5322_date(std::numeric_limits<EpochSeconds>::max());
  EXPECT_TRUE(got_min.ends_with(" 08:29:52 +0000")) << got_min;
  EXPECT_TRUE(got_max.ends_with(" 15:30:07 +0000")) << got_max;
}

TEST(FormatIso8601, IsUtcWithAZ) {
  EXPECT_EQ(format_iso8601(1796115600), "2026-12-01T09:00:00Z");
}

TEST(FormatIso8601, LeapDayAndInstantsBeforeTheEpochAreRight) {
  EXPECT_EQ(format_iso8601(951782400), "2000-02-29T00:00:00Z");
  EXPECT_EQ(format_iso8601(-1), "1969-12-31T23:59:59Z");
}

TEST(SecondsBetween, IsTheDifferenceSaturatedAtTheInt64Ends) {
  constexpr EpochSeconds kMin = std::numeric_limits<EpochSeconds>::min();
  constexpr EpochSeconds kMax = std::numeric_limits<EpochSeconds>::max();
  EXPECT_EQ(seconds_between(100, 160), 60);
  EXPECT_EQ(seconds_between(160, 100), -60);
  EXPECT_EQ(seconds_between(kMin, 1795919458), kMax);
  EXPECT_EQ(seconds_between(kMax, -1795919458), kMin);
}

TEST(FormatDurationWords, UsesTheTwoLargestAdjacentUnits) {
  EXPECT_EQ(format_duration_words(2 * 86400 + 3600), "2 days 1 hour");
  EXPECT_EQ(format_duration_words(3 * 3600 + 5 * 60 + 7), "3 hours 5 minutes");
  EXPECT_EQ(format_duration_words(90), "1 minute 30 seconds");
  EXPECT_EQ(format_duration_words(45), "45 seconds");
}

TEST(FormatDurationWords, SkipsAZeroSecondUnit) {
  EXPECT_EQ(format_duration_words(2 * 86400 + 5 * 60), "2 days");
  EXPECT_EQ(format_duration_words(86400), "1 day");
}

TEST(FormatDurationWords, ZeroAndNegativeSpansAreZeroSeconds) {
  EXPECT_EQ(format_duration_words(0), "0 seconds");
  EXPECT_EQ(format_duration_words(-5), "0 seconds");
}

}  // namespace
}  // namespace etrn
