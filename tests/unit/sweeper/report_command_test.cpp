// report_command_test.cpp - the report's text and JSON lines.
#include "sweeper/report_command.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/util/sysexits.hpp"

namespace etrn {
namespace {

AuditRow row() {
  return AuditRow{
      "4AbC1",    1796115600, "",   "bob@customer.example", "customer.example", "normal", "expired",
      1796288400, 1796288401, "mx1"};
}

TEST(Report, TextHasAlignedColumnsWithIsoTimesAndANullSenderShownAsBrackets) {
  std::ostringstream out;
  AuditRow other = row();
  other.queue_id = "4AbC22";
  other.sender = "alice@sender.example";
  print_report_text(out, {row(), other});
  EXPECT_EQ(out.str(),
            "queue_id  arrival_time          sender                recipient             domain   "
            "         priority  state    expires_at            state_changed_at      instance\n"
            "4AbC1     2026-12-01T09:00:00Z  <>                    bob@customer.example  "
            "customer.example  normal    expired  2026-12-03T09:00:00Z  2026-12-03T09:00:01Z  mx1\n"
            "4AbC22    2026-12-01T09:00:00Z  alice@sender.example  bob@customer.example  "
            "customer.example  normal    expired  2026-12-03T09:00:00Z  2026-12-03T09:00:01Z  "
            "mx1\n");
}

TEST(Report, TextShowsNoRawControlCharactersFromTheEnvelope) {
  std::ostringstream out;
  AuditRow hostile = row();
  hostile.sender = "evil\x1b]0;owned\x07@x.example";
  hostile.recipient = "bob@customer.example\nforged line";
  print_report_text(out, {hostile});
  const std::string text = out.str();
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_EQ(text.find('\x07'), std::string::npos) << text;
  EXPECT_NE(text.find("evil\\x1B]0;owned\\x07@x.example"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << "header and one row: " << text;
}

TEST(Report, ColumnsAreAsWideAsTheirWidestCellAndLinesEndWithoutSpaces) {
  std::ostringstream out;
  print_columns(out, {{"a", "bb", ""}, {"ccc", "d", "e"}, {"j\xC3\xB6", "x"}});
  EXPECT_EQ(out.str(), "a    bb\nccc  d   e\nj\xC3\xB6   x\n") << "one column per character";
  std::ostringstream counts;
  print_columns(counts, {{"", "T", "<1h"}, {"TOTAL", "12", "3"}}, 1);
  EXPECT_EQ(counts.str(), "        T  <1h\nTOTAL  12    3\n") << "counts to the right";
}

TEST(Report, FilterTakesTheTimeFormsOfNowAndChecksTheQueueId) {
  Options o;
  o.since = "-2d";
  o.queue_id = "4ABC1D";
  o.domain = "customer.example";
  o.limit = 5;
  const AuditFilter f = audit_filter(o, MtaKind::postfix, 1800000000);
  EXPECT_EQ(f.changed_since.value_or(0), 1800000000 - 2 * 86400);
  EXPECT_EQ(f.queue_id.value_or(""), "4ABC1D");
  EXPECT_EQ(f.domain.value_or(""), "customer.example");
  EXPECT_EQ(f.limit.value_or(0), 5);
  o.queue_id = "ALL";
  EXPECT_THROW(audit_filter(o, MtaKind::postfix, 1800000000), FatalError) << "not a queue ID";
  o.queue_id.reset();
  o.since = "yesterday";
  EXPECT_THROW(audit_filter(o, MtaKind::postfix, 1800000000), FatalError);
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
    EXPECT_EQ(j.at("instance"), "mx1");
    EXPECT_EQ(j.size(), 10u) << line;
  }
  EXPECT_EQ(count, 2);
}

}  // namespace
}  // namespace etrn
