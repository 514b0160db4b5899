// config_test.cpp - tests of reading the configuration file and overrides.
#include "common/config/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/unit/support/unprivileged.hpp"

namespace etrn {
namespace {

using std::chrono::hours;

// The example of interface.md, verbatim.
constexpr const char* kInterfaceExample = R"(database = /var/lib/etrn-sweeper/etrn.db
etrn_domains = customer.example, .dialup.example   # .name: its subdomains
etrn_transports = etrn-only, dsmtp                 # {rcpt_mailer} values
expire_after = 48h              # normal priority
expire_after_urgent = 24h
expire_after_non_urgent = 72h
warn_after = 4h                 # 0: no delay warnings
domain_policy = customer.example expire_after=72h warn_after=12h  # repeatable

[milter]
socket = unix:/run/etrn-sweeper/milter.sock
on_error = accept               # or tempfail
user = etrn-sweeper

[sweeper]
mta = postfix                   # or sendmail
postfix_config_directory = /etc/postfix
sendmail_queue_directory = /var/spool/mqueue
reporting_mta = mx.provider.example   # a host name; default: the MTA's own (Postfix myhostname, Sendmail $j)
)";

std::string all_errors(const ConfigParse& p) {
  std::string out;
  for (const auto& e : p.errors) out += e.to_string() + "\n";
  return out;
}

// Parses `text` and expects exactly one error, at `line`, for `key`,
// whose message contains `message_part`.
void expect_one_error(const std::string& text, int line, const std::string& key,
                      const std::string& message_part) {
  const auto p = parse_config(text, "t.conf");
  ASSERT_EQ(p.errors.size(), 1U) << "for:\n" << text << "got errors:\n" << all_errors(p);
  const auto& e = p.errors.front();
  EXPECT_EQ(e.file, "t.conf");
  EXPECT_EQ(e.line, line) << e.to_string();
  EXPECT_EQ(e.key, key) << e.to_string();
  EXPECT_NE(e.message.find(message_part), std::string::npos)
      << "got \"" << e.message << "\", want it to contain \"" << message_part << "\"";
}

TEST(ParseConfig, ReadsTheInterfaceExample) {
  const auto p = parse_config(kInterfaceExample, "example.conf");
  ASSERT_TRUE(p.ok()) << all_errors(p);
  const auto& c = p.config;
  EXPECT_EQ(c.database, "/var/lib/etrn-sweeper/etrn.db");
  EXPECT_EQ(c.etrn_domains, (std::vector<std::string>{"customer.example", ".dialup.example"}));
  EXPECT_EQ(c.etrn_transports, (std::vector<std::string>{"etrn-only", "dsmtp"}));
  EXPECT_EQ(c.expire_after, hours(48));
  EXPECT_EQ(c.expire_after_urgent, hours(24));
  EXPECT_EQ(c.expire_after_non_urgent, hours(72));
  EXPECT_EQ(c.warn_after, hours(4));
  ASSERT_EQ(c.domain_policies.size(), 1U);
  EXPECT_EQ(c.domain_policies[0].pattern, "customer.example");
  EXPECT_EQ(c.domain_policies[0].expire_after, hours(72));
  EXPECT_EQ(c.domain_policies[0].warn_after, hours(12));
  EXPECT_EQ(c.milter_socket, "unix:/run/etrn-sweeper/milter.sock");
  EXPECT_EQ(c.on_error, OnError::accept);
  EXPECT_EQ(c.milter_user, "etrn-sweeper");
  EXPECT_EQ(c.mta, MtaKind::postfix);
  EXPECT_EQ(c.postfix_config_directory, "/etc/postfix");
  EXPECT_EQ(c.sendmail_queue_directory, "/var/spool/mqueue");
  EXPECT_EQ(c.reporting_mta, "mx.provider.example");
  EXPECT_EQ(c.source_path, "example.conf");
}

TEST(ParseConfig, ReadsTheRemainingKeys) {
  const auto p = parse_config(
      "log_level = DEBUG\n[milter]\non_error = tempfail\nrecord_timeout = 10s\n"
      "[sweeper]\nmta = sendmail\npostfix_command_directory = /opt/pf/sbin\n"
      "sendmail_program = /opt/sm/sendmail\nsendmail_config_file = "
      "/etc/mail/submit.cf\nbounce_size_limit = 64k\n",
      "t.conf");
  ASSERT_TRUE(p.ok()) << all_errors(p);
  EXPECT_EQ(p.config.log_level, "debug");
  EXPECT_EQ(p.config.on_error, OnError::tempfail);
  EXPECT_EQ(p.config.milter_record_timeout, Seconds{10});
  EXPECT_EQ(p.config.mta, MtaKind::sendmail);
  EXPECT_EQ(p.config.postfix_command_directory, "/opt/pf/sbin");
  EXPECT_EQ(p.config.sendmail_program, "/opt/sm/sendmail");
  EXPECT_EQ(p.config.sendmail_config_file, "/etc/mail/submit.cf");
  EXPECT_EQ(p.config.bounce_size_limit, 64 * 1024);
}

TEST(ParseConfig, AnEmptyFileGivesTheDefaults) {
  const auto p = parse_config("", "t.conf");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.config.database, Config{}.database);
  EXPECT_EQ(p.config.expire_after, Config{}.expire_after);
}

