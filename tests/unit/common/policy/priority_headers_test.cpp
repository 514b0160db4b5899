// priority_headers_test.cpp - tests of reading a priority from headers.
#include "common/policy/priority_headers.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

Priority from(std::initializer_list<std::pair<const char*, const char*>> headers) {
  PriorityDetector d;
  for (const auto& [name, value] : headers) d.add_header(name, value);
  return d.priority();
}

TEST(PriorityDetector, IsNormalWithoutPriorityHeaders) {
  EXPECT_EQ(from({}), Priority::normal);
  EXPECT_EQ(from({{"Subject", "urgent!"}}), Priority::normal);
}

TEST(PriorityDetector, ReadsPriorityHeader) {
  EXPECT_EQ(from({{"Priority", "urgent"}}), Priority::urgent);
  EXPECT_EQ(from({{"Priority", "non-urgent"}}), Priority::non_urgent);
  EXPECT_EQ(from({{"priority", "  NORMAL  "}}), Priority::normal);
}

TEST(PriorityDetector, ReadsXPriorityNumbersWithComments) {
  EXPECT_EQ(from({{"X-Priority", "1"}}), Priority::urgent);
  EXPECT_EQ(from({{"X-Priority", "2 (High)"}}), Priority::urgent);
  EXPECT_EQ(from({{"x-priority", " 3 (Normal)"}}), Priority::normal);
  EXPECT_EQ(from({{"X-Priority", "4"}}), Priority::non_urgent);
  EXPECT_EQ(from({{"X-PRIORITY", "5 (Lowest)"}}), Priority::non_urgent);
}

TEST(PriorityDetector, ReadsXPriorityWords) {
  EXPECT_EQ(from({{"X-Priority", "High"}}), Priority::urgent);
  EXPECT_EQ(from({{"X-Priority", "low"}}), Priority::non_urgent);
}

TEST(PriorityDetector, IgnoresUnknownXPriorityValues) {
  EXPECT_EQ(from({{"X-Priority", "12"}}), Priority::normal);
  EXPECT_EQ(from({{"X-Priority", "9"}}), Priority::normal);
  EXPECT_EQ(from({{"X-Priority", ""}}), Priority::normal);
}

TEST(PriorityDetector, ReadsImportance) {
  EXPECT_EQ(from({{"Importance", "High"}}), Priority::urgent);
  EXPECT_EQ(from({{"importance", "low"}}), Priority::non_urgent);
  EXPECT_EQ(from({{"Importance", "normal"}}), Priority::normal);
}

TEST(PriorityDetector, ReadsPrecedence) {
  EXPECT_EQ(from({{"Precedence", "bulk"}}), Priority::non_urgent);
  EXPECT_EQ(from({{"Precedence", "JUNK"}}), Priority::non_urgent);
  EXPECT_EQ(from({{"Precedence", "list"}}), Priority::non_urgent);
  EXPECT_EQ(from({{"Precedence", "first-class"}}), Priority::normal);
  EXPECT_EQ(from({{"Precedence", "special-delivery"}}), Priority::urgent);
  EXPECT_EQ(from({{"Precedence", "urgent"}}), Priority::urgent);
}

TEST(PriorityDetector, PriorityBeatsXPriority) {
  EXPECT_EQ(from({{"X-Priority", "1"}, {"Priority", "non-urgent"}}), Priority::non_urgent);
}

TEST(PriorityDetector, XPriorityBeatsImportance) {
  EXPECT_EQ(from({{"Importance", "low"}, {"X-Priority", "1"}}), Priority::urgent);
}

TEST(PriorityDetector, ImportanceBeatsPrecedence) {
  EXPECT_EQ(from({{"Precedence", "bulk"}, {"Importance", "high"}}), Priority::urgent);
}

TEST(PriorityDetector, AKnownNormalStillOverridesWeakerKinds) {
  EXPECT_EQ(from({{"Precedence", "bulk"}, {"Priority", "normal"}}), Priority::normal);
}

TEST(PriorityDetector, TheFirstKnownHeaderOfAKindCounts) {
  EXPECT_EQ(from({{"Importance", "bogus"}, {"Importance", "high"}, {"Importance", "low"}}),
            Priority::urgent);
}

TEST(PriorityDetector, IgnoresUnknownValuesOfAStrongerKind) {
  EXPECT_EQ(from({{"Priority", "whenever"}, {"Precedence", "bulk"}}), Priority::non_urgent);
}

TEST(PriorityDetector, ReadsOnlyThePriorityHeaders) {
  for (const char* name : {"Priority", "x-priority", " Importance ", "PRECEDENCE"})
    EXPECT_TRUE(PriorityDetector::reads(name)) << name;
  for (const char* name : {"Subject", "X-Importance", "Priority-Old", ""})
    EXPECT_FALSE(PriorityDetector::reads(name)) << name;
}

}  // namespace
}  // namespace etrn
