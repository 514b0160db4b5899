// runs_test.cpp - the runs table and the monitoring counts, on both engines.
#include "common/store/runs.hpp"

#include <gtest/gtest.h>

#include "common/store/records.hpp"
#include "tests/unit/common/store/test_database.hpp"

namespace etrn {
namespace {

using testing::sample_message;
class RunsTest : public testing::EngineTest {};
ETRN_ON_BOTH_ENGINES(RunsTest);

TEST_P(RunsTest, ARunIsSeenFromItsStartAndCompletedAtItsEnd) {
  auto db = open_db();
  const std::int64_t id = begin_run(*db, 1000, 2000);
  std::vector<RunRow> runs = recent_runs(*db, 10);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].started_at, 1000);
  EXPECT_EQ(runs[0].acted_as, 2000);
  EXPECT_FALSE(runs[0].exit_status);
  EXPECT_FALSE(runs[0].finished_at);
  EXPECT_FALSE(last_successful_run(*db));

  finish_run(*db, id, 1010, 0, RunCounts{.warned = 2, .expired = 3, .dsns_sent = 5}, "");
  runs = recent_runs(*db, 10);
  EXPECT_EQ(runs[0].finished_at, 1010);
  EXPECT_EQ(runs[0].exit_status, 0);
  EXPECT_EQ(runs[0].counts.expired, 3);
  EXPECT_EQ(runs[0].counts.dsns_sent, 5);
  ASSERT_TRUE(last_successful_run(*db));
  EXPECT_EQ(last_successful_run(*db)->id, id);
}

TEST_P(RunsTest, RecentRunsAreNewestFirstAndAFailureKeepsItsError) {
  auto db = open_db();
  finish_run(*db, begin_run(*db, 100, 100), 110, 1, {}, "");
  finish_run(*db, begin_run(*db, 200, 200), 210, 75, {}, "database busy: locked");
  begin_run(*db, 300, 300);
  const std::vector<RunRow> runs = recent_runs(*db, 2);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].started_at, 300);
  EXPECT_EQ(runs[1].exit_status, 75);
  EXPECT_EQ(runs[1].error, "database busy: locked");
  EXPECT_EQ(last_successful_run(*db)->started_at, 100) << "exit 1 swept: a person is needed";
}

TEST_P(RunsTest, RecordCountsByDomainAndStateWithTheOverdueOnes) {
  auto db = open_db();
  // sample_message: expires 48 h after arrival.
  std::vector<MessageToRecord> batch = {
      sample_message("Q1", 1000, {"a@one.example", "b@two.example"}),
      sample_message("Q2", 900000, {"c@one.example"})};
  ASSERT_TRUE(record_messages(*db, batch, RecordSource::milter, 1000));
  db->exec("UPDATE recipients SET state = 'attention' WHERE address = 'b@two.example'");
  const RecordCounts counts = record_counts(*db, 1000 + 48 * 3600 + 1);
  EXPECT_EQ((counts.recipients.at({"one.example", "queued"})), 2);
  EXPECT_EQ((counts.recipients.at({"two.example", "attention"})), 1);
  EXPECT_EQ(counts.overdue, 1) << "only Q1's queued recipient is past its deadline";
  EXPECT_EQ(counts.outbox_backlog, 0);
  EXPECT_TRUE(counts.dsns_sent.empty());
}

// Hosts sharing a store (issue 16): `check` and the metrics of one host
// see its own runs, records and outbox, and those that name no host.
TEST_P(RunsTest, EachHostSeesItsOwnRunsAndCounts) {
  auto mx1 = open_db();
  auto mx2 = open_db();
  mx1->work_for_instance("mx1.example");
  mx2->work_for_instance("mx2.example");
  finish_run(*mx1, begin_run(*mx1, 100, 100), 110, 0, {}, "");
  finish_run(*mx2, begin_run(*mx2, 200, 200), 210, 75, {}, "database busy: locked");
  ASSERT_EQ(recent_runs(*mx1, 10).size(), 1u) << "mx2's failed run is not mx1's";
  EXPECT_EQ(recent_runs(*mx1, 10)[0].started_at, 100);
  ASSERT_EQ(recent_runs(*mx2, 10).size(), 1u);
  EXPECT_EQ(recent_runs(*mx2, 10)[0].exit_status, 75);
  EXPECT_FALSE(last_successful_run(*mx2)) << "mx1's success is not mx2's";
  EXPECT_EQ(last_successful_run(*mx1)->started_at, 100);

  MessageToRecord theirs = sample_message("Q2", 1000, {"c@one.example"});
  theirs.message.instance = "mx2.example";
  ASSERT_TRUE(record_messages(*mx2, std::span<const MessageToRecord>(&theirs, 1),
                              RecordSource::milter, 1000));
  const RecordCounts mine = record_counts(*mx1, 1000 + 48 * 3600 + 1);
  EXPECT_TRUE(mine.recipients.empty());
  EXPECT_EQ(mine.overdue, 0);
  EXPECT_EQ(record_counts(*mx2, 1000 + 48 * 3600 + 1).overdue, 1);
}

// check --instance all judges each host that ran a sweep.
TEST_P(RunsTest, RunInstancesNamesEachHostThatRanAndTheUnnamedOnlyAlone) {
  auto db = open_db();
  EXPECT_TRUE(run_instances(*db).empty());
  finish_run(*db, begin_run(*db, 50, 50), 60, 0, {}, "");  // before schema 11: no name
  EXPECT_EQ(run_instances(*db), (std::vector<std::string>{""}));
  for (const char* host : {"mx2.example", "mx1.example", "mx2.example"}) {
    db->work_for_instance(host);
    finish_run(*db, begin_run(*db, 100, 100), 110, 0, {}, "");
  }
  EXPECT_EQ(run_instances(*db), (std::vector<std::string>{"mx1.example", "mx2.example"}))
      << "the unnamed runs count as each host's";
}

}  // namespace
}  // namespace etrn