TEST(ParseConfig, ToleratesCrLfBlankLinesIndentationAndCommentLines) {
  const auto p = parse_config(
      "# comment\r\n\r\n   \t\n  database=/x.db  # trailing\r\n  [ milter ]\r\nuser=u\r\n",
      "t.conf");
  ASSERT_TRUE(p.ok()) << all_errors(p);
  EXPECT_EQ(p.config.database, "/x.db");
  EXPECT_EQ(p.config.milter_user, "u");
}

TEST(ParseConfig, AllowsASectionToBeOpenedTwice) {
  const auto p = parse_config(
      "[milter]\nuser = a\n[sweeper]\nmta = sendmail\n[milter]\non_error = tempfail\n", "t.conf");
  ASSERT_TRUE(p.ok()) << all_errors(p);
  EXPECT_EQ(p.config.on_error, OnError::tempfail);
}

TEST(ParseConfig, DomainPolicyRepeatsInOrder) {
  const auto p = parse_config(
      "domain_policy = a.example expire_after=1h\ndomain_policy = .b.example warn_after=0\n",
      "t.conf");
  ASSERT_TRUE(p.ok()) << all_errors(p);
  ASSERT_EQ(p.config.domain_policies.size(), 2U);
  EXPECT_EQ(p.config.domain_policies[0].pattern, "a.example");
  EXPECT_EQ(p.config.domain_policies[1].pattern, ".b.example");
}

TEST(ParseConfig, AnEmptyEtrnDomainsListIsAllowed) {
  const auto p = parse_config("etrn_domains =\n", "t.conf");
  ASSERT_TRUE(p.ok()) << all_errors(p);
  EXPECT_TRUE(p.config.etrn_domains.empty());
}

TEST(ParseConfigErrors, ALineWithoutEqualsSign) {
  expect_one_error("\ndatabase /x.db\n", 2, "database /x.db", "expected \"key = value\"");
}

TEST(ParseConfigErrors, AMissingKeyName) {
  expect_one_error("= /x.db\n", 1, "", "missing key name");
}

TEST(ParseConfigErrors, AnUnclosedSectionHeader) {
  expect_one_error("\n\n[milter\n", 3, "[milter", "must end with ']'");
}

TEST(ParseConfigErrors, AnUnknownSectionIsReportedOnceAndItsKeysSkipped) {
  expect_one_error("[milter]\n[smtpd]\nfoo = 1\nbar = 2\n", 2, "[smtpd]", "unknown section");
}

