// config_values_test.cpp - tests of the configuration value parsers.
#include "common/config/config_values.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

using std::chrono::hours;

// The error message of a failed parse, or "(no error)" to make failures clear.
template <typename T>
std::string error_of(const Result<T>& r) {
  return r.ok() ? "(no error)" : r.error().message;
}

TEST(ParseDuration, ReadsEveryUnit) {
  const std::pair<const char*, std::int64_t> cases[] = {
      {"30s", 30},    {"90m", 5400}, {"48h", 172800}, {"2d", 172800},
      {"1w", 604800}, {"45", 45},    {"0", 0},        {" 4h ", 14400},
  };
  for (const auto& [text, want] : cases) {
    const auto got = parse_duration(text);
    ASSERT_TRUE(got.ok()) << text << ": " << error_of(got);
    EXPECT_EQ(got->count(), want) << "for " << text;
  }
}

TEST(ParseDuration, RejectsEmpty) {
  EXPECT_EQ(error_of(parse_duration("  ")), "empty duration");
}

TEST(ParseDuration, RejectsNegative) {
  EXPECT_NE(error_of(parse_duration("-5h")).find("negative"), std::string::npos);
}

TEST(ParseDuration, RejectsUnknownUnits) {
  for (const char* text : {"5y", "5H", "5hours", "5 h", "1h30m"}) {
    EXPECT_NE(error_of(parse_duration(text)).find("unknown time unit"), std::string::npos) << text;
  }
}

TEST(ParseDuration, RejectsTextWithoutANumber) {
  EXPECT_NE(error_of(parse_duration("h")).find("not a duration"), std::string::npos);
  EXPECT_NE(error_of(parse_duration("+5h")).find("not a duration"), std::string::npos);
}

TEST(ParseDuration, RejectsOverflow) {
  EXPECT_NE(error_of(parse_duration("99999999999999999999")).find("too large"), std::string::npos);
  EXPECT_NE(error_of(parse_duration("9223372036854775807w")).find("too large"), std::string::npos);
}

// A duration near INT64_MAX made deadlines_for overflow (found by fuzzing):
// anything longer than ten years is refused at load.
TEST(ParseDuration, RejectsAnythingLongerThanTenYears) {
  EXPECT_EQ(error_of(parse_duration("9223372036854775807")),
            "duration \"9223372036854775807\" is too large (at most 3650d)");
  EXPECT_NE(error_of(parse_duration("3651d")).find("too large"), std::string::npos);
  EXPECT_NE(error_of(parse_duration("315360001")).find("too large"), std::string::npos);
  ASSERT_TRUE(parse_duration("3650d").ok());
  EXPECT_EQ(parse_duration("3650d")->count(), 315360000);
  EXPECT_TRUE(parse_duration("521w").ok());
}

TEST(FormatDuration, UsesTheLargestExactUnit) {
  EXPECT_EQ(format_duration(Seconds{172800}), "2d");
  EXPECT_EQ(format_duration(Seconds{5400}), "90m");
  EXPECT_EQ(format_duration(Seconds{604800}), "1w");
  EXPECT_EQ(format_duration(Seconds{3600}), "1h");
  EXPECT_EQ(format_duration(Seconds{61}), "61s");
  EXPECT_EQ(format_duration(Seconds{0}), "0");
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (const std::int64_t s : {1, 59, 60, 3599, 3600, 86400, 90000, 604800, 1209600}) {
    const auto got = parse_duration(format_duration(Seconds{s}));
    ASSERT_TRUE(got.ok()) << s;
    EXPECT_EQ(got->count(), s);
  }
}

TEST(ParsePositiveDuration, RejectsZero) {
  EXPECT_EQ(error_of(parse_positive_duration("0")), "must be greater than 0");
  EXPECT_TRUE(parse_positive_duration("1s").ok());
}

TEST(ParseNonnegativeDuration, AcceptsZero) {
  EXPECT_TRUE(parse_nonnegative_duration("0").ok());
}

TEST(ParseInterval, ReadsMillisecondsAndDurations) {
  const std::pair<const char*, std::int64_t> cases[] = {
      {"100ms", 100}, {"0ms", 0}, {"0", 0}, {"2s", 2000}, {" 250ms ", 250}, {"10s", 10000},
  };
  for (const auto& [text, want] : cases) {
    const auto got = parse_interval(text);
    ASSERT_TRUE(got.ok()) << text << ": " << error_of(got);
    EXPECT_EQ(got->count(), want) << "for " << text;
  }
}

