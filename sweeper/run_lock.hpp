// run_lock.hpp - one sweep at a time: flock(LOCK_EX|LOCK_NB) on
// <database>.lock, held for the life of the object. A second concurrent
// run gets FatalError(temp_fail) saying who holds the lock.
#pragma once

#include <string>

#include "common/util/posix_file.hpp"

namespace etrn {

class RunLock {
 public:
  // Throws FatalError: 75 (temp_fail) when busy, 73 (cant_create) when the
  // file cannot be opened, 74 (io_error) when it cannot be locked.
  explicit RunLock(const std::string& path);

 private:
  Fd fd_;  // closing it releases the lock
};

}  // namespace etrn
