// shape_command_test.cpp - age buckets, per-domain rows and the TOTAL row.
#include "sweeper/shape_command.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace etrn {
namespace {

constexpr EpochSeconds kNow = 1800000000;
constexpr EpochSeconds kHour = 3600;

TEST(Shape, CountsEachRecipientInItsAgeBucket) {
  auto rows = shape_rows({{"a.example", kNow - 30 * 60},
                          {"a.example", kNow - 5 * kHour},
                          {"b.example", kNow - 200 * kHour},
                          {"a.example", kNow - 5 * kHour}},
                         kNow);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].domain, "TOTAL");
  EXPECT_EQ(rows[0].total, 4);
  EXPECT_EQ(rows[1].domain, "a.example") << "the busiest domain first";
  EXPECT_EQ(rows[1].buckets, (std::vector<int>{1, 0, 2, 0, 0, 0, 0, 0}));
  EXPECT_EQ(rows[2].buckets.back(), 1) << "older than the last bound";
}

TEST(Shape, AnEmptyQueueStillHasATotalRow) {
  auto rows = shape_rows({}, kNow);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].total, 0);
}

TEST(Shape, PrintsAHeaderAndOneLinePerRow) {
  std::ostringstream out;
  print_shape(out, shape_rows({{"customer.example", kNow - kHour}}, kNow));
  const std::string text = out.str();
  EXPECT_NE(text.find("<1h"), std::string::npos) << text;
  EXPECT_NE(text.find("120h+"), std::string::npos) << text;
  EXPECT_NE(text.find("TOTAL"), std::string::npos) << text;
  EXPECT_NE(text.find("customer.example"), std::string::npos) << text;
}

}  // namespace
}  // namespace etrn
