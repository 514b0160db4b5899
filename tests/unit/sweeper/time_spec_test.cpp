// time_spec_test.cpp - the --now argument forms, and their errors.
#include "sweeper/time_spec.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

constexpr EpochSeconds kRealNow = 1800000000;

EpochSeconds parsed(std::string_view text) {
  auto result = parse_time_spec(text, kRealNow);
  EXPECT_TRUE(result.ok()) << text << ": " << (result ? "" : result.error().message);
  return result ? *result : -1;
}

TEST(TimeSpec, EpochSecondsAreTakenAsGiven) {
  EXPECT_EQ(parsed("1764579600"), 1764579600);
}

TEST(TimeSpec, Iso8601UtcIsConverted) {
  EXPECT_EQ(parsed("2026-12-01T09:00:00Z"), 1796115600);
}

TEST(TimeSpec, Iso8601OffsetIsSubtracted) {
  EXPECT_EQ(parsed("2026-12-01T11:00:00+02:00"), 1796115600);
  EXPECT_EQ(parsed("2026-12-01T08:30:00-00:30"), 1796115600);
}

TEST(TimeSpec, RelativeTimesCountFromTheRealClock) {
  EXPECT_EQ(parsed("+49h"), kRealNow + 49 * 3600);
  EXPECT_EQ(parsed("+3d"), kRealNow + 3 * 86400);
  EXPECT_EQ(parsed("-2h"), kRealNow - 2 * 3600);
}

TEST(TimeSpec, GarbageIsAnError) {
  for (const char* bad : {"", "tomorrow", "+", "+3x", "2026-13-01T00:00:00Z", "2026-12-01T09:00:00",
                          "2026-12-01T09:00:00+2", "12abc"}) {
    EXPECT_FALSE(parse_time_spec(bad, kRealNow).ok())
        << "got success for '" << bad << "', want an error";
  }
}

}  // namespace
}  // namespace etrn
