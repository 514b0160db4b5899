// report_command_test.cpp - the report's text and JSON lines.
#include "sweeper/report_command.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace etrn {
namespace {

AuditRow row() {
  return AuditRow{
      "4AbC1",   1796115600, "",        "bob@customer.example", "customer.example", "normal",
      "expired", 1796288400, 1796288401};
}

TEST(Report, TextHasOneLinePerRecordWithIsoTimesAndANullSenderShownAsBrackets) {
  std::ostringstream out;
  print_report_text(out, {row()});
  EXPECT_EQ(
      out.str(),
      "queue_id arrival_time sender recipient domain priority state expires_at state_changed_at\n"
      "4AbC1 2026-12-01T09:00:00Z <> bob@customer.example customer.example normal expired "
      "2026-12-03T09:00:00Z 2026-12-03T09:00:01Z\n");
}

TEST(Report, JsonHasTheAuditViewsColumnsOneObjectPerLine) {
  std::ostringstream out;
  print_report_json(out, {row(), row()});
  std::istringstream lines(out.str());
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("queue_id"), "4AbC1");
    EXPECT_EQ(j.at("arrival_time"), 1796115600);
    EXPECT_EQ(j.at("sender"), "");
    EXPECT_EQ(j.at("state"), "expired");
    EXPECT_EQ(j.size(), 9u) << line;
  }
  EXPECT_EQ(count, 2);
}

}  // namespace
}  // namespace etrn
