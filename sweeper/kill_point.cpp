// kill_point.cpp - the crash test hook (see kill_point.hpp).
#include "sweeper/kill_point.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdlib>

namespace etrn {

void kill_point(std::string_view step) {
  const char* wanted = std::getenv("ETRN_SWEEPER_TEST_KILL_AFTER");
  if (wanted == nullptr || step != wanted) return;
  const char* how = std::getenv("ETRN_SWEEPER_TEST_KILL_SIGNAL");
  if (how != nullptr && std::string_view(how) == "TERM-group") {
    // Only the sweeper's own group: never the test runner's.
    const pid_t group = ::getpgrp();
    if (group == ::getpid() || group == ::getppid()) {
      ::kill(0, SIGTERM);
      return;
    }
  }
  std::raise(SIGKILL);
}

}  // namespace etrn