TEST(ParseConfigErrors, KeysAfterAnUnknownSectionAreCheckedAgainInAKnownOne) {
  const auto p = parse_config("[smtpd]\nfoo = 1\n[milter]\nbogus = 2\n", "t.conf");
  ASSERT_EQ(p.errors.size(), 2U) << all_errors(p);
  EXPECT_EQ(p.errors[1].line, 4);
  EXPECT_EQ(p.errors[1].key, "bogus");
}

TEST(ParseConfigErrors, AnUnknownTopLevelKey) {
  expect_one_error("database = /x\nexpire = 4h\n", 2, "expire", "unknown key in the top level");
}

TEST(ParseConfigErrors, AnUnknownKeyInASection) {
  expect_one_error("[milter]\nsocket = unix:/x\nport = 25\n", 3, "port", "unknown key in [milter]");
  expect_one_error("[sweeper]\nqueue = /x\n", 2, "queue", "unknown key in [sweeper]");
}

TEST(ParseConfigErrors, ASectionKeyAtTheTopLevel) {
  expect_one_error("socket = unix:/x\n", 1, "socket",
                   "not valid in the top level; it belongs in [milter]");
}

TEST(ParseConfigErrors, ATopLevelKeyInASection) {
  expect_one_error("[sweeper]\ndatabase = /x\n", 2, "database",
                   "not valid in [sweeper]; it belongs in the top level");
}

TEST(ParseConfigErrors, AKeyOfTheOtherSection) {
  expect_one_error("[milter]\nmta = postfix\n", 2, "mta",
                   "not valid in [milter]; it belongs in [sweeper]");
}

TEST(ParseConfigErrors, AKeyGivenTwice) {
  expect_one_error("warn_after = 1h\n\nwarn_after = 2h\n", 3, "warn_after",
                   "given twice, first at line 1");
  const auto p = parse_config("warn_after = 1h\nwarn_after = 2h\n", "t.conf");
  EXPECT_EQ(p.config.warn_after, hours(1)) << "the first value stays";
}

TEST(ParseConfigErrors, ASectionKeyGivenTwiceAcrossReopenedSections) {
  expect_one_error("[milter]\nuser = a\n[sweeper]\n[milter]\nuser = b\n", 5, "user",
                   "given twice, first at line 2");
}

TEST(ParseConfigErrors, TheSameNameInTwoSectionsIsNotARepeat) {
  // No key name is shared today; this guards the per-section bookkeeping.
  const auto p = parse_config("[milter]\nuser = a\n[sweeper]\nmta = postfix\n", "t.conf");
  EXPECT_TRUE(p.ok()) << all_errors(p);
}

TEST(ParseConfigErrors, BadDurations) {
  expect_one_error("expire_after = 0\n", 1, "expire_after", "must be greater than 0");
  expect_one_error("expire_after_urgent = -1h\n", 1, "expire_after_urgent", "negative");
  expect_one_error("expire_after_non_urgent = 3y\n", 1, "expire_after_non_urgent",
                   "unknown time unit");
  expect_one_error("warn_after =\n", 1, "warn_after", "empty duration");
  expect_one_error("warn_after = 99999999999999999999\n", 1, "warn_after", "too large");
  expect_one_error("\n\nexpire_after = 9223372036854775807\n", 3, "expire_after", "too large");
  expect_one_error("domain_policy = a.example expire_after=3651d\n", 1, "domain_policy",
                   "too large");
  expect_one_error("[milter]\nrecord_timeout = 0\n", 2, "record_timeout", "must be greater than 0");
}

TEST(ParseConfigErrors, BadDomainLists) {
  expect_one_error("etrn_domains = ok.example, bob@x.example\n", 1, "etrn_domains",
                   "is an address");
  expect_one_error("etrn_domains = a..b\n", 1, "etrn_domains", "empty label");
  expect_one_error("etrn_domains = .\n", 1, "etrn_domains", "not a domain");
  expect_one_error("etrn_transports = smtp:[relay]\n", 1, "etrn_transports",
                   "not a transport name");
}

