// config_holder_test.cpp - a reload replaces the current snapshot without
// touching the snapshots connections already hold.
#include "milter/config_holder.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

Config config_with_domains(std::vector<std::string> domains) {
  Config c;
  c.etrn_domains = std::move(domains);
  return c;
}

TEST(ConfigHolder, ASnapshotTakenBeforeAReloadKeepsTheOldRules) {
  ConfigHolder holder(config_with_domains({"customer.example"}));
  const auto before = holder.current();
  holder.replace(config_with_domains({"elsewhere.example"}));
  const auto after = holder.current();

  EXPECT_TRUE(before->matcher.is_etrn_only("bob@customer.example", ""));
  EXPECT_FALSE(before->matcher.is_etrn_only("bob@elsewhere.example", ""));
  EXPECT_TRUE(after->matcher.is_etrn_only("bob@elsewhere.example", ""));
  EXPECT_FALSE(after->matcher.is_etrn_only("bob@customer.example", ""));
  EXPECT_EQ(before->config.etrn_domains, std::vector<std::string>{"customer.example"});
}

TEST(ConfigHolder, TheMatcherUsesTheSnapshotsTransports) {
  Config c;
  c.etrn_transports = {"etrn-only"};
  ConfigHolder holder(std::move(c));
  EXPECT_TRUE(holder.current()->matcher.is_etrn_only("x@any.example", "etrn-only"));
  EXPECT_FALSE(holder.current()->matcher.is_etrn_only("x@any.example", "smtp"));
}

}  // namespace
}  // namespace etrn
