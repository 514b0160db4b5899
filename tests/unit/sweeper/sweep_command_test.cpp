// sweep_command_test.cpp - the sweep command end to end with a fake MTA
// and a real database file: a failed queue listing changes nothing and
// exits 75; --dry-run creates and writes nothing; a normal run acts.
#include "sweeper/sweep_command.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/util/sysexits.hpp"
#include "tests/unit/common/store/test_database.hpp"
#include "tests/unit/sweeper/fake_mta.hpp"

namespace etrn {
namespace {

using testing::count_rows;

class SweepCommandTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    config_.database = db_path();
    config_.etrn_domains = {"customer.example"};
    config_.reporting_mta = "mx.provider.example";
    mta_ = std::make_unique<testing::FakeMta>((dir_ / "calls.log").string());
    const EpochSeconds arrival = std::time(nullptr) - 100 * 3600;
    QueuedMessage q{"deferred", "4AbC1", arrival, 500, "alice@sender.example", false, {}};
    q.recipients.push_back({"bob@customer.example", "deferred transport"});
    mta_->queue.push_back(q);
  }
  Config config_;
  std::unique_ptr<testing::FakeMta> mta_;
};

TEST_F(SweepCommandTest, DryRunCreatesAndWritesNothing) {
  EXPECT_EQ(run_sweep(config_, *mta_,
                      SweepOptions{.dry_run = true, .verbose = false, .now = std::nullopt}),
            0);
  EXPECT_FALSE(std::filesystem::exists(db_path())) << "no database created";
  EXPECT_FALSE(std::filesystem::exists(db_path() + ".lock")) << "no lock file";
  for (const std::string& call : mta_->calls()) {
    EXPECT_TRUE(call.rfind("list", 0) == 0 || call.rfind("envelope", 0) == 0 ||
                call.rfind("content", 0) == 0)
        << "dry-run made a changing call: " << call;
  }
}

TEST_F(SweepCommandTest, AFailedQueueListingChangesNothingAndExits75) {
  ASSERT_EQ(
      run_sweep(config_, *mta_, SweepOptions{.dry_run = false, .verbose = false, .now = "-99h"}), 0)
      << "an hour after arrival: adopted, nothing due";
  auto db = open_db();
  const auto events_before = count_rows(*db, "SELECT count(*) FROM events");
  mta_->fail_listing = true;
  try {
    run_sweep(config_, *mta_, SweepOptions{.dry_run = false, .verbose = false, .now = "+49h"});
    FAIL() << "got success, want FatalError(75)";
  } catch (const FatalError& e) {
    EXPECT_EQ(e.code(), ExitCode::temp_fail);
  }
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM events"), events_before);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM outbox"), 0);
}

TEST_F(SweepCommandTest, ARunAdoptsAndExpiresUnrecordedMail) {
  EXPECT_EQ(run_sweep(config_, *mta_, SweepOptions{}), 0);
  auto db = open_db();
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_events WHERE kind = 'adopted'"), 1);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_audit WHERE state = 'expired'"), 1);
  EXPECT_TRUE(mta_->queue.empty()) << "removed";
}

TEST_F(SweepCommandTest, AMessageKeptOnHoldForAPersonMakesTheRunExit1) {
  mta_->refuse_for_good = "alice@sender.example";
  EXPECT_EQ(run_sweep(config_, *mta_, SweepOptions{}), kExitNeedsAPerson);
  EXPECT_EQ(run_sweep(config_, *mta_, SweepOptions{}), kExitNeedsAPerson)
      << "as long as it is on hold";
  mta_->queue[0].held = false;  // a person released it
  mta_->queue[0].queue_name = "deferred";
  EXPECT_EQ(run_sweep(config_, *mta_, SweepOptions{}), 0);
}

TEST_F(SweepCommandTest, ATemporaryDsnFailureExits75) {
  mta_->fail_submit = true;
  EXPECT_EQ(run_sweep(config_, *mta_, SweepOptions{}), to_int(ExitCode::temp_fail));
}

TEST(ReportingMta, IsTheConfiguredNameElseTheMtasOwnNeverThisMachinesShortName) {
  testing::FakeMta mta("/dev/null");
  Config config;
  config.reporting_mta = "mx.provider.example";
  EXPECT_EQ(reporting_mta_for(config, mta), "mx.provider.example");
  config.reporting_mta.clear();
  mta.host_name = "mx.fake.example";
  EXPECT_EQ(reporting_mta_for(config, mta), "mx.fake.example");
  mta.host_name = "mx.fake.example:25";
  try {
    reporting_mta_for(config, mta);
    FAIL() << "got a name, want FatalError(78)";
  } catch (const FatalError& e) {
    EXPECT_EQ(e.code(), ExitCode::config);
  }
}

TEST_F(SweepCommandTest, ABadNowIsAUsageError) {
  try {
    run_sweep(config_, *mta_, SweepOptions{.dry_run = true, .verbose = false, .now = "yesterday"});
    FAIL() << "got success";
  } catch (const FatalError& e) {
    EXPECT_EQ(e.code(), ExitCode::usage);
  }
}

}  // namespace
}  // namespace etrn
