// config_values.cpp - parsing and rendering of configuration value types.
//
// Durations follow Postfix: a decimal number with one optional unit
// (s m h d w, lower case); a bare number is seconds. Compound forms such as
// "1h30m" are rejected rather than guessed at: write "90m".
#include "common/config/config_values.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <limits>
#include <utility>

#include "common/util/strings.hpp"

namespace etrn {

namespace {

constexpr std::array<std::pair<char, std::int64_t>, 5> kUnits{{
    {'w', 7 * 24 * 3600},
    {'d', 24 * 3600},
    {'h', 3600},
    {'m', 60},
    {'s', 1},
}};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Parses a non-empty run of decimal digits; nullopt on overflow of int64.
std::optional<std::int64_t> parse_count(std::string_view digits) {
  std::int64_t n = 0;
  for (const char c : digits) {
    const int d = c - '0';
    if (n > (std::numeric_limits<std::int64_t>::max() - d) / 10) return std::nullopt;
    n = n * 10 + d;
  }
  return n;
}

// Splits "48h" into "48" and "h"; the number part is the leading digits.
std::pair<std::string_view, std::string_view> split_number(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  return {text.substr(0, i), text.substr(i)};
}

std::optional<std::int64_t> unit_seconds(std::string_view unit) {
  if (unit.empty()) return 1;
  if (unit.size() != 1) return std::nullopt;
  for (const auto& [letter, seconds] : kUnits) {
    if (letter == unit.front()) return seconds;
  }
  return std::nullopt;
}

// Splits on commas and whitespace, dropping empty pieces.
std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  for (const char c : text) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

bool is_domain_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_' || c == '.';
}

Status check_domain_name(std::string_view name) {
  if (name.empty()) return make_error("empty domain name");
  if (name.find('@') != std::string_view::npos) {
    return make_error("\"" + std::string(name) + "\" is an address, not a domain");
  }
  for (const char c : name) {
    if (!is_domain_byte(c)) {
      return make_error("\"" + std::string(name) +
                        "\" contains a character not allowed in a domain name");
    }
  }
  if (name.front() == '.' || name.back() == '.' || name.find("..") != std::string_view::npos) {
    return make_error("\"" + std::string(name) + "\" has an empty label");
  }
  return ok_status();
}

bool is_transport_byte(char c) {
  return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_' || c == '.' || c == '+';
}

}  // namespace

Result<Seconds> parse_duration(std::string_view text) {
  const auto t = trim(text);
  if (t.empty()) return make_error("empty duration");
  if (t.front() == '-') return make_error("negative duration \"" + std::string(t) + "\"");
  const auto [digits, unit] = split_number(t);
  if (digits.empty())
    return make_error("\"" + std::string(t) + "\" is not a duration (want e.g. 48h, 2d, 90m)");
  const auto multiplier = unit_seconds(unit);
  if (!multiplier) {
    return make_error("unknown time unit \"" + std::string(unit) + "\" (use s, m, h, d or w)");
  }
  const auto count = parse_count(digits);
  if (!count || *count > kLongestDuration.count() / *multiplier) {
    return make_error("duration \"" + std::string(t) + "\" is too large (at most " +
                      format_duration(kLongestDuration) + ")");
  }
  return Seconds{*count * *multiplier};
}

std::string format_duration(Seconds s) {
  const auto n = s.count();
  if (n == 0) return "0";
  for (const auto& [letter, seconds] : kUnits) {
    if (n % seconds == 0) return std::to_string(n / seconds) + letter;
  }
  return std::to_string(n) + "s";
}

Result<std::chrono::milliseconds> parse_interval(std::string_view text) {
  const auto t = trim(text);
  const auto too_long = [&] {
    return make_error("interval \"" + std::string(t) + "\" is too long (at most " +
                      format_interval(kLongestCommitInterval) + ")");
  };
  if (t.ends_with("ms")) {
    const auto [digits, rest] = split_number(t.substr(0, t.size() - 2));
    const auto count = digits.empty() || !rest.empty() ? std::nullopt : parse_count(digits);
    if (!count)
      return make_error("\"" + std::string(t) + "\" is not an interval (want e.g. 100ms or 1s)");
    if (*count > kLongestCommitInterval.count()) return too_long();
    return std::chrono::milliseconds{*count};
  }
  auto seconds = parse_duration(t);
  if (!seconds) return seconds.error();
  if (*seconds > kLongestCommitInterval) return too_long();
  return std::chrono::milliseconds{*seconds};
}

std::string format_interval(std::chrono::milliseconds interval) {
  if (interval.count() % 1000 == 0)
    return format_duration(std::chrono::duration_cast<Seconds>(interval));
  return std::to_string(interval.count()) + "ms";
}

