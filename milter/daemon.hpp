// daemon.hpp - etrn-milter as a process: configuration loading, the
// background fork, the socket's owner and mode, dropping privileges,
// signals (SIGHUP reloads, SIGTERM/SIGINT stop) and the threads.
//
// Threads: libmilter's smfi_main() runs in a thread of its own, created
// with SIGHUP/SIGTERM/SIGINT blocked (as are libmilter's connection
// threads and its signal thread, which would treat SIGHUP as "stop"). The
// main thread keeps them unblocked with handlers that write to a pipe,
// so the kernel hands a process-directed signal to the main thread, which
// reads the pipe and acts: reload, or stop cleanly (drain the writer).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/config/config.hpp"

namespace etrn {

struct DaemonOptions {
  std::string config_path = kDefaultConfigPath;
  // Command-line overrides as apply_config_override() keys ("database",
  // "milter.socket"), applied after the file on every (re)load.
  std::vector<std::pair<std::string, std::string>> overrides;
  bool foreground = false;
};

// Reads the file and applies the overrides; also checks that the milter
// user exists.
ConfigParse load_milter_config(const DaemonOptions& options);

// Runs the milter until SIGTERM/SIGINT; returns the exit code. Throws
// FatalError for start-up failures (socket, user, ...).
int run_daemon(const DaemonOptions& options, Config config);

}  // namespace etrn
