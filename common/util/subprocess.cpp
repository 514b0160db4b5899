// subprocess.cpp - posix_spawn with pipes, a poll loop and a deadline.
//
// Why these choices: posix_spawn (no shell, no fork of a big threaded
// process); every fd we create is close-on-exec so concurrent spawns from
// other threads do not inherit it; the child's stdin is a socket so that
// writing to a child that has gone away fails with EPIPE (MSG_NOSIGNAL)
// instead of raising SIGPIPE in the whole process; the child runs in its own
// process group so a timeout kills whatever it started too.
#include "common/util/subprocess.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "common/util/posix_file.hpp"

extern char** environ;

namespace etrn {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kReadChunk = 64 * 1024;

struct PipeEnds {
  Fd read_end;
  Fd write_end;
};

Result<PipeEnds> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return make_error("pipe: " + errno_text());
  return PipeEnds{Fd(fds[0]), Fd(fds[1])};
}

// A socket pair standing in for a pipe to the child's stdin.
Result<PipeEnds> make_stdin_channel() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return make_error("socketpair: " + errno_text());
  }
  ::shutdown(fds[0], SHUT_WR);  // the child only reads
  ::shutdown(fds[1], SHUT_RD);  // we only write
  return PipeEnds{Fd(fds[0]), Fd(fds[1])};
}

void set_nonblocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

std::vector<std::string> merged_environment(
    const std::vector<std::pair<std::string, std::string>>& additions) {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view kv(*entry);
    const std::string_view name = kv.substr(0, kv.find('='));
    bool replaced = false;
    for (const auto& [key, value] : additions) replaced = replaced || key == name;
    if (!replaced) env.emplace_back(kv);
  }
  for (const auto& [key, value] : additions) env.push_back(key + "=" + value);
  return env;
}

