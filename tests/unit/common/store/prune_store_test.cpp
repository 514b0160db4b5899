// prune_store_test.cpp - pruning closed history and erasing one address's,
// on both engines: what goes, what stays (young, open, another
// message's), and the triggers that refuse every other delete.
#include "common/store/prune_store.hpp"

#include <gtest/gtest.h>

#include "common/store/runs.hpp"
#include "common/store/sweep_store.hpp"
#include "tests/unit/common/store/test_database.hpp"

namespace etrn {
namespace {

using testing::count_rows;
using testing::sample_message;

constexpr EpochSeconds kT0 = 1700000000;
constexpr EpochSeconds kCutoff = kT0 + 1000;

class PruneStore : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    db_ = open_db();
    ASSERT_NE(db_, nullptr);
  }
  std::int64_t record(const std::string& queue_id, EpochSeconds at,
                      std::vector<std::string> addresses,
                      const std::string& sender = "alice@sender.example") {
    MessageToRecord item = sample_message(queue_id, at, std::move(addresses));
    item.message.envelope.sender = sender;
    auto ids =
        record_messages(*db_, std::span<const MessageToRecord>(&item, 1), RecordSource::milter, at);
    EXPECT_TRUE(ids.ok());
    return ids ? ids->front() : 0;
  }
  // Every recipient bounced through a sent failure DSN at `at`, and the message done.
  void expire_all(std::int64_t message, EpochSeconds at) {
    OutboxRow row;
    Transaction t(*db_);
    row.id = next_outbox_id(*db_);
    row.message_id = message;
    for (const auto& [address, id] : recipient_ids(*db_, message)) row.recipient_ids.push_back(id);
    row.dsn_message_id = "dsn-" + std::to_string(row.id);
    insert_outbox(*db_, row);
    t.commit();
    for (const OutboxRow& unsent : unsent_outbox(*db_))
      if (unsent.id == row.id) finalize_outbox(*db_, unsent, at);
    mark_done(*db_, message, at);
  }
  std::int64_t rows(const std::string& sql) { return count_rows(*db_, sql); }
  std::int64_t events_of(const std::string& queue_id) {
    return rows("SELECT count(*) FROM events WHERE queue_id = '" + queue_id + "'");
  }
  std::unique_ptr<Database> db_;
};
ETRN_ON_BOTH_ENGINES(PruneStore);

TEST_P(PruneStore, DeletesAClosedMessageOlderThanTheCutoffWithEverythingOfIt) {
  const std::int64_t id = record("Q1", kT0, {"bob@customer.example", "carol@customer.example"});
  set_mta_arrival(*db_, id, kT0 + 1);
  expire_all(id, kT0 + 10);
  ASSERT_GE(events_of("Q1"), 4) << "recorded, bounce_sent, expired per recipient";
  const PruneCounts counted = count_closed_history(*db_, kCutoff);
  const PruneResult result = prune_closed_history(*db_, kCutoff, PruneLimits{}, kCutoff + 5);
  EXPECT_TRUE(result.finished);
  EXPECT_EQ(result.deleted.messages, 1);
  EXPECT_EQ(result.deleted.recipients, 2);
  EXPECT_EQ(result.deleted.outbox, 1);
  EXPECT_EQ(result.deleted.events, 6);
  EXPECT_EQ(to_string(counted), to_string(result.deleted)) << "the dry run's count";
  EXPECT_EQ(rows("SELECT count(*) FROM messages"), 0);
  EXPECT_EQ(rows("SELECT count(*) FROM recipients"), 0);
  EXPECT_EQ(rows("SELECT count(*) FROM outbox"), 0);
  EXPECT_EQ(rows("SELECT count(*) FROM mta_arrivals"), 0);
  EXPECT_EQ(events_of("Q1"), 0);
  EXPECT_EQ(rows("SELECT count(*) FROM etrn_events WHERE kind = 'pruned' AND detail LIKE "
                 "'%before 2023-11-14T22:30:00Z: 1 message(s), 2 recipient(s), 6 event(s)%'"),
            1)
      << "the prune itself is in the history";
  EXPECT_EQ(rows("SELECT count(*) FROM prune_permit"), 0) << "no permit is ever committed";
}

