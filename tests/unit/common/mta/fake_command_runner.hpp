// fake_command_runner.hpp - a CommandRunner for unit tests (in the spirit of
// Postfix's testing/mock_spawn_command.h): records every CommandSpec it is
// asked to run and plays back scripted output, so tests can check the exact
// argv and environment without running anything.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/util/subprocess.hpp"

namespace etrn::testing {

inline CommandResult exited_with(int status, std::string stderr_text) {
  CommandResult r;
  r.exit_status = status;
  r.stderr_tail = std::move(stderr_text);
  return r;
}

// What one scripted run produces.
struct FakeOutcome {
  FakeOutcome() = default;
  FakeOutcome(std::vector<std::string> lines, std::string unterminated = "",
              CommandResult how = exited_with(0, ""))
      : stdout_lines(std::move(lines)),
        stdout_unterminated(std::move(unterminated)),
        result(std::move(how)) {}

  std::vector<std::string> stdout_lines;
  std::string stdout_unterminated;  // a last piece without "\n"
  CommandResult result = exited_with(0, "");
  std::optional<Error> start_error;  // the runner itself fails

  static CommandResult exited(int status, std::string stderr_text = "") {
    return exited_with(status, std::move(stderr_text));
  }
};

// An SMTP peer: replies are consumed one per read_line; writes are recorded.
class FakeSession : public InteractiveProcess {
 public:
  FakeSession(std::deque<std::string> replies, std::string* transcript)
      : replies_(std::move(replies)), transcript_(transcript) {}
  Status write(std::string_view bytes) override {
    transcript_->append(bytes);
    return ok_status();
  }
  Result<std::string> read_line(std::chrono::milliseconds) override {
    if (replies_.empty()) return make_error("program output ended");
    std::string line = replies_.front();
    replies_.pop_front();
    return line;
  }
  Result<CommandResult> finish() override { return FakeOutcome::exited(0); }

 private:
  std::deque<std::string> replies_;
  std::string* transcript_;
};

class FakeCommandRunner : public CommandRunner {
 public:
  std::vector<CommandSpec> calls;
  std::deque<FakeOutcome> outcomes;      // one per run(), in order; default: exit 0
  std::deque<std::string> smtp_replies;  // for start()
  std::string smtp_transcript;           // everything written to the session

  Result<CommandResult> run(const CommandSpec& spec, const LineSink& sink) override {
    calls.push_back(spec);
    FakeOutcome outcome;
    if (!outcomes.empty()) {
      outcome = std::move(outcomes.front());
      outcomes.pop_front();
    }
    if (outcome.start_error) return *outcome.start_error;
    for (const auto& line : outcome.stdout_lines) sink(line);
    if (!outcome.stdout_unterminated.empty()) {
      outcome.result.last_line_unterminated = true;
      if (spec.deliver_unterminated_last_line) sink(outcome.stdout_unterminated);
    }
    return outcome.result;
  }

  Result<std::unique_ptr<InteractiveProcess>> start(const CommandSpec& spec) override {
    calls.push_back(spec);
    std::unique_ptr<InteractiveProcess> session =
        std::make_unique<FakeSession>(smtp_replies, &smtp_transcript);
    return session;
  }
};

}  // namespace etrn::testing
