// Integration test of PostfixMta against a real private Postfix instance
// (started here with tests/data/postfix/make-fixtures.sh, stopped at the
// end): re-injection with DSN parameters, listing, envelope and content
// reading, hold, DSN submission, removal, queue lifetimes. Skipped unless
// run as root on a machine with Postfix installed (Debian package postfix).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "common/mta/postfix_mta.hpp"
#include "tests/unit/support/prerequisite.hpp"

namespace etrn {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class PostfixMtaIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0 || !fs::exists("/usr/sbin/postfix")) return;
    dir_ = fs::temp_directory_path() / ("etrn-postfix-mta-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    CommandSpec spec;
    spec.argv = {std::string(ETRN_TEST_DATA_DIR) + "/postfix/make-fixtures.sh", dir_.string()};
    spec.env_additions = {{"PORT", std::to_string(30000 + ::getpid() % 20000)}};
    spec.timeout = 60s;
    ProcessRunner runner;
    auto result = runner.run(spec, [](std::string_view) {});
    started_ = result.ok() && result->exited_zero();
    if (!started_) {
      start_error_ = result.ok() ? result->describe() : result.error().message;
    }
  }

  static void TearDownTestSuite() {
    if (dir_.empty()) return;
    CommandSpec stop;
    stop.argv = {"/usr/sbin/postfix", "-c", (dir_ / "etc").string(), "stop"};
    ProcessRunner runner;
    (void)runner.run(stop, [](std::string_view) {});
    fs::remove_all(dir_);
  }

  void SetUp() override {
    ETRN_REQUIRE_PREREQUISITE(!dir_.empty(), "needs root and an installed Postfix");
    ASSERT_TRUE(started_) << "Postfix did not start: " << start_error_ << " (see "
                          << (dir_ / "maillog") << ")";
  }

  PostfixMta mta_for_instance() {
    PostfixCommands commands;
    commands.config_directory = (dir_ / "etc").string();
    commands.command_directory = "/usr/sbin";
    commands.timeout = 30s;
    return PostfixMta(commands, std::make_shared<ProcessRunner>());
  }

  // Waits until `id` shows up in the listing; returns it.
  static std::optional<QueuedMessage> wait_for(PostfixMta& mta, const std::string& id,
                                               const std::string& queue_name = "") {
    for (int i = 0; i < 100; ++i) {
      std::optional<QueuedMessage> found;
      auto status = mta.for_each_queued([&](QueuedMessage&& m) {
        if (m.queue_id == id && (queue_name.empty() || m.queue_name == queue_name)) found = m;
      });
      if (status.ok() && found) return found;
      std::this_thread::sleep_for(100ms);
    }
    return std::nullopt;
  }

  static inline fs::path dir_;
  static inline bool started_ = false;
  static inline std::string start_error_;
};

TEST_F(PostfixMtaIntegration, ReinjectsWithDsnParametersAndReadsThemBack) {
  PostfixMta mta = mta_for_instance();
  const std::string content =
      "From: erin@sender.example\nSubject: integration\n\nfirst\n.dot line\nGr\xC3\xBC\xC3\x9F"
      "e\nlast\n";
  auto id = mta.reinject(
      content, Envelope{"erin@sender.example", ReturnContent::headers, "abc+def", true},
      {{"bob@customer.example", {Notify::parse("SUCCESS,DELAY"), "rfc822;x+special@y.example"}},
       {"carol@customer.example", {}}});
  ASSERT_TRUE(id.ok()) << id.error().message;
  auto listed = wait_for(mta, *id);
  ASSERT_TRUE(listed.has_value()) << *id << " never showed up in postqueue -j";
  EXPECT_EQ(listed->sender, "erin@sender.example");
  EXPECT_EQ(listed->recipients.size(), 2u);

  auto envelope = mta.read_envelope(*id);
  ASSERT_TRUE(envelope.ok()) << envelope.error().message;
  EXPECT_EQ(envelope->envelope.sender, "erin@sender.example");
  EXPECT_EQ(envelope->envelope.ret, ReturnContent::headers);
  EXPECT_EQ(envelope->envelope.envid, "abc+def");
  EXPECT_TRUE(envelope->envelope.smtputf8);
  ASSERT_EQ(envelope->recipients.size(), 2u);
  EXPECT_EQ(envelope->recipients[0].dsn.notify.to_string(), "SUCCESS,DELAY");
  EXPECT_EQ(envelope->recipients[0].dsn.orcpt, "rfc822;x+special@y.example");
  EXPECT_FALSE(envelope->recipients[1].dsn.notify.given);

  auto body = mta.read_content(*id, ContentPart::whole_message);
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_NE(body->find("Subject: integration\n"), std::string::npos) << *body;
  EXPECT_NE(body->find("\nfirst\n.dot line\nGr\xC3\xBC\xC3\x9F"
                       "e\nlast\n"),
            std::string::npos)
      << *body;
  auto headers = mta.read_content(*id, ContentPart::headers_only);
  ASSERT_TRUE(headers.ok());
  EXPECT_EQ(headers->find("first"), std::string::npos) << *headers;

  ASSERT_TRUE(mta.hold(*id).ok());
  EXPECT_TRUE(wait_for(mta, *id, "hold").has_value());
  auto removed = mta.remove(*id);
  EXPECT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_FALSE(mta.remove(*id).ok()) << "a second removal deletes nothing";
}

TEST_F(PostfixMtaIntegration, SubmitsADsnWithTheNullSender) {
  PostfixMta mta = mta_for_instance();
  const std::string dsn = "From: MAILER-DAEMON@provider.example\nSubject: dsn\n\n.\nafter\n";
  auto status = mta.submit_dsn(dsn, "zoe@customer.example");
  ASSERT_TRUE(status.ok()) << status.error().message;
  std::optional<QueuedMessage> found;
  for (int i = 0; i < 100 && !found; ++i) {
    ASSERT_TRUE(mta.for_each_queued([&](QueuedMessage&& m) {
                     if (!m.recipients.empty() &&
                         m.recipients[0].address == "zoe@customer.example") {
                       found = m;
                     }
                   })
                    .ok());
    if (!found) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(found.has_value()) << "the DSN never reached the queue";
  EXPECT_EQ(found->sender, "");
  auto envelope = mta.read_envelope(found->queue_id);
  ASSERT_TRUE(envelope.ok()) << envelope.error().message;
  EXPECT_EQ(envelope->envelope.sender, "");
  auto body = mta.read_content(found->queue_id, ContentPart::whole_message);
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_NE(body->find("\n.\nafter\n"), std::string::npos) << "-i keeps a lone dot: " << *body;
  EXPECT_TRUE(mta.remove(found->queue_id).ok());
}

TEST_F(PostfixMtaIntegration, ReadsTheDefaultQueueLifetimes) {
  PostfixMta mta = mta_for_instance();
  auto got = mta.queue_lifetimes();
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->maximal_queue_lifetime, 5 * 86400);
  EXPECT_EQ(got->bounce_queue_lifetime, 5 * 86400);
}

TEST_F(PostfixMtaIntegration, ReportsAMissingMessage) {
  PostfixMta mta = mta_for_instance();
  auto envelope = mta.read_envelope("ABCDEF123");
  ASSERT_FALSE(envelope.ok());
  EXPECT_NE(envelope.error().message.find("No such file"), std::string::npos)
      << envelope.error().message;
  EXPECT_FALSE(mta.hold("ABCDEF123").ok());
}

}  // namespace
}  // namespace etrn