// The runs table (check, metrics) is monitoring data: runs that started
// before the cutoff go with the history, the later ones stay.
TEST_P(PruneStore, RunsThatStartedBeforeTheCutoffGoToo) {
  finish_run(*db_, begin_run(*db_, kCutoff - 100, kCutoff - 100), kCutoff - 90, 0, {}, "");
  begin_run(*db_, kCutoff - 50, kCutoff - 50);  // killed: no end
  finish_run(*db_, begin_run(*db_, kCutoff + 10, kCutoff + 10), kCutoff + 20, 75, {}, "busy");
  EXPECT_EQ(count_closed_history(*db_, kCutoff).runs, 2);
  const PruneResult result = prune_closed_history(*db_, kCutoff, PruneLimits{}, kCutoff + 30);
  EXPECT_EQ(result.deleted.runs, 2);
  EXPECT_EQ(rows("SELECT count(*) FROM runs WHERE started_at > " + std::to_string(kCutoff)), 1);
  EXPECT_NE(to_string(result.deleted).find("2 run(s)"), std::string::npos);
}

// Hosts sharing a store (issue 16): each host's prune deletes its own
// closed history (and that of no host), never another host's. An SQLite
// file is one host's: there rows under another name (the host's earlier
// one) age out with the rest.
TEST_P(PruneStore, AHostPrunesOnlyItsOwnClosedHistoryAndRuns) {
  auto other = open_db();
  ASSERT_NE(other, nullptr);
  db_->work_for_instance("mx1.example");
  other->work_for_instance("mx2.example");
  expire_all(record("QOld", kT0, {"a@customer.example"}), kT0 + 10);  // no host: mx1's too
  db_.swap(other);  // mx2 records, expires and runs
  MessageToRecord theirs = sample_message("QMx2", kT0, {"b@customer.example"});
  theirs.message.instance = "mx2.example";
  auto id = record_messages(*db_, std::span<const MessageToRecord>(&theirs, 1),
                            RecordSource::milter, kT0);
  ASSERT_TRUE(id);
  expire_all(id->front(), kT0 + 10);
  finish_run(*db_, begin_run(*db_, kT0, kT0), kT0 + 5, 0, {}, "");
  db_.swap(other);
  if (!on_postgres()) {
    EXPECT_EQ(count_closed_history(*db_, kCutoff).messages, 2);
    const PruneResult all = prune_closed_history(*db_, kCutoff, PruneLimits{}, kCutoff + 5);
    EXPECT_EQ(all.deleted.messages, 2);
    EXPECT_EQ(all.deleted.runs, 1);
    EXPECT_EQ(rows("SELECT count(*) FROM messages"), 0);
    EXPECT_EQ(events_of("QMx2"), 0);
    return;
  }
  EXPECT_EQ(count_closed_history(*db_, kCutoff).messages, 1);
  const PruneResult result = prune_closed_history(*db_, kCutoff, PruneLimits{}, kCutoff + 5);
  EXPECT_EQ(result.deleted.messages, 1);
  EXPECT_EQ(result.deleted.runs, 0) << "mx2's run is mx2's to prune";
  EXPECT_EQ(rows("SELECT count(*) FROM messages WHERE queue_id = 'QMx2'"), 1);
  EXPECT_EQ(events_of("QMx2"), 3) << "recorded, bounce_sent, expired";
  EXPECT_EQ(rows("SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(rows("SELECT count(*) FROM events WHERE kind = 'pruned'"
                 " AND instance = 'mx1.example'"),
            1);
}

TEST_P(PruneStore, KeepsWhatIsYoungerThanTheCutoffOrStillOpen) {
  expire_all(record("Young", kT0, {"a@customer.example"}), kCutoff);  // closed at the cutoff
  record("Open", kT0, {"b@customer.example"});                        // still queued
  const std::int64_t attention = record("Held", kT0, {"c@customer.example"});
  set_recipient_state(*db_, *recipient_ref(*db_, recipient_ids(*db_, attention).begin()->second),
                      RecipientState::attention, "refused", kT0 + 5);
  const std::int64_t half = record("Half", kT0, {"d@customer.example", "e@customer.example"});
  depart_recipient(*db_, *recipient_ref(*db_, recipient_ids(*db_, half).at("d@customer.example")),
                   std::nullopt, "delivered", kT0 + 5);
  mark_done(*db_, half, kT0 + 5);  // done, but e is still queued
  const std::int64_t late = record("Late", kT0, {"f@customer.example"});
  depart_recipient(*db_, *recipient_ref(*db_, recipient_ids(*db_, late).begin()->second),
                   std::nullopt, "delivered", kCutoff + 1);
  mark_done(*db_, late, kT0 + 5);  // done long ago, but its recipient changed since
  const std::int64_t unsent = record("Unsent", kT0, {"g@customer.example"});
  {
    Transaction t(*db_);
    OutboxRow row;
    row.id = next_outbox_id(*db_);
    row.message_id = unsent;
    row.dsn_message_id = "dsn-unsent";
    insert_outbox(*db_, row);
    t.commit();
  }
  mark_done(*db_, unsent, kT0 + 5);  // its DSN is still to be sent
  const std::int64_t before = rows("SELECT count(*) FROM events");

  EXPECT_TRUE(count_closed_history(*db_, kCutoff).empty());
  const PruneResult result = prune_closed_history(*db_, kCutoff, PruneLimits{}, kCutoff + 5);
  EXPECT_TRUE(result.deleted.empty()) << to_string(result.deleted);
  EXPECT_EQ(rows("SELECT count(*) FROM messages"), 6);
  EXPECT_EQ(rows("SELECT count(*) FROM events"), before) << "not even a `pruned` event";
}

