// postfix_time.cpp - Postfix's conv_time() rules, with overflow checks.
#include "common/mta/postfix_time.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <string>
#include <vector>

#include "common/util/strings.hpp"

namespace etrn {

namespace {

std::int64_t unit_seconds(char unit) {
  switch (unit) {
    case 's':
      return 1;
    case 'm':
      return 60;
    case 'h':
      return 3600;
    case 'd':
      return 86400;
    case 'w':
      return 7 * 86400;
    default:
      return 0;
  }
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    lines.push_back(trim(text.substr(0, nl)));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::optional<int> number_in(std::string_view text, int low, int high) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < low || value > high)
    return std::nullopt;
  return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil), so no time zone database is involved.
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::vector<std::string_view> words_of(std::string_view text) {
  std::vector<std::string_view> words;
  while (!(text = trim(text)).empty()) {
    const auto end = std::min(text.find(' '), text.size());
    words.push_back(text.substr(0, end));
    text.remove_prefix(end);
  }
  return words;
}

}  // namespace

std::optional<EpochSeconds> parse_asctime_utc(std::string_view text) {
  const auto words = words_of(text);  // Tue Dec 1 17:24:41 2026
  if (words.size() != 5 || words[3].size() != 8 || words[3][2] != ':' || words[3][5] != ':')
    return std::nullopt;
  int month = 0;
  while (month < 12 && kMonths[month] != words[1]) ++month;
  const auto day = number_in(words[2], 1, 31);
  const auto hour = number_in(words[3].substr(0, 2), 0, 23);
  const auto minute = number_in(words[3].substr(3, 2), 0, 59);
  const auto second = number_in(words[3].substr(6, 2), 0, 60);
  const auto year = number_in(words[4], 1970, 9999);
  if (month == 12 || !day || !hour || !minute || !second || !year) return std::nullopt;
  return days_from_civil(*year, month + 1, *day) * 86400 + *hour * 3600 + *minute * 60 + *second;
}

Result<std::int64_t> parse_postfix_time(std::string_view text, char default_unit) {
  const std::string_view t = trim(text);
  std::int64_t number = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), number);
  const std::string_view rest(end, static_cast<std::size_t>(t.data() + t.size() - end));
  const char unit = rest.empty() ? default_unit : rest.front();
  const std::int64_t multiplier = unit_seconds(unit);
  if (ec != std::errc() || number < 0 || rest.size() > 1 || multiplier == 0) {
    return make_error("bad Postfix time value \"" + std::string(t) + "\"");
  }
  if (number > std::numeric_limits<std::int64_t>::max() / multiplier) {
    return make_error("Postfix time value \"" + std::string(t) + "\" is too large");
  }
  return number * multiplier;
}

Result<QueueLifetimes> parse_queue_lifetimes(std::string_view postconf_output) {
  const auto lines = lines_of(postconf_output);
  if (lines.size() != 2) {
    return make_error("postconf printed " + std::to_string(lines.size()) + " lines, want 2");
  }
  auto maximal = parse_postfix_time(lines[0], 'd');
  if (!maximal) return make_error("maximal_queue_lifetime: " + maximal.error().message);
  auto bounce = parse_postfix_time(lines[1], 'd');
  if (!bounce) return make_error("bounce_queue_lifetime: " + bounce.error().message);
  return QueueLifetimes{*maximal, *bounce};
}

}  // namespace etrn
