// log.hpp - logging setup for both programs (spdlog).
//
// Foreground: stderr. Daemon / cron: syslog, mail facility, with the
// program name as ident. Use spdlog::info(...) etc. everywhere after setup.
#pragma once

#include <string>

namespace etrn {

enum class LogTarget { stderr_only, syslog_only, stderr_and_syslog };

void setup_logging(const std::string& program, LogTarget target, const std::string& level);

}  // namespace etrn