TEST_P(PruneStore, EventsOfAReusedQueueIdStayWithTheMessageThatOwnsThem) {
  expire_all(record("Q1", kT0, {"bob@customer.example"}), kT0 + 10);
  const std::int64_t reused = record("Q1", kT0 + 100, {"carol@customer.example"});
  EXPECT_EQ(prune_closed_history(*db_, kCutoff, PruneLimits{}, kCutoff).deleted.events, 0)
      << "an open message has the queue ID: none of its events goes";
  EXPECT_EQ(rows("SELECT count(*) FROM messages"), 1) << "the old closed message went";
  expire_all(reused, kCutoff + 10);  // closed, but after the cutoff
  const PruneResult result = prune_closed_history(*db_, kCutoff, PruneLimits{}, kCutoff + 20);
  EXPECT_EQ(result.deleted.messages, 0);
  EXPECT_EQ(rows("SELECT count(*) FROM events WHERE queue_id = 'Q1' AND at < " +
                 std::to_string(kT0 + 100)),
            3)
      << "the pruned message's events wait for the reused ID's message to go";
  EXPECT_EQ(count_closed_history(*db_, kCutoff + 100).events, 7);
  EXPECT_EQ(prune_closed_history(*db_, kCutoff + 100, PruneLimits{}, kCutoff + 200).deleted.events,
            7)
      << "both messages' three each, and the first prune's `pruned` event";
  EXPECT_EQ(events_of("Q1"), 0);
}

TEST_P(PruneStore, EventsOlderThanTheCutoffOfNoRecordedMessageGoTooButNotAnErasuresRecord) {
  record("Open", kT0, {"bob@customer.example"});
  for (const auto& [queue_id, at] : std::vector<std::pair<std::string, EpochSeconds>>{
           {"Gone", kT0}, {"GoneYoung", kCutoff}, {"Open", kT0 - 10}}) {
    append_event(*db_, at, queue_id, "bob@customer.example", "departed", "");
  }
  append_event(*db_, kT0, "", "", "pruned", "an earlier prune");
  append_event(*db_, kT0, "", "", "erased", "an erasure");
  EXPECT_EQ(count_closed_history(*db_, kCutoff).events, 2);
  const PruneResult result = prune_closed_history(
      *db_, kCutoff, PruneLimits{.batch = 1, .time_budget = std::nullopt}, kCutoff);
  EXPECT_TRUE(result.finished);
  EXPECT_EQ(result.deleted.events, 2);
  EXPECT_EQ(events_of("Gone"), 0);
  EXPECT_EQ(rows("SELECT count(*) FROM events WHERE kind = 'erased'"), 1) << "kept for good";
  EXPECT_EQ(
      rows("SELECT count(*) FROM events WHERE kind = 'pruned' AND at = " + std::to_string(kT0)), 0);
  EXPECT_EQ(events_of("GoneYoung"), 1) << "younger than the cutoff";
  EXPECT_EQ(events_of("Open"), 2) << "an open message's queue ID";
}

TEST_P(PruneStore, WorksInBatchesAndStopsWhenItsTimeIsUp) {
  for (int i = 0; i < 5; ++i)
    expire_all(record("Q" + std::to_string(i), kT0, {"bob@customer.example"}), kT0 + 10);
  const PruneResult out_of_time = prune_closed_history(
      *db_, kCutoff, PruneLimits{.batch = 2, .time_budget = std::chrono::seconds(0)}, kCutoff);
  EXPECT_FALSE(out_of_time.finished);
  EXPECT_TRUE(out_of_time.deleted.empty());
  EXPECT_EQ(count_closed_history(*db_, kCutoff).messages, 5);
  EXPECT_EQ(rows("SELECT count(*) FROM messages"), 5) << "counting deletes nothing";
  const PruneResult all = prune_closed_history(
      *db_, kCutoff, PruneLimits{.batch = 2, .time_budget = std::nullopt}, kCutoff);
  EXPECT_TRUE(all.finished);
  EXPECT_EQ(all.deleted.messages, 5);
  EXPECT_EQ(rows("SELECT count(*) FROM messages"), 0);
}

