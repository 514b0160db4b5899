// run_lock.cpp - the run lock (see run_lock.hpp).
#include "sweeper/run_lock.hpp"

#include <fcntl.h>

#include "common/util/sysexits.hpp"

namespace etrn {

RunLock::RunLock(const std::string& path) {
  auto opened = open_file(path, O_RDWR | O_CREAT);
  if (!opened)
    throw FatalError(ExitCode::cant_create, "cannot take the run lock: " + opened.error().message);
  fd_ = std::move(*opened);
  auto lock = try_lock(fd_, LockMode::exclusive, path);
  if (!lock)
    throw FatalError(ExitCode::io_error, "cannot take the run lock: " + lock.error().message);
  if (*lock == LockOutcome::busy) {
    throw FatalError(ExitCode::temp_fail,
                     "another etrn-sweeper run holds " + path + "; try again later");
  }
}

}  // namespace etrn
