// daemon.cpp - process set-up and the signal loop (see daemon.hpp).
#include "milter/daemon.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <system_error>
#include <thread>

#include "common/log/log.hpp"
#include "common/store/store_target.hpp"
#include "common/util/posix_file.hpp"
#include "common/util/sysexits.hpp"
#include "milter/milter_glue.hpp"
#include "milter/record_writer.hpp"
#include "milter/service_manager.hpp"

namespace etrn {

namespace {

// The write end of the self-pipe: a signal handler can only reach it
// through a global. Set once before the handlers are installed.
volatile sig_atomic_t signal_pipe_fd = -1;

constexpr int kStopSignals[] = {SIGHUP, SIGTERM, SIGINT};
// Written to the pipe by the smfi thread when smfi_main() returns.
constexpr char kMilterEnded = 0;
// How long SIGTERM waits for messages in progress. Idle connections are
// not waited for: Postfix treats a vanished milter per
// milter_default_action (accept), and the sweeper adopts what it missed.
constexpr std::chrono::seconds kMessageGrace{10};

void on_signal(int signo) {
  const int saved = errno;
  const char byte = static_cast<char>(signo);
  if (signal_pipe_fd >= 0) (void)!write(signal_pipe_fd, &byte, 1);
  errno = saved;
}

struct Account {
  uid_t uid;
  gid_t gid;
  std::string name;
};

// The account to switch to, or nothing when no switch is needed.
std::optional<Account> account_to_become(const std::string& user) {
  if (user.empty()) return std::nullopt;
  const passwd* pw = getpwnam(user.c_str());
  if (!pw) throw FatalError(ExitCode::config, "[milter] user: unknown user \"" + user + "\"");
  if (pw->pw_uid == geteuid()) return std::nullopt;
  if (geteuid() != 0) {
    spdlog::warn("not started as root: staying uid {} ([milter] user = {} is not switched to)",
                 geteuid(), user);
    return std::nullopt;
  }
  return Account{pw->pw_uid, pw->pw_gid, pw->pw_name};
}

void drop_privileges(const Account& account) {
  if (initgroups(account.name.c_str(), account.gid) != 0 || setgid(account.gid) != 0 ||
      setuid(account.uid) != 0) {
    throw FatalError(ExitCode::software,
                     "cannot become user " + account.name + ": " + errno_text());
  }
  if (setuid(0) == 0) throw FatalError(ExitCode::software, "could regain root after dropping it");
  spdlog::info("running as user {}", account.name);
}

// The socket's directory (one level), for /run/etrn-sweeper after a reboot.
void ensure_socket_directory(const std::string& path, const std::optional<Account>& account) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return;
  const std::string dir = path.substr(0, slash);
  if (mkdir(dir.c_str(), 0755) == 0 && account) {
    if (chown(dir.c_str(), account->uid, account->gid) != 0)
      spdlog::warn("cannot chown {}: {}", dir, errno_text());
  }
}

// True when the socket's directory is set-group-ID: its group (e.g. postfix
// for /var/spool/postfix/etrn-sweeper, mode 2750) is the one to keep.
bool directory_sets_group(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  struct stat st {};
  return stat(dir.c_str(), &st) == 0 && (st.st_mode & S_ISGID) != 0;
}

// [milter] socket_mode (0660), owned by the milter's user; the group is
// socket_group, else the directory's if it is set-group-ID, else the
// user's own group. The MTA's user must be in that group.
void secure_socket(const std::string& path, const std::optional<Account>& account,
                   const Config& config) {
  if (path.empty()) return;
  gid_t gid = static_cast<gid_t>(-1);  // unchanged
  if (!config.milter_socket_group.empty()) {
    const struct group* g = getgrnam(config.milter_socket_group.c_str());
    if (!g)
      throw FatalError(ExitCode::config, "[milter] socket_group: unknown group \"" +
                                             config.milter_socket_group + "\"");
    gid = g->gr_gid;
  } else if (account && !directory_sets_group(path)) {
    gid = account->gid;
  }
  const uid_t owner = account ? account->uid : static_cast<uid_t>(-1);
  if (chown(path.c_str(), owner, gid) != 0)
    throw FatalError(ExitCode::cant_create, "cannot chown socket " + path + ": " + errno_text());
  if (chmod(path.c_str(), static_cast<mode_t>(config.milter_socket_mode)) != 0)
    throw FatalError(ExitCode::cant_create, "cannot chmod socket " + path + ": " + errno_text());
}

// Forks into the background. The parent waits until the child reports
// (one byte on a pipe: 0 when it is serving, else its exit code) and exits
// with that, so an init script sees a start-up failure. Returns the
// child's end of the pipe.
int daemonize() {
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) throw FatalError(ExitCode::software, "pipe: " + errno_text());
  const pid_t pid = fork();
  if (pid < 0) throw FatalError(ExitCode::software, "fork: " + errno_text());
  if (pid > 0) {
    close(report[1]);
    unsigned char code = to_int(ExitCode::software);
    while (read(report[0], &code, 1) < 0 && errno == EINTR) {
    }
    _exit(code);
  }
  close(report[0]);
  setsid();
  const pid_t again = fork();
  if (again < 0) throw FatalError(ExitCode::software, "fork: " + errno_text());
  if (again > 0) _exit(0);
  if (chdir("/") != 0) throw FatalError(ExitCode::software, "chdir /: " + errno_text());
  const int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) close(null);
  }
  return report[1];
}

