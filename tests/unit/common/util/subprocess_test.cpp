// Tests for subprocess: the real ProcessRunner on small script files that
// stand in for postqueue & co. (the scripts use /bin/sh; the runner itself
// never does), and the LineSplitter on its own.
#include "common/util/subprocess.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tests/unit/support/prerequisite.hpp"

namespace etrn {
namespace {

using namespace std::chrono_literals;

CommandSpec spec_of(std::vector<std::string> argv) {
  CommandSpec spec;
  spec.argv = std::move(argv);
  return spec;
}

class SubprocessTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& path : created_) std::remove(path.c_str());
  }

  // Writes an executable script and returns its absolute path.
  std::string script(const std::string& name, const std::string& body) {
    const std::string path =
        ::testing::TempDir() + "etrn_subprocess_" + std::to_string(::getpid()) + "_" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body;
    ::chmod(path.c_str(), 0700);
    created_.push_back(path);
    return path;
  }

  Result<CommandResult> run(CommandSpec spec) {
    lines.clear();
    return runner.run(spec, [this](std::string_view line) { lines.emplace_back(line); });
  }

  ProcessRunner runner;
  std::vector<std::string> lines;
  std::vector<std::string> created_;
};

TEST_F(SubprocessTest, StreamsStdoutLinesAndReportsExitZero) {
  CommandSpec spec = spec_of({script("ok", "echo one; printf 'two\\nthree\\n'")});
  auto result = run(spec);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_TRUE(result->exited_zero());
  EXPECT_FALSE(result->last_line_unterminated);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "three"}));
}

TEST_F(SubprocessTest, PassesArgvUntouchedWithoutAShell) {
  CommandSpec spec = spec_of({script("args", "for a in \"$@\"; do echo \"[$a]\"; done"), "a b",
                              "$HOME", "", "; rm -rf /", "<>"});
  auto result = run(spec);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(lines, (std::vector<std::string>{"[a b]", "[$HOME]", "[]", "[; rm -rf /]", "[<>]"}));
}

TEST_F(SubprocessTest, AddsEnvironmentVariables) {
  CommandSpec spec = spec_of({script("env", "echo \"$MAIL_CONFIG\"; echo \"${PATH:+has path}\"")});
  spec.env_additions = {{"MAIL_CONFIG", "/etc/postfix-x"}};
  auto result = run(spec);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(lines, (std::vector<std::string>{"/etc/postfix-x", "has path"}));
}

TEST_F(SubprocessTest, ReportsANonZeroExitWithTheStderrText) {
  CommandSpec spec =
      spec_of({script("fail", "echo partial; echo 'postqueue: fatal: no' >&2; exit 1")});
  auto result = run(spec);
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->exited_zero());
  EXPECT_EQ(result->exit_status, 1);
  EXPECT_EQ(result->describe(), "exit status 1: postqueue: fatal: no");
}

TEST_F(SubprocessTest, ReportsOutputCutShortAndCanWithholdTheLastPiece) {
  CommandSpec spec = spec_of({script("cut", "echo '{\"a\":1}'; printf '{\"b\"'")});
  auto result = run(spec);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->last_line_unterminated);
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\""}));
  spec.deliver_unterminated_last_line = false;
  result = run(spec);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->last_line_unterminated);
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}"}));
}

TEST_F(SubprocessTest, ReportsASignal) {
  CommandSpec spec = spec_of({script("killed", "kill -9 $$")});
  auto result = run(spec);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->term_signal, 9);
  EXPECT_FALSE(result->exited_zero());
}

TEST_F(SubprocessTest, KillsAProgramThatOutlivesItsTimeoutWithItsChildren) {
  CommandSpec spec = spec_of({script("slow", "echo started; sleep 30 & sleep 30; echo never")});
  spec.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  auto result = run(spec);
  ASSERT_TRUE(result.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s)
      << "the background sleep must not keep stdout open";
  EXPECT_TRUE(result->timed_out);
  EXPECT_FALSE(result->exited_zero());
  EXPECT_EQ(lines, (std::vector<std::string>{"started"}));
}

TEST_F(SubprocessTest, FeedsStdinFromTextFromAFileAndFromDevNull) {
  const std::string cat = script("cat", "exec cat");
  CommandSpec spec = spec_of({cat});
  spec.stdin_source = StdinSource::text("from text\nsecond\n");
  ASSERT_TRUE(run(spec).ok());
  EXPECT_EQ(lines, (std::vector<std::string>{"from text", "second"}));

  const std::string input = script("input.txt", "");
  spec.stdin_source = StdinSource::file(input);
  ASSERT_TRUE(run(spec).ok());
  EXPECT_EQ(lines, (std::vector<std::string>{"#!/bin/sh"}));

  spec.stdin_source = StdinSource::null_device();
  ASSERT_TRUE(run(spec).ok());
  EXPECT_TRUE(lines.empty());
}

TEST_F(SubprocessTest, SurvivesAChildThatIgnoresALargeStdin) {
  CommandSpec spec = spec_of({script("ignore", "exit 0")});
  spec.stdin_source = StdinSource::text(std::string(4 * 1024 * 1024, 'x'));
  auto result = run(spec);
  ASSERT_TRUE(result.ok()) << "no SIGPIPE, no hang";
  EXPECT_TRUE(result->exited_zero());
}

