// run_lock.cpp - the run lock (see run_lock.hpp).
#include "sweeper/run_lock.hpp"

#include <fcntl.h>

#include "common/util/sysexits.hpp"

namespace etrn {

namespace {

constexpr const char* kAdvisoryLockName = "etrn-sweeper run ";

}  // namespace

RunLock::RunLock(const std::string& store, const std::string& instance) {
  if (is_postgres_uri(store)) {
    auto taken = PostgresAdvisoryLock::try_take(store, kAdvisoryLockName + instance);
    if (!taken)
      throw FatalError(ExitCode::cant_create, "cannot take the run lock: " + taken.error().message);
    if (!*taken) {
      throw FatalError(ExitCode::temp_fail, "another etrn-sweeper run for " + instance +
                                                " holds the run lock in " +
                                                database_for_messages(store) + "; try again later");
    }
    advisory_ = std::move(*taken);
    return;
  }
  const std::string path = store + ".lock";
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

void RunLock::check_held() {
  if (!advisory_) return;
  if (Status held = advisory_->held(); !held)
    throw FatalError(ExitCode::temp_fail, held.error().message + "; stopping this run");
}

}  // namespace etrn
