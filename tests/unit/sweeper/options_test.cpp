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

TEST(Options, UsageNamesEveryCommand) {
  const std::string text = usage_text();
  for (const char* word :
       {"sweep", "report", "shape", "check-config", "--dry-run", "--now", "--json", "--state"}) {
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
}

}  // namespace
}  // namespace etrn
