// timeouts_test.cpp - tests of when a recipient warns and expires.
#include "common/policy/timeouts.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace etrn {
namespace {

using std::chrono::hours;

Config config_with_policies(std::vector<DomainPolicy> policies) {
  Config c;
  c.expire_after = hours(48);
  c.expire_after_urgent = hours(24);
  c.expire_after_non_urgent = hours(72);
  c.warn_after = hours(4);
  c.domain_policies = std::move(policies);
  return c;
}

TEST(TimeoutsFor, UsesThePriorityExpiryAndTheGlobalWarning) {
  const auto c = config_with_policies({});
  auto t = timeouts_for(c, "other.example", Priority::normal);
  EXPECT_EQ(t.expire_after, hours(48));
  EXPECT_EQ(t.warn_after, hours(4));
  EXPECT_EQ(t.policy_source, "expire_after");
  t = timeouts_for(c, "other.example", Priority::urgent);
  EXPECT_EQ(t.expire_after, hours(24));
  EXPECT_EQ(t.policy_source, "expire_after_urgent");
  t = timeouts_for(c, "other.example", Priority::non_urgent);
  EXPECT_EQ(t.expire_after, hours(72));
  EXPECT_EQ(t.policy_source, "expire_after_non_urgent");
}

TEST(TimeoutsFor, ADomainPolicyOverridesBothValues) {
  const auto c = config_with_policies({{"customer.example", hours(100), hours(10)}});
  const auto t = timeouts_for(c, "Customer.Example.", Priority::urgent);
  EXPECT_EQ(t.expire_after, hours(100));
  EXPECT_EQ(t.warn_after, hours(10));
  EXPECT_EQ(t.policy_source, "domain_policy customer.example");
}

TEST(TimeoutsFor, EachValueFallsBackSeparately) {
  const auto c = config_with_policies(
      {{"a.example", hours(100), std::nullopt}, {"b.example", std::nullopt, hours(1)}});
  auto t = timeouts_for(c, "a.example", Priority::urgent);
  EXPECT_EQ(t.expire_after, hours(100));
  EXPECT_EQ(t.warn_after, hours(4));
  EXPECT_EQ(t.policy_source, "domain_policy a.example, warn_after");
  t = timeouts_for(c, "b.example", Priority::urgent);
  EXPECT_EQ(t.expire_after, hours(24));
  EXPECT_EQ(t.warn_after, hours(1));
  EXPECT_EQ(t.policy_source, "domain_policy b.example, expire_after_urgent");
}

TEST(TimeoutsFor, TheFirstMatchingPolicyWins) {
  const auto c = config_with_policies({{".dialup.example", hours(5), std::nullopt},
                                       {"host.dialup.example", hours(6), std::nullopt}});
  const auto t = timeouts_for(c, "host.dialup.example", Priority::normal);
  EXPECT_EQ(t.expire_after, hours(5));
  EXPECT_EQ(t.policy_source, "domain_policy .dialup.example, warn_after");
}

TEST(TimeoutsFor, ASubdomainPatternDoesNotMatchTheParent) {
  const auto c = config_with_policies({{".dialup.example", hours(5), std::nullopt}});
  EXPECT_EQ(timeouts_for(c, "dialup.example", Priority::normal).expire_after, hours(48));
}

TEST(TimeoutsFor, PolicySourceOutlivesTheConfig) {
  Timeouts t;
  {
    const auto c = config_with_policies({{"customer.example", hours(1), std::nullopt}});
    t = timeouts_for(c, "customer.example", Priority::normal);
  }
  EXPECT_EQ(t.policy_source, "domain_policy customer.example, warn_after");
}

TEST(DeadlinesFor, SetsWarningAndExpiry) {
  const Timeouts t{hours(48), hours(4), "expire_after"};
  const auto d = deadlines_for(t, 1000);
  ASSERT_TRUE(d.warn_at.has_value());
  EXPECT_EQ(*d.warn_at, 1000 + 4 * 3600);
  EXPECT_EQ(d.expires_at, 1000 + 48 * 3600);
}

TEST(DeadlinesFor, HasNoWarningWhenWarningsAreOff) {
  const Timeouts t{hours(48), hours(0), "expire_after"};
  const auto d = deadlines_for(t, 1000);
  EXPECT_FALSE(d.warn_at.has_value());
  EXPECT_EQ(d.expires_at, 1000 + 48 * 3600);
}

// Found by fuzzing: a duration near INT64_MAX overflowed the sum (signed
// overflow, undefined). The configuration now refuses such durations; the
// sum itself saturates for any arrival time a queue file may give.
TEST(DeadlinesFor, SaturatesInsteadOfOverflowing) {
  const Timeouts huge{Seconds{std::numeric_limits<std::int64_t>::max()}, hours(4), "x"};
  EXPECT_EQ(deadlines_for(huge, 1'800'000'000).expires_at,
            std::numeric_limits<EpochSeconds>::max());
  const Timeouts normal{hours(48), hours(4), "x"};
  EXPECT_EQ(deadlines_for(normal, std::numeric_limits<EpochSeconds>::max() - 10).expires_at,
            std::numeric_limits<EpochSeconds>::max());
  EXPECT_EQ(deadlines_for(normal, std::numeric_limits<EpochSeconds>::min()).expires_at,
            std::numeric_limits<EpochSeconds>::min() + 48 * 3600);
}

TEST(DeadlinesFor, HasNoWarningWhenItWouldNotComeBeforeExpiry) {
  EXPECT_FALSE(deadlines_for({hours(4), hours(4), "x"}, 0).warn_at.has_value());
  EXPECT_FALSE(deadlines_for({hours(4), hours(5), "x"}, 0).warn_at.has_value());
}

}  // namespace
}  // namespace etrn
