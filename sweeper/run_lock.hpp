// run_lock.hpp - one sweep at a time: flock(LOCK_EX|LOCK_NB) on
// <database>.lock, held for the life of the object. A second concurrent
// run gets FatalError(temp_fail) saying who holds the lock.
#pragma once

#include <string>

namespace etrn {

class RunLock {
 public:
  explicit RunLock(
      std::string path);  // throws FatalError (75 when busy, 73 when it cannot be created)
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace etrn
