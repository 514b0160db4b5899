// dsn_judge_test.cpp - the golden DSNs as independent bounce processors
// read them: tests/tools/judge_dsn.py runs Mailman's flufl.bounce, Sisimai
// and Python's email package over each file. Python 3 with those packages
// is a hard dependency of the test suite (scripts/install-deps).
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/unit/common/dsn/dsn_test_support.hpp"

extern char** environ;

namespace etrn {
namespace {

using namespace dsn_test;
using nlohmann::json;

const char* const kPython = "/usr/bin/python3";

std::string judge_path() {
  return std::string(ETRN_TEST_DATA_DIR) + "/../tools/judge_dsn.py";
}

// Runs the judge on `message_path` (argv, no shell); its stdout goes to a
// temporary file that is read back as JSON.
json run_judge(const std::string& message_path) {
  char output_path[] = "/tmp/etrn_judge_out_XXXXXX";
  const int output_fd = mkstemp(output_path);
  EXPECT_GE(output_fd, 0) << "mkstemp failed";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, output_fd, STDOUT_FILENO);
  const std::string script = judge_path();
  std::vector<char*> argv = {const_cast<char*>(kPython), const_cast<char*>(script.c_str()),
                             const_cast<char*>(message_path.c_str()), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, kPython, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(output_fd);
  int status = 0;
  if (spawned == 0) waitpid(pid, &status, 0);
  const std::string output = read_file(output_path);
  unlink(output_path);
  EXPECT_EQ(spawned, 0) << "cannot run " << kPython;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "judge_dsn.py failed on " << message_path << ", output: " << output;
  return json::parse(output, nullptr, false);
}

json judge_golden(const std::string& name) {
  const std::string path = golden_path(name);
  EXPECT_FALSE(read_file(path).empty()) << "golden file " << path << " is missing";
  const json verdict = run_judge(path);
  EXPECT_FALSE(verdict.is_discarded()) << "judge output is not JSON for " << name;
  return verdict;
}

// Writes a freshly built DSN to a temporary file and judges it.
json judge_built(const DsnInput& input) {
  const Result<std::string> dsn = build_dsn(input);
  EXPECT_TRUE(dsn.ok());
  char path[] = "/tmp/etrn_dsn_XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  const std::string text = dsn.ok() ? *dsn : "";
  EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  json verdict = run_judge(path);
  unlink(path);
  return verdict;
}

std::set<std::string> as_set(const json& addresses) {
  std::set<std::string> out;
  for (const auto& address : addresses) out.insert(address.get<std::string>());
  return out;
}

void expect_no_defects(const json& verdict, const std::string& what) {
  EXPECT_TRUE(verdict.at("defects").empty())
      << what << ": Python email defects " << verdict.at("defects");
}

TEST(JudgeDsn, FailedDsnIsPermanentForBothRecipientsAndExpiredForSisimai) {
  const json verdict = judge_golden("failed.eml");
  // flufl.bounce prefers Original-Recipient (bob's ORCPT) over Final-Recipient.
  const std::set<std::string> want = {"Bob@Customer.example", "carol@customer.example"};
  EXPECT_EQ(as_set(verdict.at("permanent")), want) << verdict.dump();
  EXPECT_TRUE(verdict.at("temporary").empty()) << verdict.dump();
  expect_no_defects(verdict, "failed.eml");
  ASSERT_EQ(verdict.at("sisimai").size(), 2u) << verdict.dump();
  for (const auto& entry : verdict.at("sisimai")) {
    EXPECT_EQ(entry.at("reason"), "expired") << entry.dump();
    EXPECT_EQ(entry.at("action"), "failed") << entry.dump();
    EXPECT_EQ(entry.at("deliverystatus"), "5.4.7") << entry.dump();
  }
  EXPECT_EQ(verdict.at("content_types"),
            json({"multipart/report", "text/plain", "message/delivery-status", "message/rfc822"}));
}

TEST(JudgeDsn, DelayedDsnIsTemporaryNotPermanent) {
  const json verdict = judge_golden("delayed.eml");
  EXPECT_EQ(as_set(verdict.at("temporary")), std::set<std::string>{"bob@customer.example"})
      << verdict.dump();
  EXPECT_TRUE(verdict.at("permanent").empty()) << verdict.dump();
  expect_no_defects(verdict, "delayed.eml");
  ASSERT_EQ(verdict.at("sisimai").size(), 1u) << verdict.dump();
  EXPECT_EQ(verdict.at("sisimai")[0].at("action"), "delayed");
  EXPECT_EQ(verdict.at("sisimai")[0].at("deliverystatus"), "4.4.7");
}

TEST(JudgeDsn, HeadersOnlyAndSizeLimitDsnsAreStillPermanentAndExpired) {
  for (const std::string name : {"ret_hdrs.eml", "size_limit.eml"}) {
    const json verdict = judge_golden(name);
    EXPECT_EQ(verdict.at("permanent").size(), 2u) << name << ": " << verdict.dump();
    expect_no_defects(verdict, name);
    EXPECT_EQ(verdict.at("content_types")[3], "text/rfc822-headers") << name;
    for (const auto& entry : verdict.at("sisimai"))
      EXPECT_EQ(entry.at("reason"), "expired") << name;
  }
}

TEST(JudgeDsn, Smtputf8DsnHasNoDefectsGlobalTypesAndUtf8Fields) {
  // flufl.bounce and Sisimai 4 do not read RFC 6533 message/global-delivery-status
  // at all, so only Python's email package can judge this one.
  const json verdict = judge_golden("smtputf8.eml");
  expect_no_defects(verdict, "smtputf8.eml");
  EXPECT_EQ(
      verdict.at("content_types"),
      json({"multipart/report", "text/plain", "message/global-delivery-status", "message/global"}));
  const json& blocks = verdict.at("status_blocks");
  ASSERT_EQ(blocks.size(), 2u) << verdict.dump();
  EXPECT_EQ(blocks[1].at("final-recipient"), "utf-8; m\xC3\xBCller@kunde.example");
  EXPECT_EQ(blocks[1].at("action"), "failed");
  EXPECT_EQ(blocks[1].at("status"), "5.4.7");
}

TEST(JudgeDsn, PythonSeesEnvidOrcptAndRetryDateOnlyWhereGiven) {
  const json failed = judge_golden("failed.eml").at("status_blocks");
  ASSERT_EQ(failed.size(), 3u) << failed.dump();
  EXPECT_EQ(failed[0].at("original-envelope-id"), "QQ314159");
  EXPECT_TRUE(failed[1].contains("original-recipient"));
  EXPECT_FALSE(failed[2].contains("original-recipient"));
  EXPECT_FALSE(failed[1].contains("will-retry-until"));
  const json delayed = judge_golden("delayed.eml").at("status_blocks");
  ASSERT_EQ(delayed.size(), 2u) << delayed.dump();
  EXPECT_FALSE(delayed[0].contains("original-envelope-id"));
  EXPECT_EQ(delayed[1].at("will-retry-until"), "Sun, 29 Nov 2026 01:30:58 +0000");
}

TEST(JudgeDsn, HostileRecipientsDoNotConfuseTheParsers) {
  DsnInput input = failed_input();
  input.recipients[0].address = "bob@x\r\nX-Injected: yes";
  input.recipients[0].dsn.orcpt.clear();
  input.recipients[1].address = std::string(10000, 'c') + "@customer.example";
  input.recipients.push_back({"dave@customer.example", {}, "customer.example", kNow, ""});
  const json verdict = judge_built(input);
  expect_no_defects(verdict, "hostile DSN");
  EXPECT_EQ(as_set(verdict.at("permanent")).count("dave@customer.example"), 1u) << verdict.dump();
  for (const auto& entry : verdict.at("sisimai"))
    EXPECT_EQ(entry.at("reason"), "expired") << entry.dump();
}

}  // namespace
}  // namespace etrn
