// subprocess.hpp - running other programs from an argv vector, never a shell.
//
// Contract: argv[0] is an absolute path, executed directly (posix_spawn);
// the environment is ours plus `env_additions`; stdin comes from /dev/null,
// a file, or a string; stdout is delivered line by line to a sink while the
// program runs (memory stays bounded whatever the output size); stderr keeps
// only its last few KiB, for error messages; a program that outlives its
// timeout is killed (with its process group) and reported as timed out.
//
// The spawning sits behind CommandRunner so that unit tests of its users can
// check the exact argv and script the output (Postfix's own style:
// testing/mock_spawn_command.h); ProcessRunner is the real one.
//
// Diagnostics: failures to start (no such program, no fds) are Errors;
// what the program itself did (exit status, signal, timeout) is in
// CommandResult, which callers judge.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/util/result.hpp"

namespace etrn {

// Where the child's stdin comes from.
struct StdinSource {
  enum class Kind { null_device, file, text };
  Kind kind = Kind::null_device;
  std::string value;  // the path (file) or the bytes (text)

  static StdinSource null_device() { return {}; }
  static StdinSource file(std::string path) { return {Kind::file, std::move(path)}; }
  static StdinSource text(std::string bytes) { return {Kind::text, std::move(bytes)}; }
};

// Credentials for the child (only root can use them): uid, gid, no
// supplementary groups.
struct RunAs {
  unsigned uid = 0;
  unsigned gid = 0;
  bool operator==(const RunAs&) const = default;
};

struct CommandSpec {
  std::vector<std::string> argv;  // argv[0]: absolute path of the program
  std::optional<RunAs> run_as;    // unset: our own credentials
  std::vector<std::pair<std::string, std::string>> env_additions;  // e.g. MAIL_CONFIG
  StdinSource stdin_source;
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  std::size_t max_line_bytes = 64 * 1024 * 1024;  // a longer stdout line is an error
  // False: an unterminated last stdout piece is not given to the sink (for
  // line-record output like `postqueue -j`, where it means "cut short").
  bool deliver_unterminated_last_line = true;
  // True: stderr goes to the stdout sink too, line by line and whole (for
  // programs that report per item on stderr, like `postsuper -d -`).
  bool stderr_to_stdout = false;

  std::string describe() const;  // argv joined with spaces, for messages only
};

struct CommandResult {
  std::optional<int> exit_status;       // set when the program exited
  std::optional<int> term_signal;       // set when a signal ended it
  bool timed_out = false;               // we killed it after CommandSpec::timeout
  bool last_line_unterminated = false;  // stdout did not end with "\n"
  std::string stderr_tail;              // the last kStderrTailBytes of stderr

  static constexpr std::size_t kStderrTailBytes = 4096;

  bool exited_zero() const { return exit_status && *exit_status == 0 && !timed_out; }
  // "exit status 1", "killed by signal 9", "timed out"; plus stderr if any.
  std::string describe() const;
};

// Gets each stdout line without its "\n" (a final unterminated piece too,
// unless CommandSpec::deliver_unterminated_last_line is false).
using LineSink = std::function<void(std::string_view line)>;

// A running program we talk to over its stdin and stdout (e.g. SMTP over
// `sendmail -bs`). Stderr is kept as in CommandResult.
class InteractiveProcess {
 public:
  virtual ~InteractiveProcess() = default;
  virtual Status write(std::string_view bytes) = 0;
  // One line without "\n" (and without a trailing "\r"); an error on end of
  // output, a line longer than the limit, or the timeout.
  virtual Result<std::string> read_line(std::chrono::milliseconds timeout) = 0;
  // Closes stdin and waits (bounded by the spec's timeout; kills after it).
  virtual Result<CommandResult> finish() = 0;
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs to completion, streaming stdout lines to `sink`.
  virtual Result<CommandResult> run(const CommandSpec& spec, const LineSink& sink) = 0;
  // Starts a program to converse with; its stdin_source is ignored.
  virtual Result<std::unique_ptr<InteractiveProcess>> start(const CommandSpec& spec) = 0;
};

// The real runner: posix_spawn (fork/exec when run_as is set, since
// posix_spawn cannot change credentials), own process group, no shell.
class ProcessRunner : public CommandRunner {
 public:
  Result<CommandResult> run(const CommandSpec& spec, const LineSink& sink) override;
  Result<std::unique_ptr<InteractiveProcess>> start(const CommandSpec& spec) override;
};

// Splits a byte stream into lines for a LineSink; keeps only the unfinished
// line between feeds. Pure, so it is tested on its own.
class LineSplitter {
 public:
  LineSplitter(const LineSink& sink, std::size_t max_line_bytes)
      : sink_(sink), max_line_bytes_(max_line_bytes) {}
  // False when a line grew beyond the limit (the rest is then ignored).
  bool feed(std::string_view bytes);
  // Delivers an unterminated last piece (if `deliver`); true if there was one.
  bool finish(bool deliver = true);

 private:
  const LineSink& sink_;
  std::size_t max_line_bytes_;
  std::string partial_;
  bool overflow_ = false;
};

}  // namespace etrn