TEST(ParseInterval, RejectsMalformedAndTooLongIntervals) {
  for (const char* text : {"ms", "1.5ms", "-5ms", "5 ms", "x100ms"}) {
    EXPECT_FALSE(parse_interval(text).ok()) << text;
  }
  EXPECT_EQ(error_of(parse_interval("10001ms")), "interval \"10001ms\" is too long (at most 10s)");
  EXPECT_NE(error_of(parse_interval("1m")).find("too long"), std::string::npos);
  EXPECT_NE(error_of(parse_interval("99999999999999999999ms")).find("not an interval"),
            std::string::npos);
}

TEST(FormatInterval, WritesWhatParseReads) {
  for (const char* text : {"100ms", "1s", "0", "1500ms", "10s"}) {
    const auto parsed = parse_interval(text);
    ASSERT_TRUE(parsed.ok()) << text;
    EXPECT_EQ(format_interval(*parsed), text);
  }
}

TEST(ParseDomainList, NormalizesAndSplitsOnCommasAndSpaces) {
  const auto got =
      parse_domain_list("Customer.Example., .Dialup.example  other.example,third.example");
  ASSERT_TRUE(got.ok()) << error_of(got);
  const std::vector<std::string> want{"customer.example", ".dialup.example", "other.example",
                                      "third.example"};
  EXPECT_EQ(*got, want);
}

TEST(ParseDomainList, AcceptsAnEmptyList) {
  const auto got = parse_domain_list("  ");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
}

TEST(ParseDomainList, AcceptsUtf8NamesLoweringOnlyAscii) {
  const auto got = parse_domain_list(
      "B\xC3\xBC"
      "CHER.Example");
  ASSERT_TRUE(got.ok()) << error_of(got);
  EXPECT_EQ(got->front(),
            "b\xC3\xBC"
            "cher.example");
}

TEST(ParseDomainList, RejectsAnAddress) {
  EXPECT_NE(error_of(parse_domain_list("ok.example, bob@customer.example")).find("is an address"),
            std::string::npos);
}

TEST(ParseDomainList, RejectsEmptyLabels) {
  for (const char* text : {"a..b", "..a", "a..", ".", "..", "a.b..", ".."}) {
    EXPECT_FALSE(parse_domain_list(text).ok()) << text;
  }
  EXPECT_NE(error_of(parse_domain_list("a..b")).find("empty label"), std::string::npos);
  EXPECT_NE(error_of(parse_domain_list(".")).find("not a domain"), std::string::npos);
}

TEST(ParseDomainList, RejectsCharactersNotAllowedInDomains) {
  for (const char* text : {"a/b", "a:b", "[1.2.3.4]", "a;b", "<a>"}) {
    EXPECT_NE(error_of(parse_domain_list(text)).find("not allowed"), std::string::npos) << text;
  }
}

TEST(ParseDomainPattern, KeepsTheLeadingDotOfASubdomainPattern) {
  const auto got = parse_domain_pattern(".Dialup.Example.");
  ASSERT_TRUE(got.ok()) << error_of(got);
  EXPECT_EQ(*got, ".dialup.example");
}

TEST(ParseTransportList, LowerCasesAndSplits) {
  const auto got = parse_transport_list("ETRN-only, dsmtp  esmtp_x");
  ASSERT_TRUE(got.ok()) << error_of(got);
  const std::vector<std::string> want{"etrn-only", "dsmtp", "esmtp_x"};
  EXPECT_EQ(*got, want);
}

TEST(ParseTransportList, RejectsNamesWithOddCharacters) {
  EXPECT_NE(error_of(parse_transport_list("smtp:[relay]")).find("not a transport name"),
            std::string::npos);
  EXPECT_FALSE(parse_transport_list("a@b").ok());
}

TEST(FormatList, JoinsWithCommaAndSpace) {
  EXPECT_EQ(format_list({"a", "b"}), "a, b");
  EXPECT_EQ(format_list({}), "");
}

TEST(ParseDomainPolicy, ReadsPatternAndBothSettings) {
  const auto got = parse_domain_policy("Customer.Example expire_after=72h warn_after=12h");
  ASSERT_TRUE(got.ok()) << error_of(got);
  EXPECT_EQ(got->pattern, "customer.example");
  EXPECT_EQ(got->expire_after, hours(72));
  EXPECT_EQ(got->warn_after, hours(12));
}

