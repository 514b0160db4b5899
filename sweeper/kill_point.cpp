// kill_point.cpp - the crash test hook (see kill_point.hpp).
#include "sweeper/kill_point.hpp"

#include <csignal>
#include <cstdlib>

namespace etrn {

void kill_point(std::string_view step) {
  const char* wanted = std::getenv("ETRN_SWEEPER_TEST_KILL_AFTER");
  if (wanted != nullptr && step == wanted) std::raise(SIGKILL);
}

}  // namespace etrn
