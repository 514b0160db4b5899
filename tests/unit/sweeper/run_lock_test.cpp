// run_lock_test.cpp - one run at a time, on either engine; the lock is
// released with the object; on PostgreSQL a lost lock connection is seen.
#include "sweeper/run_lock.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/util/sysexits.hpp"
#include "tests/unit/common/store/test_database.hpp"

namespace etrn {
namespace {

using RunLockTest = testing::EngineTest;

TEST_P(RunLockTest, ASecondLockIsATemporaryFailure) {
  RunLock first(db_target(), "mx1");
  try {
    RunLock second(db_target(), "mx1");
    FAIL() << "got a second lock, want FatalError(75)";
  } catch (const FatalError& e) {
    EXPECT_EQ(e.code(), ExitCode::temp_fail);
    EXPECT_NE(std::string(e.what()).find("another etrn-sweeper run"), std::string::npos)
        << e.what();
  }
}

TEST_P(RunLockTest, IsFreeAgainOnceReleased) {
  { RunLock first(db_target(), "mx1"); }
  EXPECT_NO_THROW(RunLock again(db_target(), "mx1"));
}

TEST_P(RunLockTest, IsHeldWhileItsHolderLives) {
  RunLock lock(db_target(), "mx1");
  EXPECT_NO_THROW(lock.check_held());
}

ETRN_ON_BOTH_ENGINES(RunLockTest);

// Several MX hosts share one PostgreSQL store: each sweeps its own queue,
// so one host's run does not keep another's from starting.
TEST(RunLock, EachInstanceHasItsOwnPostgresLock) {
  testing::PostgresCluster* cluster = testing::PostgresCluster::get();
  ETRN_REQUIRE_PREREQUISITE(cluster != nullptr,
                            "a PostgreSQL test cluster: " + testing::PostgresCluster::why());
  const std::string store = cluster->create_store();
  {
    RunLock mx1(store, "mx1");
    EXPECT_NO_THROW(RunLock mx2(store, "mx2")) << "mx1's run held mx2's lock";
    try {
      RunLock again(store, "mx1");
      FAIL() << "got mx1's lock twice";
    } catch (const FatalError& e) {
      EXPECT_EQ(e.code(), ExitCode::temp_fail);
      EXPECT_NE(std::string(e.what()).find("for mx1"), std::string::npos) << e.what();
    }
  }
  cluster->drop_store(store);
}

TEST(RunLock, AnUncreatableLockFileIsCantCreate) {
  try {
    RunLock lock("/nonexistent-dir-for-etrn/etrn.db", "mx1");
    FAIL() << "got a lock in a missing directory";
  } catch (const FatalError& e) {
    EXPECT_EQ(e.code(), ExitCode::cant_create);
  }
}

// The server ends the lock's session (an administrator, a failover): the
// lock is gone, and the run must stop rather than go on beside another.
TEST(RunLock, ALostPostgresConnectionIsALostLock) {
  testing::PostgresCluster* cluster = testing::PostgresCluster::get();
  ETRN_REQUIRE_PREREQUISITE(cluster != nullptr,
                            "a PostgreSQL test cluster: " + testing::PostgresCluster::why());
  const std::string store = cluster->create_store();
  const std::string schema = store.substr(store.rfind("%3D") + 3);
  RunLock lock(store, "mx1");
  cluster->command(
      "DO $$BEGIN PERFORM pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
      "AND ((classid::bigint << 32) | objid::bigint) = hashtextextended('etrn-sweeper run mx1 " +
      schema + "', 0); END$$");
  try {
    lock.check_held();
    FAIL() << "the lock's session was ended, yet it counts as held";
  } catch (const FatalError& e) {
    EXPECT_EQ(e.code(), ExitCode::temp_fail);
    EXPECT_NE(std::string(e.what()).find("run lock was lost"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(RunLock again(store, "mx1")) << "the server released it";
  cluster->drop_store(store);
}

}  // namespace
}  // namespace etrn