std::vector<char*> c_pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// The child side of fork_exec: only async-signal-safe calls from here on.
[[noreturn]] void exec_child(const RunAs& who, int in, int out, int err, char* const* argv,
                             char* const* envp) {
  ::setpgid(0, 0);
  sigset_t no_signals;
  sigemptyset(&no_signals);
  ::sigprocmask(SIG_SETMASK, &no_signals, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
  if (::dup2(in, STDIN_FILENO) < 0 || ::dup2(out, STDOUT_FILENO) < 0 ||
      ::dup2(err, STDERR_FILENO) < 0 || ::setgroups(0, nullptr) != 0 ||
      ::setgid(static_cast<gid_t>(who.gid)) != 0 || ::setuid(static_cast<uid_t>(who.uid)) != 0) {
    ::_exit(126);
  }
  ::execve(argv[0], argv, envp);
  ::_exit(127);
}

// fork/exec with changed credentials; an exec failure shows as status 126/127.
Result<pid_t> fork_exec(const RunAs& who, int in, int out, int err, std::vector<char*>& argv,
                        std::vector<char*>& envp) {
  const pid_t pid = ::fork();
  if (pid < 0) return make_error("fork: " + errno_text());
  if (pid == 0) exec_child(who, in, out, err, argv.data(), envp.data());
  ::setpgid(pid, pid);  // also done in the child; whichever runs first wins
  return pid;
}

// Starts the program with the three given fds as its stdin/stdout/stderr.
Result<pid_t> spawn(const CommandSpec& spec, int child_in, int child_out, int child_err) {
  if (spec.argv.empty() || spec.argv[0].empty() || spec.argv[0][0] != '/') {
    return make_error("refusing to run \"" + spec.describe() +
                      "\": argv[0] must be an absolute path");
  }
  if (spec.run_as) {
    std::vector<std::string> argv = spec.argv;
    std::vector<std::string> env = merged_environment(spec.env_additions);
    std::vector<char*> argv_pointers = c_pointers(argv);
    std::vector<char*> env_pointers = c_pointers(env);
    return fork_exec(*spec.run_as, child_in, child_out, child_err, argv_pointers, env_pointers);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child_in, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, child_out, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, child_err, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all_signals, no_signals;
  sigfillset(&all_signals);
  sigemptyset(&no_signals);
  posix_spawnattr_setsigdefault(&attr, &all_signals);
  posix_spawnattr_setsigmask(&attr, &no_signals);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::vector<std::string> argv = spec.argv;
  std::vector<std::string> env = merged_environment(spec.env_additions);
  std::vector<char*> argv_pointers = c_pointers(argv);
  std::vector<char*> env_pointers = c_pointers(env);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &actions, &attr, argv_pointers.data(),
                             env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return make_error("cannot run " + spec.argv[0] + ": " + errno_text(rc));
  return pid;
}

// Owns a started child: kills and reaps it unless it was reaped already.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      kill_group();
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  void kill_group() const { ::kill(-pid_, SIGKILL); }

  // Waits until `deadline`; kills the group after it.
  void reap(Clock::time_point deadline, CommandResult& result) {
    int status = 0;
    for (;;) {
      const pid_t got = ::waitpid(pid_, &status, WNOHANG);
      if (got == pid_) break;
      if (got < 0 && errno != EINTR) return;
      if (Clock::now() >= deadline) {
        result.timed_out = true;
        kill_group();
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
    if (WIFEXITED(status)) result.exit_status = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  }

 private:
  pid_t pid_;
};

void append_stderr(std::string& tail, std::string_view bytes) {
  tail.append(bytes);
  if (tail.size() > CommandResult::kStderrTailBytes) {
    tail.erase(0, tail.size() - CommandResult::kStderrTailBytes);
  }
}

int poll_timeout_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::int64_t>(0, std::min<std::int64_t>(left.count(), 1000)));
}

enum class ReadOutcome { data, end, again };

ReadOutcome read_some(Fd& fd, std::string& buffer) {
  buffer.resize(kReadChunk);
  const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return ReadOutcome::again;
  if (n <= 0) {
    fd.reset();
    return ReadOutcome::end;
  }
  buffer.resize(static_cast<std::size_t>(n));
  return ReadOutcome::data;
}

// Writes what it can of `pending` without blocking; closes at the end.
void write_some(Fd& fd, std::string_view& pending) {
  const ssize_t n = ::send(fd.get(), pending.data(), pending.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n < 0) pending = {};  // the child stopped reading: not our error to report
  if (n > 0) pending.remove_prefix(static_cast<std::size_t>(n));
  if (pending.empty()) fd.reset();
}

// The three channels of a child, from our side.
struct Channels {
  Fd to_stdin;  // open only when we feed text
  Fd from_stdout;
  Fd from_stderr;
};

struct Started {
  std::unique_ptr<Child> child;
  Channels channels;
};

Result<Fd> child_stdin_fd(const StdinSource& source, Fd& our_end) {
  if (source.kind == StdinSource::Kind::file) return open_file(source.value, O_RDONLY);
  if (source.kind == StdinSource::Kind::null_device) return open_file("/dev/null", O_RDONLY);
  auto channel = make_stdin_channel();
  if (!channel) return channel.error();
  our_end = std::move(channel->write_end);
  return std::move(channel->read_end);
}

Result<Started> start_child(const CommandSpec& spec, const StdinSource& source) {
  Started started;
  auto in = child_stdin_fd(source, started.channels.to_stdin);
  if (!in) return in.error();
  auto out = make_pipe();
  if (!out) return out.error();
  auto err = make_pipe();
  if (!err) return err.error();
  const int child_err = spec.stderr_to_stdout ? out->write_end.get() : err->write_end.get();
  auto pid = spawn(spec, in->get(), out->write_end.get(), child_err);
  if (!pid) return pid.error();
  started.child = std::make_unique<Child>(*pid);
  started.channels.from_stdout = std::move(out->read_end);
  if (!spec.stderr_to_stdout) started.channels.from_stderr = std::move(err->read_end);
  return started;
}

// Pumps all three channels until stdout and stderr end or time runs out.
// Returns false when a line was too long (the child is then killed).
bool pump(Channels& ch, std::string_view stdin_bytes, LineSplitter& splitter, Child& child,
          Clock::time_point deadline, CommandResult& result) {
  if (ch.to_stdin.is_open()) set_nonblocking(ch.to_stdin.get());
  std::string buffer;
  while (ch.from_stdout.is_open() || ch.from_stderr.is_open()) {
    if (Clock::now() >= deadline) {
      result.timed_out = true;
      child.kill_group();
      return true;
    }
    pollfd fds[3] = {{ch.from_stdout.get(), POLLIN, 0},
                     {ch.from_stderr.get(), POLLIN, 0},
                     {ch.to_stdin.get(), POLLOUT, 0}};
    if (::poll(fds, 3, poll_timeout_ms(deadline)) < 0 && errno != EINTR) return true;
    if (fds[0].revents != 0 && read_some(ch.from_stdout, buffer) == ReadOutcome::data &&
        !splitter.feed(buffer)) {
      child.kill_group();
      return false;
    }
    if (fds[1].revents != 0 && read_some(ch.from_stderr, buffer) == ReadOutcome::data) {
      append_stderr(result.stderr_tail, buffer);
    }
    if (fds[2].revents != 0) write_some(ch.to_stdin, stdin_bytes);
  }
  return true;
}

// A conversation with a running child (InteractiveProcess).
class ProcessSession : public InteractiveProcess {
 public:
  ProcessSession(Started started, const CommandSpec& spec)
      : child_(std::move(started.child)),
        ch_(std::move(started.channels)),
        deadline_(Clock::now() + spec.timeout),
        max_line_bytes_(spec.max_line_bytes) {}

  Status write(std::string_view bytes) override {
    while (!bytes.empty()) {
      if (!ch_.to_stdin.is_open()) return make_error("the program closed its input");
      const ssize_t n = ::send(ch_.to_stdin.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return make_error("write to program: " + errno_text());
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return ok_status();
  }

  Result<std::string> read_line(std::chrono::milliseconds timeout) override {
    const auto deadline = std::min(deadline_, Clock::now() + timeout);
    std::string chunk;
    for (;;) {
      if (const auto nl = pending_.find('\n'); nl != std::string::npos) return take_line(nl);
      if (pending_.size() > max_line_bytes_) return make_error("program output line too long");
      if (!ch_.from_stdout.is_open()) return make_error("program output ended" + stderr_note());
      if (Clock::now() >= deadline) return make_error("timed out waiting for the program");
      pollfd fds[2] = {{ch_.from_stdout.get(), POLLIN, 0}, {ch_.from_stderr.get(), POLLIN, 0}};
      if (::poll(fds, 2, poll_timeout_ms(deadline)) < 0 && errno != EINTR) {
        return make_error("poll: " + errno_text());
      }
      if (fds[0].revents != 0 && read_some(ch_.from_stdout, chunk) == ReadOutcome::data) {
        pending_ += chunk;
      }
      if (fds[1].revents != 0 && read_some(ch_.from_stderr, chunk) == ReadOutcome::data) {
        append_stderr(stderr_tail_, chunk);
      }
    }
  }

  Result<CommandResult> finish() override {
    ch_.to_stdin.reset();
    CommandResult result;
    const LineSink discard = [](std::string_view) {};
    LineSplitter splitter(discard, max_line_bytes_);
    pump(ch_, {}, splitter, *child_, deadline_, result);
    child_->reap(deadline_, result);
    result.stderr_tail = stderr_tail_ + result.stderr_tail;
    return result;
  }

 private:
  std::string take_line(std::size_t nl) {
    std::string line = pending_.substr(0, nl);
    pending_.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  std::string stderr_note() const { return stderr_tail_.empty() ? "" : ": " + stderr_tail_; }

  std::unique_ptr<Child> child_;
  Channels ch_;
  Clock::time_point deadline_;
  std::size_t max_line_bytes_;
  std::string pending_;
  std::string stderr_tail_;
};

}  // namespace

std::string CommandSpec::describe() const {
  std::string out;
  for (const auto& arg : argv) out += (out.empty() ? "" : " ") + arg;
  return out;
}

std::string CommandResult::describe() const {
  std::string out;
  if (timed_out) {
    out = "timed out";
  } else if (term_signal) {
    out = "killed by signal " + std::to_string(*term_signal);
  } else if (exit_status) {
    out = "exit status " + std::to_string(*exit_status);
  } else {
    out = "unknown status";
  }
  std::string_view err = stderr_tail;
  while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.remove_suffix(1);
  if (!err.empty()) out += ": " + std::string(err);
  return out;
}

bool LineSplitter::feed(std::string_view bytes) {
  if (overflow_) return false;
  for (;;) {
    const auto nl = bytes.find('\n');
    if (nl == std::string_view::npos) break;
    if (partial_.empty()) {
      sink_(bytes.substr(0, nl));
    } else {
      partial_.append(bytes.substr(0, nl));
      sink_(partial_);
      partial_.clear();
    }
    bytes.remove_prefix(nl + 1);
  }
  partial_.append(bytes);
  if (partial_.size() > max_line_bytes_) {
    overflow_ = true;
    partial_.clear();
  }
  return !overflow_;
}

bool LineSplitter::finish(bool deliver) {
  if (partial_.empty()) return false;
  if (deliver) sink_(partial_);
  partial_.clear();
  return true;
}

Result<CommandResult> ProcessRunner::run(const CommandSpec& spec, const LineSink& sink) {
  auto started = start_child(spec, spec.stdin_source);
  if (!started) return started.error();
  const auto deadline = Clock::now() + spec.timeout;
  CommandResult result;
  LineSplitter splitter(sink, spec.max_line_bytes);
  std::string_view stdin_bytes;
  if (spec.stdin_source.kind == StdinSource::Kind::text) stdin_bytes = spec.stdin_source.value;
  const bool lines_ok =
      pump(started->channels, stdin_bytes, splitter, *started->child, deadline, result);
  started->child->reap(deadline, result);
  if (!lines_ok) {
    return make_error(spec.argv[0] + ": an output line is longer than " +
                      std::to_string(spec.max_line_bytes) + " bytes");
  }
  result.last_line_unterminated = splitter.finish(spec.deliver_unterminated_last_line);
  return result;
}

Result<std::unique_ptr<InteractiveProcess>> ProcessRunner::start(const CommandSpec& spec) {
  auto started = start_child(spec, StdinSource::text(""));
  if (!started) return started.error();
  std::unique_ptr<InteractiveProcess> session =
      std::make_unique<ProcessSession>(std::move(*started), spec);
  return session;
}

}  // namespace etrn
