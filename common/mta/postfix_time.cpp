// postfix_time.cpp - Postfix's conv_time() rules, with overflow checks.
#include "common/mta/postfix_time.hpp"

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

}  // namespace

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
