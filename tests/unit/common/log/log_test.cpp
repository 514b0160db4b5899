// log_test.cpp - setup_logging: the default logger, its level and sinks,
// and the error for an unknown level name.
#include "common/log/log.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace etrn {
namespace {

TEST(SetupLoggingTest, StderrLoggingWritesTheMessageAndLevel) {
  setup_logging("etrn-test", LogTarget::stderr_only, "info");
  ::testing::internal::CaptureStderr();
  spdlog::info("hello {}", "world");
  spdlog::debug("not shown");
  std::string got = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(got.find("hello world"), std::string::npos) << "got " << got;
  EXPECT_NE(got.find("info"), std::string::npos) << "got " << got;
  EXPECT_NE(got.find("etrn-test"), std::string::npos) << "got " << got;
  EXPECT_EQ(got.find("not shown"), std::string::npos) << "debug logged at level info: " << got;
}

TEST(SetupLoggingTest, TheDefaultLoggerIsNamedAfterTheProgram) {
  setup_logging("etrn-sweeper", LogTarget::stderr_only, "debug");
  EXPECT_EQ(spdlog::default_logger()->name(), "etrn-sweeper");
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::debug);
}

TEST(SetupLoggingTest, TheTargetChoosesTheSinks) {
  setup_logging("etrn-test", LogTarget::syslog_only, "warning");
  EXPECT_EQ(spdlog::default_logger()->sinks().size(), 1u);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::warn);
  setup_logging("etrn-test", LogTarget::stderr_and_syslog, "error");
  EXPECT_EQ(spdlog::default_logger()->sinks().size(), 2u);
  setup_logging("etrn-test", LogTarget::stderr_only, "info");
}

TEST(SetupLoggingTest, EachSinkKeepsItsOwnLevel) {
  setup_logging("etrn-test", LogSinks{"warning", "info"});
  ASSERT_EQ(spdlog::default_logger()->sinks().size(), 2u);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::info)
      << "the logger must pass what the most talkative sink wants";
  ::testing::internal::CaptureStderr();
  spdlog::info("for syslog only");
  spdlog::warn("for both");
  std::string got = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(got.find("for syslog only"), std::string::npos) << "stderr got an info line: " << got;
  EXPECT_NE(got.find("for both"), std::string::npos) << "got " << got;
  setup_logging("etrn-test", LogTarget::stderr_only, "info");
}

TEST(SetupLoggingTest, AnUnknownLevelIsRejected) {
  EXPECT_THROW(setup_logging("etrn-test", LogTarget::stderr_only, "loud"), std::invalid_argument);
  EXPECT_NO_THROW(setup_logging("etrn-test", LogTarget::stderr_only, "off"));
  setup_logging("etrn-test", LogTarget::stderr_only, "info");
}

// What systemd does: JOURNAL_STREAM names stderr (here gtest's capture file).
void as_if_stderr_were_the_journal() {
  struct stat st {};
  ASSERT_EQ(::fstat(STDERR_FILENO, &st), 0);
  const std::string stream = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  ::setenv("JOURNAL_STREAM", stream.c_str(), 1);
}

TEST(NamesThisStreamTest, MatchesOnlyTheDeviceAndInodeSystemdGave) {
  EXPECT_TRUE(names_this_stream("8:1234", 8, 1234));
  EXPECT_FALSE(names_this_stream("8:1234", 8, 1235)) << "stderr redirected after systemd set it";
  EXPECT_FALSE(names_this_stream("9:1234", 8, 1234));
  EXPECT_FALSE(names_this_stream(nullptr, 8, 1234)) << "not under systemd";
  EXPECT_FALSE(names_this_stream("", 8, 1234));
  EXPECT_FALSE(names_this_stream("8", 8, 1234));
  EXPECT_FALSE(names_this_stream("8:1234x", 8, 1234));
  EXPECT_FALSE(names_this_stream("x8:1234", 8, 1234));
}

// Under systemd (JOURNAL_STREAM names stderr) a line is "<priority>message":
// journald takes the priority from it, and adds the only timestamp.
TEST(SetupLoggingTest, StderrThatIsTheJournalGetsThePriorityAndNoTimestamp) {
  ::testing::internal::CaptureStderr();
  as_if_stderr_were_the_journal();
  setup_logging("etrn-milter", LogTarget::stderr_only, "info");
  spdlog::info("4Xyz1abc: recorded, from=<a@b.example>");
  spdlog::warn("4Xyz1abc: to=<c@d.example>, status=attention");
  spdlog::error("cannot record");
  spdlog::debug("not shown");
  const std::string got = ::testing::internal::GetCapturedStderr();
  ::unsetenv("JOURNAL_STREAM");
  setup_logging("etrn-test", LogTarget::stderr_only, "info");
  const std::string want =
      "<6>4Xyz1abc: recorded, from=<a@b.example>\n"
      "<4>4Xyz1abc: to=<c@d.example>, status=attention\n"
      "<3>cannot record\n";
  EXPECT_EQ(got, want);
}

TEST(SetupLoggingTest, StderrThatIsTheJournalIsNotASecondCopyOfSyslog) {
  ::testing::internal::CaptureStderr();
  as_if_stderr_were_the_journal();
  setup_logging("etrn-test", LogTarget::stderr_and_syslog, "error");
  const std::size_t got_sinks = spdlog::default_logger()->sinks().size();
  (void)::testing::internal::GetCapturedStderr();
  ::unsetenv("JOURNAL_STREAM");
  setup_logging("etrn-test", LogTarget::stderr_only, "info");
  EXPECT_EQ(got_sinks, 1u) << "syslog only";
}

TEST(SetupLoggingTest, StderrElsewhereKeepsItsTimestamp) {
  ::setenv("JOURNAL_STREAM", "0:0", 1);  // inherited, but stderr is not the journal
  setup_logging("etrn-test", LogTarget::stderr_only, "info");
  ::testing::internal::CaptureStderr();
  spdlog::info("hello");
  const std::string got = ::testing::internal::GetCapturedStderr();
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_EQ(got.find("<6>"), std::string::npos) << "got " << got;
  EXPECT_NE(got.find("etrn-test["), std::string::npos) << "got " << got;
  EXPECT_NE(got.find(": info: hello"), std::string::npos) << "got " << got;
  EXPECT_TRUE(got.size() > 4 && got.compare(0, 2, "20") == 0) << "a timestamp first, got " << got;
}

}  // namespace
}  // namespace etrn
