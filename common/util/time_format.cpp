// time_format.cpp - RFC 5322 and ISO 8601 dates, plain-word durations.
//
// The calendar conversion is Howard Hinnant's days-to-civil algorithm
// rather than gmtime_r, so it is exact for every int64 day count we can
// meet and needs neither libc state nor the TZ variable.
#include "common/util/time_format.hpp"

#include <array>
#include <cstdio>
#include <limits>

namespace etrn {

namespace {

struct CivilDate {
  std::int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

CivilDate civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned mp = (5 * day_of_year + 2) / 153;
  const unsigned day = day_of_year - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year =
      static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// The calendar date and the second of that day.
struct CivilTime {
  CivilDate date;
  std::int64_t second_of_day;
};

CivilTime civil_time(EpochSeconds t) {
  // The remainder, not t - days * 86400: that product overflows for a t
  // within a day of the int64 range's ends (a queue file's arrival time).
  const std::int64_t remainder = t % 86400;
  return {civil_from_days(floor_div(t, 86400)), remainder < 0 ? remainder + 86400 : remainder};
}

std::string plural(std::int64_t n, const char* unit) {
  return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

}  // namespace

std::string format_rfc5322_date(EpochSeconds t) {
  static constexpr std::array<const char*, 7> kWeekdays = {"Thu", "Fri", "Sat", "Sun",
                                                           "Mon", "Tue", "Wed"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::int64_t days = floor_div(t, 86400);
  const auto [date, second_of_day] = civil_time(t);
  const auto weekday = static_cast<std::size_t>(((days % 7) + 7) % 7);  // 1970-01-01 was a Thursday
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %u %s %04lld %02d:%02d:%02d +0000", kWeekdays[weekday],
                date.day, kMonths[date.month - 1], static_cast<long long>(date.year),
                static_cast<int>(second_of_day / 3600), static_cast<int>(second_of_day / 60 % 60),
                static_cast<int>(second_of_day % 60));
  return buffer;
}

std::string format_iso8601(EpochSeconds t) {
  const auto [date, second_of_day] = civil_time(t);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02uT%02d:%02d:%02dZ",
                static_cast<long long>(date.year), date.month, date.day,
                static_cast<int>(second_of_day / 3600), static_cast<int>(second_of_day / 60 % 60),
                static_cast<int>(second_of_day % 60));
  return buffer;
}

EpochSeconds seconds_between(EpochSeconds from, EpochSeconds to) {
  EpochSeconds difference = 0;
  if (__builtin_sub_overflow(to, from, &difference))
    return to > from ? std::numeric_limits<EpochSeconds>::max()
                     : std::numeric_limits<EpochSeconds>::min();
  return difference;
}

std::string format_duration_words(EpochSeconds seconds) {
  struct Unit {
    std::int64_t length;
    const char* name;
  };
  static constexpr std::array<Unit, 4> kUnits = {
      {{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}}};
  if (seconds <= 0) return "0 seconds";
  std::size_t largest = 0;
  while (seconds < kUnits[largest].length) ++largest;
  const std::int64_t count = seconds / kUnits[largest].length;
  std::string out = plural(count, kUnits[largest].name);
  if (largest + 1 < kUnits.size()) {
    const Unit& next = kUnits[largest + 1];
    const std::int64_t rest = (seconds - count * kUnits[largest].length) / next.length;
    if (rest > 0) out += " " + plural(rest, next.name);
  }
  return out;
}

}  // namespace etrn
