// priority_test.cpp - tests of the priority names.
#include "common/model/priority.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

TEST(PriorityName, SpellsEachPriorityAsTheDatabaseDoes) {
  EXPECT_EQ(to_string(Priority::urgent), "urgent");
  EXPECT_EQ(to_string(Priority::normal), "normal");
  EXPECT_EQ(to_string(Priority::non_urgent), "non-urgent");
}

TEST(PriorityName, ParsesWhatToStringWrites) {
  for (const auto p : {Priority::urgent, Priority::normal, Priority::non_urgent}) {
    EXPECT_EQ(parse_priority_name(to_string(p)), p) << "for " << to_string(p);
  }
}

TEST(PriorityName, ParsesInAnyCaseAndWithUnderscore) {
  EXPECT_EQ(parse_priority_name(" URGENT "), Priority::urgent);
  EXPECT_EQ(parse_priority_name("Non_Urgent"), Priority::non_urgent);
}

TEST(PriorityName, RejectsUnknownNames) {
  EXPECT_EQ(parse_priority_name("high"), std::nullopt);
  EXPECT_EQ(parse_priority_name(""), std::nullopt);
  EXPECT_EQ(parse_priority_name("nonurgent"), std::nullopt);
}

}  // namespace
}  // namespace etrn
