// dsn_kind_test.cpp - the spelling of the two DSN kinds.
#include "common/model/dsn_kind.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

TEST(DsnKind, IsSpelledAsRfc3464sActionAndParsedBack) {
  for (const DsnKind kind : {DsnKind::delayed, DsnKind::failed}) {
    EXPECT_EQ(parse_dsn_kind(to_string(kind)), kind) << "for " << to_string(kind);
  }
  EXPECT_EQ(to_string(DsnKind::delayed), "delayed");
  EXPECT_EQ(to_string(DsnKind::failed), "failed");
}

TEST(DsnKind, RejectsOtherNames) {
  EXPECT_EQ(parse_dsn_kind("Failed"), std::nullopt);
  EXPECT_EQ(parse_dsn_kind(""), std::nullopt);
}

}  // namespace
}  // namespace etrn