TEST(ParseConfigErrors, BadDomainPolicy) {
  expect_one_error("domain_policy = a.example\n", 1, "domain_policy", "sets nothing");
  expect_one_error("\ndomain_policy = a.example expire=1h\n", 2, "domain_policy",
                   "unknown setting");
}

TEST(ParseConfigErrors, BadEnumsAndTexts) {
  expect_one_error("log_level = loud\n", 1, "log_level", "unknown log level");
  expect_one_error("database =\n", 1, "database", "must not be empty");
  expect_one_error("[milter]\non_error = reject\n", 2, "on_error", "unknown action");
  expect_one_error("[milter]\nsocket = tcp:25\n", 2, "socket", "not unix:/PATH");
  expect_one_error("[milter]\nuser =\n", 2, "user", "must not be empty");
  expect_one_error("[milter]\nsocket_mode = 0777\n", 2, "socket_mode", "not 0777");
  expect_one_error("[milter]\nsocket_mode = 0440\n", 2, "socket_mode",
                   "read and write for the owner");
  expect_one_error("[milter]\n\nsocket_mode = rw\n", 3, "socket_mode", "octal");
  expect_one_error("[sweeper]\nmta = exim\n", 2, "mta", "unknown MTA");
  expect_one_error("[sweeper]\nbounce_size_limit = 5G\n", 2, "bounce_size_limit",
                   "unknown size suffix");
  expect_one_error("[sweeper]\npostfix_config_directory =\n", 2, "postfix_config_directory",
                   "must not be empty");
}

TEST(ParseConfig, ReportingMtaIsAHostNameOrEmptyForTheMtasOwn) {
  for (const char* good : {"mx.provider.example", "MX-1.Example", "localhost"}) {
    const auto p = parse_config(std::string("[sweeper]\nreporting_mta = ") + good + "\n", "t.conf");
    EXPECT_TRUE(p.ok()) << good << ": " << all_errors(p);
    EXPECT_EQ(p.config.reporting_mta, good);
  }
  const auto empty = parse_config("[sweeper]\nreporting_mta =\n", "t.conf");
  ASSERT_TRUE(empty.ok()) << all_errors(empty);
  EXPECT_EQ(empty.config.reporting_mta, "") << "empty: ask the MTA";
}

TEST(ParseConfigErrors, AReportingMtaThatIsNoHostNameStopsStartUpWithFileAndLine) {
  expect_one_error("[sweeper]\nreporting_mta = mx.example:25\n", 2, "reporting_mta",
                   "\"mx.example:25\" is not a host name: ':' is not allowed (a port, brackets?)");
  for (const char* bad : {"[192.0.2.1]", "mx..example", "-mx.example", "mx.example.", "mx example",
                          "mx_1.example", "a@b.example"}) {
    const auto p = parse_config(std::string("[sweeper]\nreporting_mta = ") + bad + "\n", "t.conf");
    ASSERT_EQ(p.errors.size(), 1u) << bad;
    EXPECT_EQ(p.errors[0].to_string().rfind("t.conf:2: reporting_mta: ", 0), 0u)
        << p.errors[0].to_string();
  }
}

TEST(ParseConfig, ThePostmasterIsOnePlainAddress) {
  EXPECT_EQ(parse_config("", "t.conf").config.postmaster, "postmaster");
  const auto p = parse_config("[sweeper]\npostmaster = hostmaster@provider.example\n", "t.conf");
  ASSERT_TRUE(p.ok()) << all_errors(p);
  EXPECT_EQ(p.config.postmaster, "hostmaster@provider.example");
  for (const char* bad : {"a@b, c@d", "<a@b>", "-oi", "a b@c"}) {
    const auto q = parse_config(std::string("[sweeper]\npostmaster = ") + bad + "\n", "t.conf");
    EXPECT_EQ(q.errors.size(), 1u) << bad;
  }
}

