// log_test.cpp - setup_logging: the default logger, its level and sinks,
// and the error for an unknown level name.
#include "common/log/log.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

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

}  // namespace
}  // namespace etrn
