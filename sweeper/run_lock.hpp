// run_lock.hpp - one sweep at a time, held for the life of the object.
//
// SQLite: flock(LOCK_EX|LOCK_NB) on <database>.lock. PostgreSQL: a
// session-level advisory lock on a connection of its own
// (PostgresAdvisoryLock), one per instance: no two runs for one host
// work at once, while the hosts sharing the store each sweep their own. A second concurrent run
// gets FatalError(temp_fail) saying who holds the lock.
#pragma once

#include <memory>
#include <string>

#include "common/store/postgres_database.hpp"
#include "common/util/posix_file.hpp"

namespace etrn {

class RunLock {
 public:
  // `store`: what Database::open is given. Throws FatalError: 75
  // (temp_fail) when busy, 73 (cant_create) when the file or the database
  // cannot be opened, 74 (io_error) when it cannot be locked.
  // `instance`: the host whose rows the run changes (PostgreSQL's lock is its own).
  RunLock(const std::string& store, const std::string& instance);

  // Throws FatalError(temp_fail) when the lock is known to be lost (its
  // PostgreSQL connection went: another run may have started).
  void check_held();

 private:
  Fd fd_;  // SQLite: closing it releases the lock
  std::unique_ptr<PostgresAdvisoryLock> advisory_;
};

}  // namespace etrn
