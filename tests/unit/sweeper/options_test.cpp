// options_test.cpp - the command line: commands, options on either side
// of the command, options of another command, unknown words.
#include "sweeper/options.hpp"

#include <gtest/gtest.h>

#include "common/config/config.hpp"
#include "common/util/sysexits.hpp"

namespace etrn {
namespace {

ExitCode usage_error(const std::vector<std::string>& args) {
  try {
    parse_options(args);
  } catch (const FatalError& e) {
    return e.code();
  }
  return ExitCode::ok;
}

TEST(Options, SweepIsTheDefaultCommandWithTheDefaultConfig) {
  Options o = parse_options({});
  EXPECT_EQ(o.command, Command::sweep);
  EXPECT_EQ(o.config_path, kDefaultConfigPath);
  EXPECT_FALSE(o.dry_run);
}

TEST(Options, GlobalAndCommandOptionsMayComeInAnyOrder) {
  Options o = parse_options(
      {"--dry-run", "-c", "/tmp/x.conf", "sweep", "--now", "+49h", "--database", "/tmp/d.db"});
  EXPECT_EQ(o.command, Command::sweep);
  EXPECT_TRUE(o.dry_run);
  EXPECT_EQ(o.now.value_or(""), "+49h");
  EXPECT_EQ(o.config_path, "/tmp/x.conf");
  EXPECT_EQ(o.database.value_or(""), "/tmp/d.db");
}

TEST(Options, ReportTakesJsonAndState) {
  Options o = parse_options({"report", "--json", "--state", "expired"});
  EXPECT_EQ(o.command, Command::report);
  EXPECT_EQ(o.report_format, ReportFormat::json);
  EXPECT_EQ(o.state.value_or(""), "expired");
}

TEST(Options, CheckConfigAndShapeAreCommands) {
  EXPECT_EQ(parse_options({"check-config"}).command, Command::check_config);
  EXPECT_EQ(parse_options({"shape"}).command, Command::shape);
}

TEST(Options, MistakesAreUsageErrors) {
  EXPECT_EQ(usage_error({"frobnicate"}), ExitCode::usage);
  EXPECT_EQ(usage_error({"report", "--dry-run"}), ExitCode::usage) << "--dry-run belongs to sweep";
  EXPECT_EQ(usage_error({"sweep", "--json"}), ExitCode::usage) << "--json belongs to report";
  EXPECT_EQ(usage_error({"sweep", "extra"}), ExitCode::usage);
  EXPECT_EQ(usage_error({"--no-such-option"}), ExitCode::usage);
  EXPECT_EQ(usage_error({"--now"}), ExitCode::usage) << "missing value";
}

TEST(Options, UsageNamesEveryCommandAndOption) {
  const std::string text = usage_text();
  for (const char* word : {"sweep", "report", "shape", "history", "check-config", "--dry-run",
                           "--now", "--future-now", "--json", "--state", "--domain", "--since",
                           "--queue-id", "--limit", "--buckets", "--first-bucket"}) {
    EXPECT_NE(text.find(word), std::string::npos) << "usage lacks " << word;
  }
}

TEST(Options, PruneTakesDryRunBeforeAndAddressAndOnlyPruneTakesThem) {
  Options o = parse_options({"prune", "--dry-run", "--before", "-30d"});
  EXPECT_EQ(o.command, Command::prune);
  EXPECT_TRUE(o.dry_run);
  EXPECT_EQ(o.before.value_or(""), "-30d");
  EXPECT_EQ(parse_options({"prune", "--address", "bob@x.example"}).address.value_or(""),
            "bob@x.example");
  EXPECT_EQ(usage_error({"sweep", "--before", "-30d"}), ExitCode::usage);
  EXPECT_EQ(usage_error({"report", "--address", "bob@x.example"}), ExitCode::usage);
  EXPECT_NE(usage_text().find("--address"), std::string::npos);
  EXPECT_EQ(usage_error({"prune", "--before", "-30d", "--address", "bob@x.example"}),
            ExitCode::usage);
}

TEST(Options, CheckTakesItsThresholdsAndNoMilter) {
  Options o =
      parse_options({"check", "--age-warning", "30m", "--outbox-critical", "9", "--no-milter"});
  EXPECT_EQ(o.command, Command::check);
  ASSERT_EQ(o.check_thresholds.size(), 2U);
  EXPECT_EQ(o.check_thresholds[0], (std::pair<std::string, std::string>{"age-warning", "30m"}));
  EXPECT_FALSE(o.check_milter);
  EXPECT_EQ(usage_error({"sweep", "--no-milter"}), ExitCode::usage);
}

TEST(Options, ShowConfigTakesN) {
  EXPECT_TRUE(parse_options({"show-config", "-n"}).dry_run);
  EXPECT_EQ(parse_options({"show-config"}).command, Command::show_config);
  EXPECT_EQ(usage_error({"report", "-n"}), ExitCode::usage);
}

std::string usage_message(const std::vector<std::string>& args) {
  try {
    parse_options(args);
  } catch (const FatalError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Options, TheAuditCommandsTakeAnInstanceAndNothingElseDoes) {
  for (const char* command : {"report", "shape", "check"})
    EXPECT_EQ(parse_options({command, "--instance", "all"}).instance.value_or(""), "all");
  EXPECT_EQ(parse_options({"history", "--instance", "mx2.example", "4AbC1"}).instance.value_or(""),
            "mx2.example");
  EXPECT_FALSE(parse_options({"report"}).instance.has_value());
  EXPECT_EQ(usage_error({"report", "--instance", ""}), ExitCode::usage);
  EXPECT_EQ(usage_message({"sweep", "--instance", "mx2.example"}),
            "--instance applies only to report, shape, history and check, not to sweep");
}

TEST(Options, AnOptionOfAnotherCommandSaysWhoseItIs) {
  EXPECT_EQ(usage_message({"history", "4AbC1", "--now", "+1h"}),
            "--now applies only to sweep, not to history");
  EXPECT_EQ(usage_message({"sweep", "--json"}),
            "--json applies only to report, shape and history, not to sweep");
  EXPECT_EQ(usage_message({"shape", "--state", "queued"}),
            "--state applies only to report, not to shape");
  EXPECT_EQ(usage_error({"--limit", "3"}), ExitCode::usage) << "sweep is the default command";
}

TEST(Options, AbbreviationsAreNotGuessed) {
  EXPECT_EQ(usage_error({"sweep", "--dry"}), ExitCode::usage);
  EXPECT_EQ(usage_error({"report", "--st", "queued"}), ExitCode::usage);
}

TEST(Options, AnUnknownMtaIsAUsageError) {
  EXPECT_EQ(usage_message({"--mta", "exim"}), "--mta exim: want postfix or sendmail");
  EXPECT_EQ(parse_options({"--mta", "sendmail"}).mta.value_or(""), "sendmail");
}

TEST(Options, FutureNowNeedsNow) {
  EXPECT_EQ(usage_message({"sweep", "--future-now"}), "--future-now needs --now TIME");
  Options o = parse_options({"sweep", "--now", "+49h", "--future-now"});
  EXPECT_TRUE(o.future_now);
}

TEST(Options, ReportTakesItsFilters) {
  Options o = parse_options({"report", "--domain", "customer.example", "--since", "-2d",
                             "--queue-id", "4AbC1", "--limit", "10"});
  EXPECT_EQ(o.domain.value_or(""), "customer.example");
  EXPECT_EQ(o.since.value_or(""), "-2d");
  EXPECT_EQ(o.queue_id.value_or(""), "4AbC1");
  EXPECT_EQ(o.limit.value_or(0), 10);
}

TEST(Options, NumbersOutOfRangeOrNotNumbersAreUsageErrors) {
  EXPECT_EQ(usage_message({"report", "--limit", "0"}),
            "--limit 0: want a whole number from 1 to "
            "9223372036854775807");
  EXPECT_EQ(usage_error({"report", "--limit", "10x"}), ExitCode::usage);
  EXPECT_EQ(usage_error({"shape", "-b", "1"}), ExitCode::usage);
  EXPECT_EQ(usage_error({"shape", "-t", "-5"}), ExitCode::usage);
  Options o = parse_options({"shape", "--json", "-b", "5", "-t", "10"});
  EXPECT_EQ(o.buckets.value_or(0), 5);
  EXPECT_EQ(o.first_bucket_minutes.value_or(0), 10);
  EXPECT_EQ(o.report_format, ReportFormat::json);
}

TEST(Options, HistoryTakesExactlyOneArgument) {
  Options o = parse_options({"history", "<1@sender.example>"});
  EXPECT_EQ(o.command, Command::history);
  EXPECT_EQ(o.lookup, "<1@sender.example>");
  EXPECT_EQ(usage_message({"history"}), "history needs a queue ID, an address or a Message-ID");
  EXPECT_EQ(usage_error({"history", "4AbC1", "4AbC2"}), ExitCode::usage);
  EXPECT_TRUE(parse_options({"history", "--help"}).help) << "help needs no argument";
}

TEST(Options, HelpAfterACommandIsThatCommandsHelp) {
  Options o = parse_options({"sweep", "--help"});
  EXPECT_TRUE(o.help);
  EXPECT_TRUE(o.command_given);
  EXPECT_FALSE(parse_options({"--help"}).command_given);
  const std::string sweep = command_help(Command::sweep);
  EXPECT_NE(sweep.find("--future-now"), std::string::npos) << sweep;
  EXPECT_EQ(sweep.find("--json"), std::string::npos) << "not sweep's: " << sweep;
  const std::string shape = command_help(Command::shape);
  EXPECT_NE(shape.find("--buckets"), std::string::npos) << shape;
  EXPECT_EQ(shape.find("--dry-run"), std::string::npos) << shape;
  EXPECT_NE(command_help(Command::report).find("--since"), std::string::npos);
}

}  // namespace
}  // namespace etrn
