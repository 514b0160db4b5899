// log.hpp - logging setup for both programs (spdlog).
//
// Foreground: stderr (with a timestamp on a terminal or file; as
// "<priority>message" when stderr is systemd's journal). Daemon / cron:
// syslog, mail facility, with the program name as ident. Use
// spdlog::info(...) etc. everywhere after setup. Lines about a message are
// built by LogLine (common/util/log_line.hpp): "QID: key=value, ...".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace etrn {

enum class LogTarget { stderr_only, syslog_only, stderr_and_syslog };

void setup_logging(const std::string& program, LogTarget target, const std::string& level);

// Each sink with its own level; std::nullopt: no such sink. When stderr is
// the journal, syslog's lines land there already: no stderr sink then. (The sweeper
// logs what it did to syslog but prints only problems, so cron stays quiet.)
struct LogSinks {
  std::optional<std::string> stderr_level;
  std::optional<std::string> syslog_level;
};
void setup_logging(const std::string& program, const LogSinks& wanted);

// Does JOURNAL_STREAM ("<device>:<inode>", set by systemd) name this stream?
bool names_this_stream(const char* journal_stream, std::uint64_t device, std::uint64_t inode);

}  // namespace etrn