TEST(ParseConfigErrors, AllErrorsAreCollectedInOrder) {
  const auto p = parse_config(
      "bogus = 1\nexpire_after = x\n[milter]\non_error = no\n[nope]\n[sweeper]\nmta = qmail\n",
      "t.conf");
  ASSERT_EQ(p.errors.size(), 5U) << all_errors(p);
  const int want_lines[] = {1, 2, 4, 5, 7};
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_EQ(p.errors[i].line, want_lines[i]) << p.errors[i].to_string();
  EXPECT_FALSE(p.ok());
}

TEST(ConfigErrorToString, NamesFileLineKeyAndMessage) {
  const ConfigError e{"/etc/x.conf", 7, "warn_after", "negative duration \"-1h\""};
  EXPECT_EQ(e.to_string(), "/etc/x.conf:7: warn_after: negative duration \"-1h\"");
}

TEST(ConfigErrorToString, LeavesOutLineZeroAndAnEmptyKey) {
  EXPECT_EQ(
      (ConfigError{"/etc/x.conf", 0, "", "cannot open: No such file or directory"}.to_string()),
      "/etc/x.conf: cannot open: No such file or directory");
  EXPECT_EQ((ConfigError{"command line", 0, "database", "must not be empty"}.to_string()),
            "command line: database: must not be empty");
  EXPECT_EQ((ConfigError{"t.conf", 3, "", "missing key name before '='"}.to_string()),
            "t.conf:3: missing key name before '='");
}

// A fresh temporary directory for one test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "etrn-config-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(LoadConfigFile, ReadsAFile) {
  TempDir dir;
  const auto path = dir.file("etrn.conf");
  std::ofstream(path) << kInterfaceExample;
  const auto p = load_config_file(path);
  ASSERT_TRUE(p.ok()) << all_errors(p);
  EXPECT_EQ(p.config.source_path, path);
  EXPECT_EQ(p.config.reporting_mta, "mx.provider.example");
}

TEST(LoadConfigFile, ReportsErrorsWithThePath) {
  TempDir dir;
  const auto path = dir.file("etrn.conf");
  std::ofstream(path) << "\n[milter]\nsocket = bad\n";
  const auto p = load_config_file(path);
  ASSERT_EQ(p.errors.size(), 1U) << all_errors(p);
  EXPECT_EQ(p.errors[0].file, path);
  EXPECT_EQ(p.errors[0].line, 3);
  EXPECT_EQ(p.errors[0].key, "socket");
}

TEST(LoadConfigFile, AMissingFileIsOneErrorWithoutLine) {
  TempDir dir;
  const auto path = dir.file("missing.conf");
  const auto p = load_config_file(path);
  ASSERT_EQ(p.errors.size(), 1U);
  EXPECT_EQ(p.errors[0].file, path);
  EXPECT_EQ(p.errors[0].line, 0);
  EXPECT_EQ(p.errors[0].key, "");
  EXPECT_EQ(p.errors[0].message, "cannot open: No such file or directory");
}

TEST(LoadConfigFile, ADirectoryIsAnError) {
  TempDir dir;
  const auto p = load_config_file(dir.path());
  ASSERT_EQ(p.errors.size(), 1U);
  EXPECT_EQ(p.errors[0].line, 0);
  EXPECT_NE(p.errors[0].message.find("Is a directory"), std::string::npos) << p.errors[0].message;
}

TEST(LoadConfigFile, APathThroughAFileIsAnError) {
  TempDir dir;
  const auto file = dir.file("plain");
  std::ofstream(file) << "x";
  const auto p = load_config_file(file + "/etrn.conf");
  ASSERT_EQ(p.errors.size(), 1U);
  EXPECT_EQ(p.errors[0].line, 0);
  EXPECT_EQ(p.errors[0].message, "cannot open: Not a directory");
}