TEST(ParseDomainPolicy, ReadsOneSetting) {
  const auto got = parse_domain_policy(".dialup.example warn_after=0");
  ASSERT_TRUE(got.ok()) << error_of(got);
  EXPECT_FALSE(got->expire_after.has_value());
  EXPECT_EQ(got->warn_after, Seconds{0});
}

TEST(ParseDomainPolicy, RejectsEachKindOfMistake) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty"},
      {"customer.example", "sets nothing"},
      {"customer.example expire_after", "is not key=duration"},
      {"customer.example expire=3h", "unknown setting \"expire\""},
      {"customer.example expire_after=0", "expire_after: must be greater than 0"},
      {"customer.example warn_after=-1h", "warn_after: negative"},
      {"customer.example warn_after=1h warn_after=2h", "warn_after given twice"},
      {"bob@customer.example expire_after=1h", "is an address"},
  };
  for (const auto& [text, want] : cases) {
    const auto got = error_of(parse_domain_policy(text));
    EXPECT_NE(got.find(want), std::string::npos)
        << "for \"" << text << "\": got " << got << ", want " << want;
  }
}

TEST(FormatDomainPolicy, WritesWhatParseReads) {
  const auto policy = parse_domain_policy("customer.example expire_after=72h warn_after=12h");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(format_domain_policy(*policy), "customer.example expire_after=3d warn_after=12h");
}

TEST(ParseByteSize, ReadsBytesAndSuffixes) {
  EXPECT_EQ(*parse_byte_size("50000"), 50000);
  EXPECT_EQ(*parse_byte_size("64k"), 64 * 1024);
  EXPECT_EQ(*parse_byte_size("64K"), 64 * 1024);
  EXPECT_EQ(*parse_byte_size("2M"), 2 * 1024 * 1024);
  EXPECT_EQ(*parse_byte_size("0"), 0);
}

TEST(ParseByteSize, RejectsBadSizes) {
  EXPECT_NE(error_of(parse_byte_size("")).find("empty"), std::string::npos);
  EXPECT_NE(error_of(parse_byte_size("-1")).find("negative"), std::string::npos);
  EXPECT_NE(error_of(parse_byte_size("5G")).find("unknown size suffix"), std::string::npos);
  EXPECT_NE(error_of(parse_byte_size("k")).find("not a size"), std::string::npos);
  EXPECT_NE(error_of(parse_byte_size("9223372036854775807M")).find("too large"), std::string::npos);
}

TEST(ParseMilterSocket, AcceptsLibmilterForms) {
  for (const char* text : {"unix:/run/x.sock", "local:/run/x.sock", "inet:8891@localhost",
                           "inet6:8891@[::1]", "/run/x.sock"}) {
    EXPECT_TRUE(parse_milter_socket(text).ok()) << text;
  }
}

TEST(ParseMilterSocket, RejectsOtherForms) {
  for (const char* text : {"", "unix:relative", "tcp:8891", "inet:@host", "milter.sock"}) {
    EXPECT_FALSE(parse_milter_socket(text).ok()) << text;
  }
}

TEST(ParseLogLevel, AcceptsKnownLevelsInAnyCase) {
  EXPECT_EQ(*parse_log_level("DEBUG"), "debug");
  EXPECT_NE(error_of(parse_log_level("verbose")).find("unknown log level"), std::string::npos);
}

TEST(ParseMtaKind, ReadsAndWritesBothMtas) {
  EXPECT_EQ(*parse_mta_kind("Sendmail"), MtaKind::sendmail);
  EXPECT_EQ(*parse_mta_kind("postfix"), MtaKind::postfix);
  EXPECT_EQ(to_string(MtaKind::sendmail), "sendmail");
  EXPECT_EQ(to_string(MtaKind::postfix), "postfix");
  EXPECT_NE(error_of(parse_mta_kind("exim")).find("unknown MTA"), std::string::npos);
}

TEST(ParseOnError, ReadsAndWritesBothActions) {
  EXPECT_EQ(*parse_on_error("TEMPFAIL"), OnError::tempfail);
  EXPECT_EQ(*parse_on_error("accept"), OnError::accept);
  EXPECT_EQ(to_string(OnError::tempfail), "tempfail");
  EXPECT_EQ(to_string(OnError::accept), "accept");
  EXPECT_NE(error_of(parse_on_error("reject")).find("unknown action"), std::string::npos);
}

TEST(ParseRequiredText, TrimsAndRejectsEmpty) {
  EXPECT_EQ(*parse_required_text(" /x "), "/x");
  EXPECT_EQ(error_of(parse_required_text(" ")), "must not be empty");
}

}  // namespace
}  // namespace etrn
