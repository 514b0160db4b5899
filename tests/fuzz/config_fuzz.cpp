// config_fuzz.cpp - the configuration file (parse_config), a command-line
// override (apply_config_override) and durations (parse_duration), with the
// deadlines every parsed configuration leads to (timeouts_for,
// deadlines_for).
//
// Input: the whole text as a configuration file; its first line also as
// an override "key=value" and as a duration.
// Properties: every error names the file and a line of it; no duration a
// configuration holds, good or not, is negative or beyond
// kLongestDuration; a parsed duration prints and parses back to itself;
// deadlines never come before arrival, even for arrival times at the ends
// of the clock's range (UBSan aborts on any overflow on the way).
#include <cstdint>
#include <limits>

#include "common/config/config.hpp"
#include "common/policy/timeouts.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using etrn::Seconds;

bool within_bounds(Seconds s) {
  return s.count() >= 0 && s <= etrn::kLongestDuration;
}

void check_durations(const etrn::Config& config) {
  for (const Seconds s :
       {config.expire_after, config.expire_after_urgent, config.expire_after_non_urgent,
        config.warn_after, config.milter_record_timeout}) {
    FUZZ_CHECK(within_bounds(s), "a configured duration is within bounds");
  }
  for (const auto& policy : config.domain_policies) {
    FUZZ_CHECK(!policy.expire_after || within_bounds(*policy.expire_after),
               "a domain_policy expire_after is within bounds");
    FUZZ_CHECK(!policy.warn_after || within_bounds(*policy.warn_after),
               "a domain_policy warn_after is within bounds");
  }
}

void check_deadlines(const etrn::Config& config, std::string_view domain) {
  constexpr etrn::EpochSeconds kArrivals[] = {0, 1'700'000'000,
                                              std::numeric_limits<etrn::EpochSeconds>::max() - 1,
                                              std::numeric_limits<etrn::EpochSeconds>::min()};
  for (const auto priority :
       {etrn::Priority::urgent, etrn::Priority::normal, etrn::Priority::non_urgent}) {
    const etrn::Timeouts timeouts = etrn::timeouts_for(config, domain, priority);
    for (const etrn::EpochSeconds arrival : kArrivals) {
      const etrn::Deadlines d = etrn::deadlines_for(timeouts, arrival);
      FUZZ_CHECK(d.expires_at >= arrival, "expiry is not before arrival");
      FUZZ_CHECK(!d.warn_at || (*d.warn_at >= arrival && *d.warn_at <= d.expires_at),
                 "a warning comes between arrival and expiry");
    }
  }
}

void check_config(const etrn::ConfigParse& parse, std::size_t line_count, const char* file) {
  for (const auto& error : parse.errors) {
    FUZZ_CHECK(error.file == file, "an error names the file");
    FUZZ_CHECK(error.line >= 1 && static_cast<std::size_t>(error.line) <= line_count,
               "an error names a line of the file");
  }
  check_durations(parse.config);
  check_deadlines(parse.config, "customer.example");
  for (const auto& policy : parse.config.domain_policies) {
    check_deadlines(parse.config, policy.pattern);
    check_deadlines(parse.config, "x" + policy.pattern);
  }
}

void check_duration(std::string_view text) {
  const auto duration = etrn::parse_duration(text);
  if (!duration) return;
  FUZZ_CHECK(within_bounds(*duration), "a parsed duration is within bounds");
  const auto again = etrn::parse_duration(etrn::format_duration(*duration));
  FUZZ_CHECK(again && *again == *duration, "a duration prints and parses back to itself");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = etrn::fuzz::as_text(data, size);
  etrn::ConfigParse parse = etrn::parse_config(input, "fuzz.conf");
  const std::size_t line_count = etrn::fuzz::lines_of(input).size();
  check_config(parse, line_count, "fuzz.conf");

  const std::string_view first_line = input.substr(0, input.find('\n'));
  check_duration(first_line);
  const auto eq = first_line.find('=');
  if (eq != std::string_view::npos) {
    etrn::apply_config_override(parse, std::string(first_line.substr(0, eq)),
                                std::string(first_line.substr(eq + 1)));
    check_durations(parse.config);
    check_deadlines(parse.config, "customer.example");
  }
  return 0;
}
