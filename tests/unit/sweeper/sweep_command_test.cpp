// sweep_command_test.cpp - the sweep command end to end with a fake MTA
// and a real database file: a failed queue listing changes nothing and
// exits 75; --dry-run creates and writes nothing; a normal run acts.
#include "sweeper/sweep_command.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "common/util/sysexits.hpp"
#include "tests/unit/common/store/test_database.hpp"
#include "tests/unit/sweeper/fake_mta.hpp"

namespace etrn {
namespace {

using testing::count_rows;

SweepOptions now_at(std::string now, bool dry_run, bool future_now) {
  SweepOptions options;  // assigned, not designated: SweepOptions grows
  options.dry_run = dry_run;
  options.now = std::move(now);
  options.future_now = future_now;
  return options;
}

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
    q.recipients.push_back({"bob@customer.example"});
    mta_->queue.push_back(q);
  }
  Config config_;
  std::unique_ptr<testing::FakeMta> mta_;
};

TEST_F(SweepCommandTest, DryRunCreatesAndWritesNothing) {
  EXPECT_EQ(run_sweep(config_, *mta_,
                      SweepOptions{.dry_run = true,
                                   .verbose = false,
                                   .now = std::nullopt,
                                   .metrics_file = std::nullopt}),
            0);
  EXPECT_FALSE(std::filesystem::exists(db_path())) << "no database created";
  EXPECT_FALSE(std::filesystem::exists(db_path() + ".lock")) << "no lock file";
  for (const std::string& call : mta_->calls()) {
    EXPECT_TRUE(call.rfind("list", 0) == 0 || call.rfind("envelope", 0) == 0 ||
                call.rfind("content", 0) == 0 || call.rfind("read_", 0) == 0)
        << "dry-run made a changing call: " << call;
  }
}

TEST_F(SweepCommandTest, AFailedQueueListingChangesNothingAndExits75) {
  ASSERT_EQ(
      run_sweep(
          config_, *mta_,
          SweepOptions{
              .dry_run = false, .verbose = false, .now = "-99h", .metrics_file = std::nullopt}),
      0)
      << "an hour after arrival: adopted, nothing due";
  auto db = open_db();
  const auto events_before = count_rows(*db, "SELECT count(*) FROM events");
  mta_->fail_listing = true;
  try {
    run_sweep(config_, *mta_, now_at("+49h", false, true));
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

TEST(OwnInstance, AsksTheMtaOnceForBothNamesAndOnlyWhenTheInstanceIsUnset) {
  testing::FakeMta mta("/dev/null");
  Config config;
  const Config resolved = with_own_instance(config, mta);
  EXPECT_EQ(resolved.instance, "mx.fake.example");
  EXPECT_EQ(reporting_mta_for(resolved, mta), "mx.fake.example");
  EXPECT_EQ(mta.host_name_asked, 1) << "one question for instance and Reporting-MTA";

  config.reporting_mta = "mx.provider.example";
  EXPECT_EQ(with_own_instance(config, mta).reporting_mta, "mx.provider.example");
  config.instance = "mx1.provider.example";
  EXPECT_EQ(with_own_instance(config, mta).instance, "mx1.provider.example");
  EXPECT_EQ(mta.host_name_asked, 2) << "a configured instance is not asked for";
}

TEST_F(SweepCommandTest, ABadNowIsAUsageError) {
  try {
    run_sweep(
        config_, *mta_,
        SweepOptions{
            .dry_run = true, .verbose = false, .now = "yesterday", .metrics_file = std::nullopt});
    FAIL() << "got success";
  } catch (const FatalError& e) {
    EXPECT_EQ(e.code(), ExitCode::usage);
  }
}

TEST(ActTime, AFutureNowActsOnlyWithDryRunOrFutureNow) {
  constexpr EpochSeconds kReal = 1800000000;
  try {
    act_time(now_at("+49h", false, false), kReal);
    FAIL() << "got a time, want FatalError(64)";
  } catch (const FatalError& e) {
    EXPECT_EQ(e.code(), ExitCode::usage);
    EXPECT_NE(std::string(e.what()).find("--future-now"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--dry-run"), std::string::npos) << e.what();
  }
  EXPECT_EQ(act_time(now_at("+1h", true, false), kReal), kReal + 3600);
  EXPECT_EQ(act_time(now_at("+1h", false, true), kReal), kReal + 3600);
  EXPECT_EQ(act_time(now_at("-2h", false, false), kReal), kReal - 7200) << "the past needs no flag";
  EXPECT_EQ(act_time(SweepOptions{}, kReal), kReal);
}

// A run as the cron job makes it, at the real time plus `hours`.
int sweep_at(const Config& config, Mta& mta, int hours) {
  return run_sweep(config, mta,
                   now_at((hours < 0 ? "" : "+") + std::to_string(hours) + "h", false, true));
}

// As if the records had been written two minutes ago (past kDepartureGrace).
void age_records(const std::string& db_path) {
  auto db = Database::open(db_path, OpenMode::read_write_create);
  ASSERT_TRUE(db);
  (*db)->exec("UPDATE messages SET recorded_at = recorded_at - 120");
}

std::int64_t count_calls(const testing::FakeMta& mta, const std::string& prefix) {
  const auto calls = mta.calls();
  return std::count_if(calls.begin(), calls.end(),
                       [&](const std::string& c) { return c.rfind(prefix, 0) == 0; });
}

TEST_F(SweepCommandTest, AQuietQueueCostsOneListingAndNoReadsOfQueueFiles) {
  config_.etrn_transports = {"etrn-only"};
  ASSERT_EQ(sweep_at(config_, *mta_, -99), 0) << "adopted";
  std::filesystem::remove(dir_ / "calls.log");
  ASSERT_EQ(sweep_at(config_, *mta_, -98), 0);
  EXPECT_EQ(mta_->calls(), std::vector<std::string>{"list"})
      << "recorded and listed alike: no envelope, no transport, no second listing";
}

TEST_F(SweepCommandTest, AMessageMissedByOneListingIsNotDeparted) {
  ASSERT_EQ(sweep_at(config_, *mta_, -99), 0);
  age_records(db_path());
  std::filesystem::remove(dir_ / "calls.log");
  mta_->unlisted_once = {"4AbC1"};
  ASSERT_EQ(sweep_at(config_, *mta_, -98), 0);
  EXPECT_EQ(count_calls(*mta_, "list"), 2) << "a second look, since something was absent";
  auto db = open_db();
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_audit WHERE state = 'queued'"), 1);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_events WHERE kind = 'departed'"), 0);
}

TEST_F(SweepCommandTest, AMessageMissedTwiceDepartsAndIsReopenedWhenItIsListedAgain) {
  ASSERT_EQ(sweep_at(config_, *mta_, -99), 0);
  age_records(db_path());
  mta_->unlisted = {"4AbC1"};
  ASSERT_EQ(sweep_at(config_, *mta_, -98), 0);
  auto db = open_db();
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_audit WHERE state = 'departed'"), 1);
  mta_->unlisted.clear();
  ASSERT_EQ(sweep_at(config_, *mta_, -97), 0);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_events WHERE kind = 'reopened'"), 1);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_events WHERE kind = 'adopted'"), 1)
      << "reopened, not adopted a second time";
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM messages"), 1);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_audit WHERE state = 'queued'"), 1);
  ASSERT_EQ(sweep_at(config_, *mta_, 0), 0);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_audit WHERE state = 'expired'"), 1)
      << "and it expires like the rest";
}

