// run_lock.cpp - the run lock (see run_lock.hpp).
#include "sweeper/run_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/util/sysexits.hpp"

namespace etrn {

RunLock::RunLock(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw FatalError(ExitCode::cant_create,
                     "cannot open lock file " + path_ + ": " + std::strerror(errno));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
  const int error = errno;
  ::close(fd_);
  fd_ = -1;
  if (error == EWOULDBLOCK) {
    throw FatalError(ExitCode::temp_fail,
                     "another etrn-sweeper run holds " + path_ + "; try again later");
  }
  throw FatalError(ExitCode::io_error, "cannot lock " + path_ + ": " + std::strerror(error));
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace etrn