TEST_F(SubprocessTest, CanDeliverEveryStderrLineToTheSinkToo) {
  CommandSpec spec = spec_of({script("both",
                                     "i=0\nwhile [ $i -lt 500 ]; do\n"
                                     "  echo \"err $i\" >&2; i=$((i+1))\ndone\n"
                                     "echo out\n")});
  spec.stderr_to_stdout = true;
  std::vector<std::string> got;
  auto result = runner.run(spec, [&](std::string_view line) { got.emplace_back(line); });
  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_EQ(got.size(), 501u) << "all of stderr, far beyond the kept tail, and stdout";
  EXPECT_EQ(got.front(), "err 0");
  EXPECT_EQ(got[499], "err 499");
  EXPECT_EQ(got.back(), "out");
  EXPECT_TRUE(result->stderr_tail.empty());
}

TEST_F(SubprocessTest, KeepsOnlyTheTailOfALongStderr) {
  CommandSpec spec = spec_of({script("noisy",
                                     "i=0; while [ $i -lt 2000 ]; do echo \"noise $i\" >&2; "
                                     "i=$((i+1)); done; echo 'last words' >&2; exit 3")});
  auto result = run(spec);
  ASSERT_TRUE(result.ok());
  EXPECT_LE(result->stderr_tail.size(), CommandResult::kStderrTailBytes);
  EXPECT_NE(result->stderr_tail.find("last words"), std::string::npos);
}

TEST_F(SubprocessTest, StreamsAHundredThousandLines) {
  CommandSpec spec = spec_of({script("many",
                                     "i=0; while [ $i -lt 100000 ]; do echo \"line $i\"; "
                                     "i=$((i+1)); done")});
  std::size_t count = 0;
  std::string last;
  auto result = runner.run(spec, [&](std::string_view line) {
    ++count;
    last = line;
  });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(count, 100000u);
  EXPECT_EQ(last, "line 99999");
}

TEST_F(SubprocessTest, FailsAnOverlongLineInsteadOfBufferingIt) {
  CommandSpec spec = spec_of({script("long", "head -c 100000 /dev/zero | tr '\\0' x; echo")});
  spec.max_line_bytes = 1000;
  auto result = run(spec);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("longer than 1000 bytes"), std::string::npos);
}

TEST_F(SubprocessTest, RefusesARelativeProgramAndReportsAMissingOne) {
  EXPECT_FALSE(run(spec_of({"sh", "-c", "true"})).ok());
  EXPECT_FALSE(run(spec_of({})).ok());
  auto missing = run(spec_of({"/nonexistent/postqueue"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/nonexistent/postqueue"), std::string::npos);
}

TEST_F(SubprocessTest, ReportsAMissingStdinFile) {
  CommandSpec spec = spec_of({script("cat2", "exec cat")});
  spec.stdin_source = StdinSource::file("/nonexistent/input");
  EXPECT_FALSE(run(spec).ok());
}

TEST_F(SubprocessTest, ConversesWithAnInteractiveProgram) {
  CommandSpec spec = spec_of({script("smtp",
                                     "echo '220 hello'; read cmd; echo \"250 got $cmd\"; "
                                     "read quit; echo '221 bye'")});
  auto session = runner.start(spec);
  ASSERT_TRUE(session.ok()) << session.error().message;
  auto greeting = (*session)->read_line(2s);
  ASSERT_TRUE(greeting.ok());
  EXPECT_EQ(*greeting, "220 hello");
  ASSERT_TRUE((*session)->write("EHLO x\n").ok());
  auto reply = (*session)->read_line(2s);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(*reply, "250 got EHLO x");
  ASSERT_TRUE((*session)->write("QUIT\n").ok());
  auto ended = (*session)->finish();
  ASSERT_TRUE(ended.ok());
  EXPECT_TRUE(ended->exited_zero());
}

TEST_F(SubprocessTest, TimesOutReadingFromASilentInteractiveProgram) {
  CommandSpec spec = spec_of({script("silent", "sleep 30")});
  spec.timeout = 600ms;
  auto session = runner.start(spec);
  ASSERT_TRUE(session.ok());
  EXPECT_FALSE((*session)->read_line(200ms).ok());
  auto ended = (*session)->finish();
  ASSERT_TRUE(ended.ok());
  EXPECT_FALSE(ended->exited_zero());
}

TEST_F(SubprocessTest, RunsAsAnotherUserWhenRoot) {
  ETRN_REQUIRE_PREREQUISITE(::geteuid() == 0, "needs root");
  CommandSpec spec = spec_of({script("id", "id -u; id -G")});
  spec.run_as = RunAs{65534, 65534};
  ::chmod(spec.argv[0].c_str(), 0755);
  ::chmod(::testing::TempDir().c_str(), 01777);
  auto result = run(spec);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(lines, (std::vector<std::string>{"65534", "65534"})) << result->describe();
}

TEST(LineSplitter, JoinsLinesAcrossChunksAndDeliversTheLastPiece) {
  std::vector<std::string> got;
  const LineSink sink = [&](std::string_view line) { got.emplace_back(line); };
  LineSplitter splitter(sink, 100);
  EXPECT_TRUE(splitter.feed("ab"));
  EXPECT_TRUE(splitter.feed("c\nd"));
  EXPECT_TRUE(splitter.feed("\n\nlast"));
  EXPECT_TRUE(splitter.finish());
  EXPECT_EQ(got, (std::vector<std::string>{"abc", "d", "", "last"}));
  EXPECT_FALSE(splitter.finish());
}

TEST(LineSplitter, RefusesALineOverTheLimit) {
  const LineSink sink = [](std::string_view) {};
  LineSplitter splitter(sink, 4);
  EXPECT_TRUE(splitter.feed("1234"));
  EXPECT_FALSE(splitter.feed("5"));
  EXPECT_FALSE(splitter.feed("\n"));
}

}  // namespace
}  // namespace etrn