// Tells the waiting parent (if any) how start-up went.
void report_startup(int& fd, ExitCode code) {
  if (fd < 0) return;
  const unsigned char byte = static_cast<unsigned char>(to_int(code));
  (void)!write(fd, &byte, 1);
  close(fd);
  fd = -1;
}

// The self-pipe and the handlers; SIGPIPE is ignored (a vanished MTA must
// not kill us).
int install_signal_handlers() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw FatalError(ExitCode::software, "pipe: " + errno_text());
  signal_pipe_fd = fds[1];
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  // No SA_RESTART: the main thread's read() of the pipe must return
  // (EINTR) for a sanitizer runtime that defers handlers to run them.
  action.sa_flags = 0;
  for (int s : kStopSignals) sigaction(s, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return fds[0];
}

// Runs `start` with the signals blocked, so threads it creates inherit a
// mask that leaves the signals to the main thread. Only before libmilter
// runs (start_milter_thread says why).
template <typename Start>
void with_signals_blocked(Start&& start) {
  sigset_t set, old;
  sigemptyset(&set);
  for (int s : kStopSignals) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  start();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

// libmilter's main loop, on a thread of its own. Never joined: libmilter
// is never stopped (milter_glue.hpp), so the thread ends with the process,
// or earlier if smfi_main() fails.
//
// smfi_main() starts libmilter's own signal thread, which sigwait()s for
// SIGHUP, SIGTERM and SIGINT and stops libmilter at once, open messages
// and all. The kernel hands it a signal only when no other thread takes
// it, so the main thread (whose handler lets open messages finish) must
// never block them once libmilter runs. The thread is therefore given its
// blocked mask at creation (pthread_attr_setsigmask_np) rather than
// inheriting it from a main thread that blocks them for the moment: a
// SIGTERM in that moment, under load, reached libmilter's thread instead
// (miltertest sigterm_lets_an_open_message_finish failed 7 times in 40).
void start_milter_thread() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kStopSignals) sigaddset(&set, s);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int rc = pthread_attr_setsigmask_np(&attr, &set);
  pthread_t thread;
  if (rc == 0) {
    rc = pthread_create(
        &thread, &attr,
        [](void*) -> void* {
          const bool clean = run_milter();
          if (!clean) spdlog::error("libmilter's main loop failed");
          const char byte = kMilterEnded;
          if (signal_pipe_fd >= 0) (void)!write(signal_pipe_fd, &byte, 1);
          return nullptr;
        },
        nullptr);
  }
  pthread_attr_destroy(&attr);
  if (rc != 0)
    throw FatalError(ExitCode::software, "cannot start libmilter's thread: " + errno_text(rc));
}

// libmilter's signal thread takes a stop signal that arrives before it
// first waits in sigwait() (the signal is then pending for the process,
// and sigwait() takes pending signals first), and with it stops libmilter
// at once. So the milter says it listens only once that thread waits.
// Every thread but the main one blocks the stop signals (with_signals_blocked,
// start_milter_thread); while a thread waits in sigwait() the kernel
// unblocks the signals it waits for, so its SigBlk in
// /proc/self/task/*/status (readable after the privilege drop, unlike
// .../syscall) lacks SIGTERM. Bounded: after kSignalThreadWait it goes on
// and says so.
constexpr std::chrono::milliseconds kSignalThreadWait{2000};

