// shape_command_test.cpp - age buckets, per-domain rows and the TOTAL row.
#include "sweeper/shape_command.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
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

TEST(Shape, BucketsDoubleFromTheFirstLikeQshape) {
  const ShapeBuckets b = doubling_shape_buckets(5, 4);
  EXPECT_EQ(b.bounds, (std::vector<EpochSeconds>{300, 600, 1200})) << "the fourth is 'older'";
  EXPECT_EQ(bucket_label(b, 0), "<5m");
  EXPECT_EQ(bucket_label(b, 3), "20m+");
  EXPECT_EQ(bucket_label(doubling_shape_buckets(60, 3), 1), "<2h");
  auto rows = shape_rows({{"a.example", kNow - 400}, {"a.example", kNow - 5000}}, kNow, b);
  EXPECT_EQ(rows[1].buckets, (std::vector<int>{0, 1, 0, 1}));
}

TEST(Shape, OptionsChooseTheBuckets) {
  Options o;
  EXPECT_EQ(shape_buckets_for(o).bounds, default_shape_buckets().bounds);
  o.buckets = 3;
  EXPECT_EQ(shape_buckets_for(o).bounds, (std::vector<EpochSeconds>{3600, 7200}))
      << "-b alone: the first bucket is an hour";
  o.first_bucket_minutes = 10;
  EXPECT_EQ(shape_buckets_for(o).bounds, (std::vector<EpochSeconds>{600, 1200}));
}

TEST(Shape, JsonHasOneObjectPerRowWithLabelledBuckets) {
  std::ostringstream out;
  const ShapeBuckets b = doubling_shape_buckets(60, 2);
  print_shape_json(out, shape_rows({{"customer.example", kNow - 2 * kHour}}, kNow, b), b);
  std::istringstream lines(out.str());
  std::string total, domain;
  std::getline(lines, total);
  std::getline(lines, domain);
  const auto j = nlohmann::json::parse(domain);
  EXPECT_EQ(nlohmann::json::parse(total).at("domain"), "TOTAL");
  EXPECT_EQ(j.at("domain"), "customer.example");
  EXPECT_EQ(j.at("total"), 1);
  EXPECT_EQ(
      j.at("buckets").dump(),
      R"([{"count":0,"label":"<1h","max_age":3600},{"count":1,"label":"1h+","max_age":null}])");
}

}  // namespace
}  // namespace etrn
