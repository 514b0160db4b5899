// run_lock_test.cpp - one run at a time; the lock is released with the object.
#include "sweeper/run_lock.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/util/sysexits.hpp"

namespace etrn {
namespace {

std::string lock_path() {
  return (std::filesystem::temp_directory_path() /
          ("etrn-run-lock-test-" + std::to_string(::getpid())))
      .string();
}

TEST(RunLock, ASecondLockIsATemporaryFailure) {
  RunLock first(lock_path());
  try {
    RunLock second(lock_path());
    FAIL() << "got a second lock, want FatalError(75)";
  } catch (const FatalError& e) {
    EXPECT_EQ(e.code(), ExitCode::temp_fail);
    EXPECT_NE(std::string(e.what()).find("another etrn-sweeper run"), std::string::npos)
        << e.what();
  }
}

TEST(RunLock, IsFreeAgainOnceReleased) {
  { RunLock first(lock_path()); }
  EXPECT_NO_THROW(RunLock again(lock_path()));
  std::filesystem::remove(lock_path());
}

TEST(RunLock, AnUncreatableLockFileIsCantCreate) {
  try {
    RunLock lock("/nonexistent-dir-for-etrn/etrn.db.lock");
    FAIL() << "got a lock in a missing directory";
  } catch (const FatalError& e) {
    EXPECT_EQ(e.code(), ExitCode::cant_create);
  }
}

}  // namespace
}  // namespace etrn