TEST_F(SweepCommandTest, UnrecordedMailIsAdoptedByTheTransportTheMtaResolvesNotByItsDelayReason) {
  config_.etrn_domains.clear();
  config_.etrn_transports = {"etrn-only"};
  mta_->queue[0].recipients[0].address = "x@slow.example";  // "deferred transport"
  QueuedMessage site = mta_->queue[0];
  site.queue_id = "5SiTe";
  site.recipients[0].address = "y@transport-only.example";
  mta_->queue.push_back(site);
  mta_->transports = {{"x@slow.example", "slowlane"}, {"y@transport-only.example", "etrn-only"}};
  ASSERT_EQ(sweep_at(config_, *mta_, -99), 0);
  EXPECT_EQ(count_calls(*mta_, "transports 2"), 1) << "both asked, at once";
  auto db = open_db();
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_audit"), 1);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_audit WHERE queue_id = '5SiTe'"), 1);
  ASSERT_EQ(sweep_at(config_, *mta_, 0), 0);
  EXPECT_EQ(mta_->queue.size(), 1u) << "the site's mail expired; the other stays the MTA's";
  EXPECT_EQ(mta_->queue[0].queue_id, "4AbC1");
}

TEST_F(SweepCommandTest, RecipientsTheMtaExpandedAreFollowedThroughTheEnvelope) {
  config_.etrn_transports = {"etrn-only"};
  ASSERT_EQ(sweep_at(config_, *mta_, -99), 0) << "bob adopted";
  QueuedMessage& q = mta_->queue[0];
  q.recipients = {{"a@customer.example"}, {"b@customer.example"}, {"copy@transport-only.example"}};
  QueuedEnvelope e;
  e.envelope.sender = q.sender;
  e.recipients = {{"a@customer.example", {}, "bob@customer.example"},
                  {"b@customer.example", {}, "bob@customer.example"},
                  {"copy@transport-only.example", {}, "copy@transport-only.example"}};
  mta_->envelopes[q.queue_id] = e;
  mta_->transports = {{"copy@transport-only.example", "etrn-only"}};
  std::filesystem::remove(dir_ / "calls.log");
  ASSERT_EQ(sweep_at(config_, *mta_, -98), 0);
  EXPECT_EQ(count_calls(*mta_, "read_envelopes 1"), 1);
  auto db = open_db();
  EXPECT_EQ(count_rows(*db,
                       "SELECT count(*) FROM etrn_audit WHERE recipient = "
                       "'bob@customer.example'"),
            0);
  EXPECT_EQ(count_rows(*db,
                       "SELECT count(*) FROM recipients WHERE orcpt = "
                       "'rfc822;bob@customer.example' AND state = 'queued'"),
            2);
  EXPECT_EQ(count_rows(*db,
                       "SELECT count(*) FROM etrn_events WHERE kind = 'expanded' AND "
                       "detail = 'queued by the MTA as a@customer.example b@customer.example'"),
            1);
  EXPECT_EQ(count_rows(*db,
                       "SELECT count(*) FROM etrn_events WHERE kind = 'adopted' AND "
                       "recipient = 'copy@transport-only.example'"),
            1);
  std::filesystem::remove(dir_ / "calls.log");
  ASSERT_EQ(sweep_at(config_, *mta_, -97), 0);
  EXPECT_EQ(count_calls(*mta_, "read_envelopes"), 0) << "they agree now";
  ASSERT_EQ(sweep_at(config_, *mta_, 0), 0);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_audit WHERE state = 'expired'"), 3);
  EXPECT_TRUE(mta_->queue.empty());
}

}  // namespace
}  // namespace etrn