TEST_P(PruneStore, OutsideAPruneNoClosedRecordCanBeDeletedAndNoEventChanged) {
  const std::int64_t id = record("Q1", kT0, {"bob@customer.example"});
  expire_all(id, kT0 + 10);
  for (const char* sql :
       {"DELETE FROM events WHERE queue_id = 'Q1'", "UPDATE events SET detail = 'forged'",
        "DELETE FROM recipients", "DELETE FROM outbox", "DELETE FROM messages"}) {
    EXPECT_THROW(db_->exec(sql), DatabaseError) << sql;
  }
  EXPECT_EQ(rows("SELECT count(*) FROM recipients"), 1);
  EXPECT_EQ(rows("SELECT count(*) FROM outbox"), 1);
}

// Each statement refused inside the permit's transaction is tried in a
// savepoint of its own: PostgreSQL refuses all that follows a failed
// statement in a transaction until it rolls back to a savepoint.
TEST_P(PruneStore, APermitLetsOnlyRowsOlderThanItsCutoffGo) {
  expire_all(record("Q1", kT0, {"bob@customer.example"}), kT0 + 10);
  record("Q2", kT0, {"carol@customer.example"});  // open
  Transaction t(*db_);
  auto attempt = [this](const std::string& sql) {
    Transaction savepoint(*db_);
    db_->exec(sql);
    savepoint.commit();
  };
  attempt("INSERT INTO prune_permit (cutoff) VALUES (" + std::to_string(kT0 + 5) + ")");
  EXPECT_THROW(attempt("DELETE FROM recipients WHERE address = 'bob@customer.example'"),
               DatabaseError)
      << "closed after the permit's cutoff";
  EXPECT_THROW(attempt("DELETE FROM events WHERE queue_id = 'Q2'"), DatabaseError)
      << "an open message's events";
  EXPECT_THROW(attempt("UPDATE events SET detail = 'forged'"), DatabaseError);
  attempt("UPDATE prune_permit SET cutoff = " + std::to_string(kCutoff));
  EXPECT_THROW(attempt("DELETE FROM events WHERE queue_id = 'Q2'"), DatabaseError);
  EXPECT_THROW(attempt("DELETE FROM messages WHERE queue_id = 'Q2'"), DatabaseError)
      << "an open message";
  EXPECT_NO_THROW(attempt("DELETE FROM events WHERE queue_id = 'Q1'"));
  EXPECT_EQ(rows("SELECT count(*) FROM events WHERE queue_id = 'Q1'"), 0);
}

TEST_P(PruneStore, ErasesOneAddresssClosedHistoryAndSaysSoWithoutNamingIt) {
  const std::int64_t shared = record("Q1", kT0, {"bob@customer.example", "carol@customer.example"});
  expire_all(shared, kCutoff + 10);  // young: erasure ignores age
  expire_all(record("Q2", kT0, {"dave@customer.example"}, "Bob@Customer.Example"), kCutoff + 10);
  record("Q3", kT0, {"bob@customer.example"});  // open: protects queued mail

  const ErasureResult dry = erase_address(*db_, "BOB@customer.example", kCutoff + 20, true);
  EXPECT_EQ(dry.deleted.recipients, 2);
  EXPECT_EQ(rows("SELECT count(*) FROM recipients"), 4) << "a dry run deletes nothing";

  const ErasureResult result = erase_address(*db_, "BOB@customer.example", kCutoff + 20, false);
  EXPECT_EQ(result.kept_open, 1);
  EXPECT_EQ(result.deleted.messages, 1) << "the message bob sent";
  EXPECT_EQ(result.deleted.recipients, 2) << "bob on Q1, dave on Q2";
  EXPECT_EQ(rows("SELECT count(*) FROM recipients WHERE message = " + std::to_string(shared)), 1)
      << "carol stays";
  EXPECT_EQ(rows("SELECT count(*) FROM events WHERE queue_id = 'Q1' AND recipient = "
                 "'carol@customer.example'"),
            3);
  EXPECT_EQ(events_of("Q1"), 3) << "only carol's";
  EXPECT_EQ(events_of("Q2"), 0);
  EXPECT_EQ(events_of("Q3"), 1) << "the open message keeps its history";
  EXPECT_EQ(rows("SELECT count(*) FROM events WHERE kind = 'erased' AND queue_id = ''"), 1);
  EXPECT_EQ(rows("SELECT count(*) FROM messages WHERE sender LIKE 'bob%'"), 0);
  EXPECT_EQ(rows("SELECT count(*) FROM events WHERE kind <> 'recorded' AND"
                 " (recipient LIKE 'bob%' OR detail LIKE '%bob%')"),
            0)
      << "the erasure's own record does not name the address";
}

}  // namespace
}  // namespace etrn
