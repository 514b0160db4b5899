// time_spec.cpp - parsing of --now TIME (pure; see time_spec.hpp).
#include "sweeper/time_spec.hpp"

#include <charconv>

#include "common/config/config.hpp"
#include "common/util/strings.hpp"

namespace etrn {

namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<int> number_at(std::string_view s, std::size_t pos, std::size_t len) {
  if (pos + len > s.size() || !all_digits(s.substr(pos, len))) return std::nullopt;
  int value = 0;
  std::from_chars(s.data() + pos, s.data() + pos + len, value);
  return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

Result<std::int64_t> parse_offset(std::string_view zone) {
  if (zone == "Z" || zone == "z") return std::int64_t{0};
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':') {
    return make_error("bad time zone '" + std::string(zone) + "' (want Z or +HH:MM)");
  }
  auto hours = number_at(zone, 1, 2);
  auto minutes = number_at(zone, 4, 2);
  if (!hours || !minutes || *hours > 23 || *minutes > 59) return make_error("bad time zone offset");
  std::int64_t offset = *hours * 3600 + *minutes * 60;
  return zone[0] == '-' ? -offset : offset;
}

Result<EpochSeconds> parse_iso8601(std::string_view s) {
  const auto bad = [&s] {
    return make_error("bad time '" + std::string(s) + "' (want e.g. 2026-12-01T09:00:00Z)");
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':') {
    return bad();
  }
  auto year = number_at(s, 0, 4), month = number_at(s, 5, 2), day = number_at(s, 8, 2);
  auto hour = number_at(s, 11, 2), minute = number_at(s, 14, 2), second = number_at(s, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return bad();
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 60) {
    return bad();
  }
  auto offset = parse_offset(s.substr(19));
  if (!offset) return offset.error();
  std::int64_t days =
      days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
  return days * 86400 + *hour * 3600 + *minute * 60 + *second - *offset;
}

Result<EpochSeconds> parse_relative(std::string_view s, EpochSeconds real_now) {
  auto duration = parse_duration(s.substr(1));
  if (!duration)
    return make_error("bad relative time '" + std::string(s) + "': " + duration.error().message);
  return s[0] == '-' ? real_now - duration->count() : real_now + duration->count();
}

}  // namespace

Result<EpochSeconds> parse_time_spec(std::string_view text, EpochSeconds real_now) {
  std::string_view s = trim(text);
  if (s.empty()) return make_error("empty time");
  if (s[0] == '+' || s[0] == '-') return parse_relative(s, real_now);
  if (all_digits(s)) {
    EpochSeconds value = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || ptr != s.data() + s.size()) return make_error("time out of range");
    return value;
  }
  return parse_iso8601(s);
}

}  // namespace etrn
