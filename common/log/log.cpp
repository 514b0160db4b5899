// log.cpp - sets up spdlog's default logger for both programs: stderr for
// the foreground and tests, syslog (facility mail, ident = program, with
// the PID) for the daemon and cron, where mail admins look for it.
//
// Sinks are the _mt kinds: libmilter calls back from many threads.
// An unknown level name throws std::invalid_argument: the configuration
// checker reports it before logging is set up, so reaching here with a
// bad name is a programming error, not something to paper over.
#include "common/log/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
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

spdlog::sink_ptr stderr_sink() {
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
  if (wanted.stderr_level) add(stderr_sink(), *wanted.stderr_level);
  if (wanted.syslog_level) add(syslog_sink(program), *wanted.syslog_level);
  auto logger = std::make_shared<spdlog::logger>(program, sinks.begin(), sinks.end());
  logger->set_level(lowest);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

}  // namespace etrn