TEST(LoadConfigFile, AnUnreadableFileIsAnError) {
  TempDir dir;
  const auto path = dir.file("secret.conf");
  std::ofstream(path) << "database = /x\n";
  etrn::testing::give_to_unprivileged(dir.path());
  std::filesystem::permissions(path, std::filesystem::perms::none);
  EXPECT_TRUE(etrn::testing::as_unprivileged([&]() -> std::string {
    const auto p = load_config_file(path);
    if (p.errors.size() != 1) return "got " + std::to_string(p.errors.size()) + " errors, want 1";
    if (p.errors[0].message != "cannot open: Permission denied") {
      return "got \"" + p.errors[0].message + "\", want \"cannot open: Permission denied\"";
    }
    return "";
  }));
}

TEST(ApplyConfigOverride, OverridesATopLevelKey) {
  auto p = parse_config("database = /file.db\n", "t.conf");
  apply_config_override(p, "database", "/cli.db");
  ASSERT_TRUE(p.ok()) << all_errors(p);
  EXPECT_EQ(p.config.database, "/cli.db");
}

TEST(ApplyConfigOverride, OverridesASectionKeyWithOrWithoutPrefix) {
  auto p = parse_config("", "t.conf");
  apply_config_override(p, "milter.socket", "inet:8891@localhost");
  apply_config_override(p, "mta", "sendmail");
  ASSERT_TRUE(p.ok()) << all_errors(p);
  EXPECT_EQ(p.config.milter_socket, "inet:8891@localhost");
  EXPECT_EQ(p.config.mta, MtaKind::sendmail);
}

TEST(ApplyConfigOverride, AddsADomainPolicyAfterTheFilesOnes) {
  auto p = parse_config("domain_policy = a.example expire_after=1h\n", "t.conf");
  apply_config_override(p, "domain_policy", "b.example warn_after=1h");
  ASSERT_TRUE(p.ok()) << all_errors(p);
  ASSERT_EQ(p.config.domain_policies.size(), 2U);
  EXPECT_EQ(p.config.domain_policies[1].pattern, "b.example");
}

TEST(ApplyConfigOverride, ReportsABadValueFromTheCommandLine) {
  auto p = parse_config("", "t.conf");
  apply_config_override(p, "sweeper.mta", "exim");
  ASSERT_EQ(p.errors.size(), 1U);
  EXPECT_EQ(p.errors[0].file, "command line");
  EXPECT_EQ(p.errors[0].line, 0);
  EXPECT_EQ(p.errors[0].key, "sweeper.mta");
  EXPECT_EQ(p.errors[0].to_string(),
            "command line: sweeper.mta: unknown MTA \"exim\" (use postfix or sendmail)");
}

TEST(ApplyConfigOverride, ReportsUnknownKeysAndSections) {
  auto p = parse_config("", "t.conf");
  apply_config_override(p, "bogus", "1");
  apply_config_override(p, "milter.bogus", "1");
  apply_config_override(p, "smtpd.socket", "1");
  apply_config_override(p, "milter.database", "/x");
  ASSERT_EQ(p.errors.size(), 4U) << all_errors(p);
  EXPECT_EQ(p.errors[0].to_string(), "command line: bogus: unknown key");
  EXPECT_EQ(p.errors[1].to_string(), "command line: milter.bogus: unknown key in [milter]");
  EXPECT_NE(p.errors[2].message.find("unknown section"), std::string::npos);
  EXPECT_EQ(p.errors[3].key, "milter.database");
  for (const auto& e : p.errors) EXPECT_EQ(e.line, 0);
}

TEST(ApplyConfigOverride, KeepsEarlierFileErrors) {
  auto p = parse_config("bogus = 1\n", "t.conf");
  apply_config_override(p, "database", "/x");
  ASSERT_EQ(p.errors.size(), 1U);
  EXPECT_EQ(p.errors[0].file, "t.conf");
}

}  // namespace
}  // namespace etrn