Result<Seconds> parse_positive_duration(std::string_view text) {
  auto d = parse_duration(text);
  if (d && d->count() <= 0) return make_error("must be greater than 0");
  return d;
}

Result<Seconds> parse_nonnegative_duration(std::string_view text) {
  return parse_duration(text);
}

// Under a day, a departure the next run could still undo (a listing that
// missed a message) might already be pruned.
Result<Seconds> parse_retention(std::string_view text) {
  auto retention = parse_duration(text);
  if (retention && retention->count() != 0 && *retention < kShortestRetention)
    return make_error("history_retention must be 0 (keep forever) or at least " +
                      format_duration(kShortestRetention));
  return retention;
}

Result<std::string> parse_domain_pattern(std::string_view text) {
  auto name = ascii_lower(trim(text));
  if (name == ".")
    return make_error("\".\" is not a domain (write \".name\" for the subdomains of name)");
  if (name.size() > 1 && name.back() == '.') name.pop_back();
  const bool subdomains = !name.empty() && name.front() == '.';
  ETRN_TRY(
      check_domain_name(subdomains ? std::string_view(name).substr(1) : std::string_view(name)));
  return name;
}

Result<std::vector<std::string>> parse_domain_list(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& word : split_words(text)) {
    auto pattern = parse_domain_pattern(word);
    if (!pattern) return pattern.error();
    out.push_back(std::move(*pattern));
  }
  return out;
}

Result<std::vector<std::string>> parse_transport_list(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& word : split_words(text)) {
    auto name = ascii_lower(word);
    for (const char c : name) {
      if (!is_transport_byte(c)) return make_error("\"" + word + "\" is not a transport name");
    }
    out.push_back(std::move(name));
  }
  return out;
}

std::string format_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

namespace {

Status apply_policy_setting(DomainPolicy& policy, std::string_view setting) {
  const auto eq = setting.find('=');
  if (eq == std::string_view::npos) {
    return make_error("\"" + std::string(setting) + "\" is not key=duration");
  }
  const auto key = setting.substr(0, eq);
  const auto value = setting.substr(eq + 1);
  std::optional<Seconds>* slot = nullptr;
  Result<Seconds> parsed = Seconds{0};
  if (key == "expire_after") {
    slot = &policy.expire_after;
    parsed = parse_positive_duration(value);
  } else if (key == "warn_after") {
    slot = &policy.warn_after;
    parsed = parse_nonnegative_duration(value);
  } else {
    return make_error("unknown setting \"" + std::string(key) +
                      "\" (use expire_after or warn_after)");
  }
  if (*slot) return make_error(std::string(key) + " given twice");
  if (!parsed) return make_error(std::string(key) + ": " + parsed.error().message);
  *slot = *parsed;
  return ok_status();
}

}  // namespace

Result<DomainPolicy> parse_domain_policy(std::string_view text) {
  const auto words = split_words(text);
  if (words.empty())
    return make_error("empty; want \"PATTERN expire_after=DURATION warn_after=DURATION\"");
  DomainPolicy policy;
  auto pattern = parse_domain_pattern(words.front());
  if (!pattern) return pattern.error();
  policy.pattern = std::move(*pattern);
  for (std::size_t i = 1; i < words.size(); ++i) {
    ETRN_TRY(apply_policy_setting(policy, words[i]));
  }
  if (!policy.expire_after && !policy.warn_after) {
    return make_error("sets nothing; give expire_after=DURATION and/or warn_after=DURATION");
  }
  return policy;
}

std::string format_domain_policy(const DomainPolicy& policy) {
  std::string out = policy.pattern;
  if (policy.expire_after) out += " expire_after=" + format_duration(*policy.expire_after);
  if (policy.warn_after) out += " warn_after=" + format_duration(*policy.warn_after);
  return out;
}

Result<std::int64_t> parse_byte_size(std::string_view text) {
  const auto t = trim(text);
  if (t.empty()) return make_error("empty size");
  if (t.front() == '-') return make_error("negative size \"" + std::string(t) + "\"");
  const auto [digits, suffix] = split_number(t);
  if (digits.empty()) return make_error("\"" + std::string(t) + "\" is not a size in bytes");
  std::int64_t multiplier = 1;
  if (suffix == "k" || suffix == "K")
    multiplier = 1024;
  else if (suffix == "M")
    multiplier = 1024 * 1024;
  else if (!suffix.empty())
    return make_error("unknown size suffix \"" + std::string(suffix) + "\" (use k or M)");
  const auto count = parse_count(digits);
  if (!count || *count > std::numeric_limits<std::int64_t>::max() / multiplier) {
    return make_error("size \"" + std::string(t) + "\" is too large");
  }
  return *count * multiplier;
}