// Whether the "SigBlk:" line of a /proc task status blocks `signal`.
std::optional<bool> blocks_signal(std::istream& status, int signal) {
  std::string line;
  while (std::getline(status, line)) {
    if (!line.starts_with("SigBlk:")) continue;
    std::uint64_t mask = 0;
    std::istringstream hex(line.substr(7));
    if (!(hex >> std::hex >> mask)) return std::nullopt;
    return (mask >> (signal - 1) & 1) != 0;
  }
  return std::nullopt;
}

bool a_thread_waits_for_signals() {
  const std::string main_thread = std::to_string(getpid());
  std::error_code ignored;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ignored)) {
    if (task.path().filename() == main_thread) continue;
    std::ifstream status(task.path() / "status");
    if (blocks_signal(status, SIGTERM) == false) return true;
  }
  return false;
}

void wait_for_libmilters_signal_thread() {
  const auto deadline = std::chrono::steady_clock::now() + kSignalThreadWait;
  while (!a_thread_waits_for_signals()) {
    if (std::chrono::steady_clock::now() > deadline) {
      spdlog::warn("libmilter's signal thread is not waiting yet; going on");
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

WriterTiming writer_timing(const Config& config) {
  return {config.milter_commit_interval,
          std::chrono::duration_cast<std::chrono::milliseconds>(config.milter_record_timeout)};
}

// What the writer opens: `database` as the milter's own role, with its
// password file's password (read now, before the privileges are dropped).
std::string milter_store(const Config& config) {
  const std::string& password_file = config.milter_database_password_file.empty()
                                         ? config.database_password_file
                                         : config.milter_database_password_file;
  auto target = store_target(config.database, password_file, config.milter_database_user);
  if (!target) throw FatalError(ExitCode::config, target.error().message);
  return *target;
}

void reload(const DaemonOptions& options, ConfigHolder& configs, RecordWriter& writer) {
  ConfigParse parse = load_milter_config(options);
  if (!parse.ok()) {
    for (const auto& e : parse.errors) spdlog::error("reload: {}", e.to_string());
    spdlog::error("reload failed: keeping the previous configuration");
    return;
  }
  const auto old = configs.current();
  if (parse.config.database != old->config.database ||
      parse.config.milter_database_user != old->config.milter_database_user ||
      parse.config.milter_socket != old->config.milter_socket ||
      parse.config.milter_user != old->config.milter_user) {
    spdlog::warn("reload: a new database, socket or user takes effect only after a restart");
  }
  spdlog::set_level(spdlog::level::from_str(parse.config.log_level));
  writer.set_timing(writer_timing(parse.config));
  configs.replace(std::move(parse.config));
  spdlog::info("configuration reloaded from {}", options.config_path);
}

// Reads signals from the pipe until a stop; returns true for a requested
// stop, false when smfi_main() ended by itself.
bool signal_loop(int pipe_read, const DaemonOptions& options, ConfigHolder& configs,
                 RecordWriter& writer) {
  for (;;) {
    char byte = 0;
    const ssize_t n = read(pipe_read, &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (byte == kMilterEnded) return false;
    if (byte == SIGHUP) {
      notify_reloading();
      reload(options, configs, writer);
      notify_ready("listening; configuration reloaded");
      continue;
    }
    spdlog::info("{}: stopping", byte == SIGTERM ? "SIGTERM" : "SIGINT");
    notify_stopping("committing what is queued, then stopping");
    return true;
  }
}

EpochSeconds now() {
  return static_cast<EpochSeconds>(std::time(nullptr));
}

// A test hook: ETRN_MILTER_TEST_QUEUE_CAPACITY makes the record queue
// that small, so that tests can fill it (tests/milter/queue_full_*.lua).
// Unset in production.
std::size_t record_queue_capacity() {
  const char* text = std::getenv("ETRN_MILTER_TEST_QUEUE_CAPACITY");
  if (text == nullptr) return RecordWriter::kCapacity;
  const std::size_t capacity = std::strtoul(text, nullptr, 10);
  return capacity > 0 ? capacity : RecordWriter::kCapacity;
}

}  // namespace

ConfigParse load_milter_config(const DaemonOptions& options) {
  ConfigParse parse = load_config_file(options.config_path);
  for (const auto& [key, value] : options.overrides) apply_config_override(parse, key, value);
  const std::string file =
      parse.config.source_path.empty() ? options.config_path : parse.config.source_path;
  const std::string& user = parse.config.milter_user;
  if (parse.ok() && !user.empty() && getpwnam(user.c_str()) == nullptr)
    parse.errors.push_back({file, 0, "user", "unknown user \"" + user + "\""});
  const std::string& group = parse.config.milter_socket_group;
  if (parse.ok() && !group.empty() && getgrnam(group.c_str()) == nullptr)
    parse.errors.push_back({file, 0, "socket_group", "unknown group \"" + group + "\""});
  return parse;
}

namespace {

// The stop: no new connections (a unix socket's file goes), messages in
// flight finish, the callbacks are closed, the writer commits everything
// queued. libmilter itself is left running (milter_glue.hpp says why).
void stop(const std::string& socket_spec, bool requested, RecordWriter& writer) {
  stop_listening(socket_spec);
  if (requested && !wait_for_messages_in_progress(kMessageGrace))
    spdlog::warn("{} message(s) still in progress after {}s; stopping anyway",
                 messages_in_progress(), kMessageGrace.count());
  close_callbacks();
  const WriterCounts counts = writer.stop();
  spdlog::info("etrn-milter stopped: {} recorded, {} not recorded, {} lost at the stop",
               counts.committed, counts.refused, counts.lost_at_stop);
}

// Start-up, then the signal loop (see run_daemon).
int serve(const DaemonOptions& options, Config config, int& report_fd) {
  setup_logging("etrn-milter", options.foreground ? LogTarget::stderr_only : LogTarget::syslog_only,
                config.log_level);
  const std::optional<Account> account = account_to_become(config.milter_user);
  const std::string socket_spec = config.milter_socket;
  const std::string socket_path = unix_socket_path(socket_spec);
  if (!socket_path.empty()) ensure_socket_directory(socket_path, account);

  const std::string database = milter_store(config);
  const WriterTiming timing = writer_timing(config);
  ConfigHolder configs(std::move(config));
  const int pipe_read = install_signal_handlers();

  std::optional<RecordWriter> writer;
  with_signals_blocked([&] { writer.emplace(database, timing, now, record_queue_capacity()); });
  MilterServices services{configs, *writer, now};
  if (Status opened = open_milter_socket(services, socket_spec); !opened)
    throw FatalError(ExitCode::cant_create, opened.error().message);
  secure_socket(socket_path, account, configs.current()->config);
  if (account) drop_privileges(*account);
  if (Status db = writer->open_now(); !db)
    spdlog::error("{} (mail still flows; retrying with the next message)", db.error().message);

  start_milter_thread();
  wait_for_libmilters_signal_thread();
  spdlog::info(
      "etrn-milter {} listening on {} (database {}, commit interval {}, record timeout {})",
      ETRN_VERSION, socket_spec, database_for_messages(database),
      format_interval(timing.commit_interval),
      format_duration(std::chrono::duration_cast<Seconds>(timing.record_timeout)));
  report_startup(report_fd, ExitCode::ok);
  notify_ready("listening on " + socket_spec);

  const bool requested = signal_loop(pipe_read, options, configs, *writer);
  stop(socket_spec, requested, *writer);
  return requested ? to_int(ExitCode::ok) : to_int(ExitCode::software);
}

// The end of a stopped milter. libmilter's threads are still running
// (milter_glue.hpp: it is never asked to stop), so the process ends without
// the exit handlers, which would destroy what those threads may still use:
// ThreadSanitizer saw them destroy a mutex of libmilter's that its starting
// thread had just made (a SIGTERM 0.07 s after start, under load). The log
// is flushed first, and a sanitizer build runs the leak check that would
// otherwise run as an exit handler.
[[noreturn]] void end_process(int exit_status) {
  spdlog::shutdown();
#if defined(__SANITIZE_ADDRESS__)
  __lsan_do_leak_check();
#endif
  std::fflush(nullptr);
  std::_Exit(exit_status);
}

}  // namespace

int run_daemon(const DaemonOptions& options, Config config) {
  int report_fd = options.foreground ? -1 : daemonize();
  try {
    end_process(serve(options, std::move(config), report_fd));
  } catch (const FatalError& e) {
    // In the background stderr is /dev/null: say it where admins look.
    if (!options.foreground) spdlog::critical("fatal: {}", e.what());
    report_startup(report_fd, e.code());
    throw;
  } catch (...) {
    report_startup(report_fd, ExitCode::software);
    throw;
  }
}

}  // namespace etrn
