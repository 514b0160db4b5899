// delivery_status_test.cpp - RFC 3464 fields of the delivery-status part.
#include "common/dsn/delivery_status.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "tests/unit/common/dsn/dsn_test_support.hpp"

namespace etrn {
namespace {

using namespace dsn_test;

TEST(DeliveryStatusFields, FailedRecipientHasExpiryStatusAndNoRetryDate) {
  const Result<std::string> got = delivery_status_fields(failed_input());
  ASSERT_TRUE(got.ok()) << got.error().message;
  const std::vector<FieldBlock> blocks = status_blocks(*got);
  ASSERT_EQ(blocks.size(), 3u) << *got;
  EXPECT_EQ(blocks[0].find("arrival-date")->second, "Fri, 27 Nov 2026 01:30:58 +0000");
  EXPECT_EQ(blocks[1].find("last-attempt-date")->second, "Sun, 29 Nov 2026 02:30:58 +0000");
  EXPECT_EQ(blocks[1].find("diagnostic-code")->second,
            "smtp; 550 5.4.7 Message expired: delivery time expired after 2 days 1 hour in queue; "
            "customer.example never asked for its mail with ETRN");
  EXPECT_FALSE(has_field(blocks[1], "Will-Retry-Until"));
}

TEST(DeliveryStatusFields, DelayedRecipientHasWillRetryUntilItsOwnExpiry) {
  DsnInput input = delayed_input();
  input.recipients.push_back({"eve@other.example", {}, "other.example", kNow + 7 * 86400, ""});
  const Result<std::string> got = delivery_status_fields(input);
  ASSERT_TRUE(got.ok());
  const std::vector<FieldBlock> blocks = status_blocks(*got);
  ASSERT_EQ(blocks.size(), 3u) << *got;
  EXPECT_EQ(blocks[1].find("will-retry-until")->second, "Sun, 29 Nov 2026 01:30:58 +0000");
  EXPECT_EQ(blocks[2].find("will-retry-until")->second, "Sun, 6 Dec 2026 02:30:58 +0000");
  EXPECT_NE(blocks[2].find("diagnostic-code")->second.find("waiting for other.example"),
            std::string::npos);
}

// An arrival time from a damaged queue file: now - arrival overflowed
// (found by fuzzing) and the wrapped span read "0 seconds".
TEST(DeliveryStatusFields, AnArrivalAtTheStartOfTimeWaitedTheLongestSpan) {
  DsnInput input = failed_input();
  input.arrival_time = std::numeric_limits<EpochSeconds>::min();
  const Result<std::string> got = delivery_status_fields(input);
  ASSERT_TRUE(got.ok()) << got.error().message;
  const std::vector<FieldBlock> blocks = status_blocks(*got);
  ASSERT_EQ(blocks.size(), 3u) << *got;
  EXPECT_NE(blocks[1].find("diagnostic-code")->second.find("after 106751991167300 days 15 hours"),
            std::string::npos)
      << blocks[1].find("diagnostic-code")->second;
}

TEST(DeliveryStatusFields, InvalidSiteNameStaysOutOfTheDiagnostic) {
  DsnInput input = failed_input();
  input.recipients[0].domain = "x\nX-Injected: yes";
  const Result<std::string> got = delivery_status_fields(input);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->find("X-Injected"), std::string::npos) << *got;
  EXPECT_NE(got->find("the site never asked"), std::string::npos) << *got;
}

TEST(DeliveryStatusFields, InvalidReportingMtaIsAnError) {
  DsnInput input = failed_input();
  input.reporting_mta = "";
  EXPECT_FALSE(delivery_status_fields(input).ok());
}

TEST(DeliveryStatusFields, EmptyRecipientAddressIsLeftOut) {
  DsnInput input = failed_input();
  input.recipients[0].address.clear();
  const Result<std::string> got = delivery_status_fields(input);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(status_blocks(*got).size(), 2u) << *got;
}

}  // namespace
}  // namespace etrn