Result<std::string> parse_milter_socket(std::string_view text) {
  const auto t = trim(text);
  if (t.empty()) return make_error("empty socket");
  if (t.front() == '/') return std::string(t);
  const auto colon = t.find(':');
  const auto kind = colon == std::string_view::npos ? std::string_view{} : t.substr(0, colon);
  const auto rest = colon == std::string_view::npos ? std::string_view{} : t.substr(colon + 1);
  if ((kind == "unix" || kind == "local") && !rest.empty() && rest.front() == '/')
    return std::string(t);
  if ((kind == "inet" || kind == "inet6") && !rest.empty() && is_digit(rest.front()))
    return std::string(t);
  return make_error("\"" + std::string(t) +
                    "\" is not unix:/PATH, local:/PATH, inet:PORT@HOST or inet6:PORT@HOST");
}

Result<std::string> parse_log_level(std::string_view text) {
  const auto level = ascii_lower(trim(text));
  for (const char* known : {"trace", "debug", "info", "warn", "error"}) {
    if (level == known) return level;
  }
  return make_error("unknown log level \"" + std::string(trim(text)) +
                    "\" (use trace, debug, info, warn or error)");
}

Result<MtaKind> parse_mta_kind(std::string_view text) {
  const auto t = trim(text);
  if (iequals(t, "postfix")) return MtaKind::postfix;
  if (iequals(t, "sendmail")) return MtaKind::sendmail;
  return make_error("unknown MTA \"" + std::string(t) + "\" (use postfix or sendmail)");
}

std::string_view to_string(MtaKind kind) {
  return kind == MtaKind::sendmail ? "sendmail" : "postfix";
}

Result<OnError> parse_on_error(std::string_view text) {
  const auto t = trim(text);
  if (iequals(t, "accept")) return OnError::accept;
  if (iequals(t, "tempfail")) return OnError::tempfail;
  return make_error("unknown action \"" + std::string(t) + "\" (use accept or tempfail)");
}

std::string_view to_string(OnError action) {
  return action == OnError::tempfail ? "tempfail" : "accept";
}

Result<std::string> parse_host_name(std::string_view text) {
  const std::string name(trim(text));
  const auto bad = [&name](const std::string& why) {
    return make_error("\"" + name + "\" is not a host name: " + why);
  };
  if (name.empty()) return make_error("empty host name");
  if (name.size() > 253) return bad("longer than 253 characters");
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    const std::string_view label = std::string_view(name).substr(start, dot - start);
    if (label.empty()) return bad("an empty label");
    if (label.size() > 63) return bad("a label longer than 63 characters");
    if (label.front() == '-' || label.back() == '-') return bad("a label starts or ends with '-'");
    for (const char c : label) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-';
      if (!ok) return bad(std::string("'") + c + "' is not allowed (a port, brackets?)");
    }
    if (dot == name.size()) return name;
    start = dot + 1;
  }
}

Result<std::string> parse_notice_address(std::string_view text) {
  const std::string address(trim(text));
  if (address.empty()) return make_error("empty address");
  for (const char c : address) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u == 0x7f || c == '<' || c == '>' || c == ',')
      return make_error("\"" + address + "\" is not one plain address");
  }
  if (address.front() == '-' || address.front() == '@' || address.back() == '@')
    return make_error("\"" + address + "\" is not one plain address");
  return address;
}

Result<int> parse_socket_mode(std::string_view text) {
  const auto t = trim(text);
  int mode = 0;
  const auto [end, error] = std::from_chars(t.data(), t.data() + t.size(), mode, 8);
  if (t.empty() || error != std::errc() || end != t.data() + t.size())
    return make_error("want an octal mode such as 0660, not '" + std::string(t) + "'");
  if ((mode & ~0666) != 0 || (mode & 0600) != 0600)
    return make_error(
        "want read and write for the owner and no execute or special bits (0600, "
        "0660, 0666), not " +
        format_socket_mode(mode));
  return mode;
}

std::string format_socket_mode(int mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
  return text;
}

Result<std::string> parse_required_text(std::string_view text) {
  const auto t = trim(text);
  if (t.empty()) return make_error("must not be empty");
  return std::string(t);
}

Result<std::string> parse_absolute_path(std::string_view text) {
  const std::string path(trim(text));
  if (!path.empty() && path.front() != '/')
    return make_error("want an absolute path, not '" + path + "'");
  return path;
}

}  // namespace etrn
