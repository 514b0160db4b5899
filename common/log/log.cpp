// log.cpp - sets up spdlog's default logger for both programs: stderr for
// the foreground and tests, syslog (facility mail, ident = program, with
// the PID) for the daemon and cron, where mail admins look for it.
// Under systemd stderr is the journal: each line goes there as
// "<priority>message" (journald reads the priority and strips it), with no
// time of ours, so journalctl and /var/log/mail.log show Postfix's prefix
// once, as for Postfix's own lines.
//
// Sinks are the _mt kinds: libmilter calls back from many threads.
// An unknown level name throws std::invalid_argument: the configuration
// checker reports it before logging is set up, so reaching here with a
// bad name is a programming error, not something to paper over.
#include "common/log/log.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace etrn {

namespace {

spdlog::level::level_enum parse_level(const std::string& name) {
  if (name == "warning") return spdlog::level::warn;  // the syslog spelling
  spdlog::level::level_enum level = spdlog::level::from_str(name);
  // from_str answers "off" for any name it does not know.
  if (level == spdlog::level::off && name != "off") {
    throw std::invalid_argument("unknown log level '" + name +
                                "' (want trace, debug, info, warning, error, critical or off)");
  }
  return level;
}

int syslog_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return LOG_DEBUG;
    case spdlog::level::info:
      return LOG_INFO;
    case spdlog::level::warn:
      return LOG_WARNING;
    case spdlog::level::err:
      return LOG_ERR;
    default:
      return LOG_CRIT;
  }
}

// One write per line, so lines of different threads do not mix.
class JournalStreamSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string line = "<" + std::to_string(syslog_priority(msg.level)) + ">";
    line.append(msg.payload.data(), msg.payload.size());
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

bool stderr_is_the_journal() {
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return names_this_stream(std::getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino);
}

spdlog::sink_ptr stderr_sink() {
  if (stderr_is_the_journal()) return std::make_shared<JournalStreamSink>();
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %n[%P]: %l: %v");
  return sink;
}

// syslog adds the time, host, ident and PID itself.
spdlog::sink_ptr syslog_sink(const std::string& program) {
  auto sink = std::make_shared<spdlog::sinks::syslog_sink_mt>(program, LOG_PID, LOG_MAIL, false);
  sink->set_pattern("%v");
  return sink;
}

}  // namespace

// systemd sets JOURNAL_STREAM=<device>:<inode> of the stream it connected;
// a child whose stderr was redirected inherits the variable, hence the check.
bool names_this_stream(const char* journal_stream, std::uint64_t device, std::uint64_t inode) {
  if (journal_stream == nullptr) return false;
  const std::string_view text(journal_stream);
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  std::uint64_t got_device = 0;
  std::uint64_t got_inode = 0;
  const char* end = text.data() + text.size();
  auto d = std::from_chars(text.data(), text.data() + colon, got_device);
  auto i = std::from_chars(text.data() + colon + 1, end, got_inode);
  if (d.ec != std::errc{} || d.ptr != text.data() + colon || i.ec != std::errc{} || i.ptr != end)
    return false;
  return got_device == device && got_inode == inode;
}

void setup_logging(const std::string& program, LogTarget target, const std::string& level) {
  LogSinks sinks;
  if (target != LogTarget::syslog_only) sinks.stderr_level = level;
  if (target != LogTarget::stderr_only) sinks.syslog_level = level;
  setup_logging(program, sinks);
}

void setup_logging(const std::string& program, const LogSinks& wanted) {
  // Drop the old sinks first: a syslog sink's destructor calls closelog(),
  // which would otherwise undo the new sink's openlog().
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(program));
  std::vector<spdlog::sink_ptr> sinks;
  spdlog::level::level_enum lowest = spdlog::level::off;
  auto add = [&](spdlog::sink_ptr sink, const std::string& level) {
    const spdlog::level::level_enum parsed = parse_level(level);
    sink->set_level(parsed);
    lowest = std::min(lowest, parsed);
    sinks.push_back(std::move(sink));
  };
  // Under systemd syslog's lines reach the journal too: not twice.
  const bool twice = wanted.syslog_level && stderr_is_the_journal();
  if (wanted.stderr_level && !twice) add(stderr_sink(), *wanted.stderr_level);
  if (wanted.syslog_level) add(syslog_sink(program), *wanted.syslog_level);
  auto logger = std::make_shared<spdlog::logger>(program, sinks.begin(), sinks.end());
  logger->set_level(lowest);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

}  // namespace etrn
