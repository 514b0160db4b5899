// sweep_store_test.cpp - the sweeper's queries on both engines:
// open messages, state changes with their events, adoption without
// duplicates, survivors moved to a re-injected copy, the outbox.
#include "common/store/sweep_store.hpp"

#include <gtest/gtest.h>

#include <set>

#include "common/store/schema.hpp"
#include "tests/unit/common/store/test_database.hpp"

namespace etrn {
namespace {

using testing::count_rows;
using testing::sample_message;

constexpr EpochSeconds kArrival = 1800000000;

class SweepStore : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    db_ = open_db();
    ASSERT_NE(db_, nullptr);
  }
  std::int64_t record(const std::string& queue_id, std::vector<std::string> addresses) {
    MessageToRecord item = sample_message(queue_id, kArrival, std::move(addresses));
    auto ids = record_messages(*db_, std::span<const MessageToRecord>(&item, 1),
                               RecordSource::milter, kArrival);
    EXPECT_TRUE(ids.ok());
    return ids ? ids->front() : 0;
  }
  std::int64_t events(const std::string& kind) {
    return count_rows(*db_, "SELECT count(*) FROM events WHERE kind = '" + kind + "'");
  }
  std::unique_ptr<Database> db_;
};
ETRN_ON_BOTH_ENGINES(SweepStore);

TEST_P(SweepStore, LoadsOpenMessagesWithTheirRecipients) {
  std::int64_t id = record("4AbC1", {"bob@customer.example", "carol@customer.example"});
  auto messages = load_open_messages(*db_);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].id, id);
  EXPECT_EQ(messages[0].match_reference, kArrival);
  ASSERT_EQ(messages[0].recipients.size(), 2u);
  EXPECT_EQ(messages[0].recipients[1].address, "carol@customer.example");
  EXPECT_EQ(messages[0].recipients[0].deadlines.expires_at, kArrival + 48 * 3600);
  mark_done(*db_, id, kArrival + 10);
  EXPECT_TRUE(load_open_messages(*db_).empty()) << "a done message is not loaded";
}

TEST_P(SweepStore, StreamsCountsAndLoadsByIdWhatLoadOpenMessagesLoads) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(record("4AbC" + std::to_string(i), {"bob@customer.example"}));
  mark_done(*db_, ids[1], kArrival + 10);
  std::vector<std::int64_t> streamed;
  for_each_open_message(*db_, [&](RecordedMessage&& m) { streamed.push_back(m.id); });
  EXPECT_EQ(streamed, (std::vector<std::int64_t>{ids[0], ids[2]}));
  EXPECT_EQ(count_open_messages(*db_), 2);
  const auto loaded = load_messages(*db_, {ids[2], ids[1]});  // done or not, in id order
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[0].id, ids[1]);
  EXPECT_EQ(loaded[1].queue_id, "4AbC2");
  EXPECT_EQ(loaded[1].recipients.at(0).address, "bob@customer.example");
  EXPECT_TRUE(load_messages(*db_, {}).empty());
}

TEST_P(SweepStore, StoresManyMtaArrivalTimesAtOnce) {
  std::vector<std::pair<std::int64_t, EpochSeconds>> arrivals;
  for (int i = 0; i < 5001; ++i)  // more than one statement's share
    arrivals.emplace_back(record("4Q" + std::to_string(i), {"bob@customer.example"}), kArrival + i);
  set_mta_arrivals(*db_, arrivals);
  const auto messages = load_open_messages(*db_);
  ASSERT_EQ(messages.size(), arrivals.size());
  for (std::size_t i = 0; i < messages.size(); ++i)
    ASSERT_EQ(messages[i].mta_arrival_time, kArrival + static_cast<EpochSeconds>(i)) << i;
}

TEST_P(SweepStore, NewDeadlinesReplaceTheRecordedOnes) {
  std::int64_t id = record("4AbC1", {"bob@customer.example"});
  std::int64_t rid = recipient_ids(*db_, id).at("bob@customer.example");
  const Deadlines want{std::nullopt, kArrival + 72 * 3600};
  update_deadlines(*db_, rid, want);
  const Deadlines got = load_open_messages(*db_).at(0).recipients.at(0).deadlines;
  EXPECT_EQ(got, want) << "got expires_at " << got.expires_at << ", warn_at "
                       << (got.warn_at ? std::to_string(*got.warn_at) : "none");
}

TEST_P(SweepStore, AStateChangeAppendsItsEvent) {
  std::int64_t id = record("4AbC1", {"bob@customer.example"});
  std::int64_t rid = recipient_ids(*db_, id).at("bob@customer.example");
  set_recipient_state(*db_, RecipientRef{rid, "4AbC1", "bob@customer.example"},
                      RecipientState::departed, "", 5);
  EXPECT_EQ(load_open_messages(*db_)[0].recipients[0].state, RecipientState::departed);
  EXPECT_EQ(events("departed"), 1);
}

TEST_P(SweepStore, AdoptionSkipsAMessageAlreadyRecorded) {
  record("4AbC1", {"bob@customer.example"});
  MessageToRecord again = sample_message("4AbC1", kArrival + 30, {"bob@customer.example"});
  EXPECT_FALSE(adopt_message(*db_, again, kArrival + 60).has_value());
  MessageToRecord reused = sample_message("4AbC1", kArrival + 7200, {"bob@customer.example"});
  auto id = adopt_message(*db_, reused, kArrival + 7300);
  ASSERT_TRUE(id.has_value()) << "same queue ID two hours later is another message";
  EXPECT_EQ(events("adopted"), 1);
  EXPECT_EQ(count_rows(*db_, "SELECT at FROM mta_arrivals WHERE message = " + std::to_string(*id)),
            kArrival + 7200);
}

TEST_P(SweepStore, SurvivorsMoveToTheReinjectedCopyKeepingTheirClock) {
  std::int64_t old_id = record("4AbC1", {"bob@customer.example", "carol@customer.example"});
  std::int64_t carol = recipient_ids(*db_, old_id).at("carol@customer.example");
  std::int64_t new_id = move_survivors(*db_, old_id, "5New1", {carol}, kArrival + 99);
  auto messages = load_open_messages(*db_);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1].id, new_id);
  EXPECT_EQ(messages[1].queue_id, "5New1");
  EXPECT_EQ(messages[1].arrival_time, kArrival) << "the original clock";
  EXPECT_EQ(messages[1].match_reference, kArrival + 99) << "matched against the re-injection time";
  ASSERT_EQ(messages[1].recipients.size(), 1u);
  EXPECT_EQ(messages[1].recipients[0].id, carol);
}

TEST_P(SweepStore, SurvivorsMergeWithTheMiltersRowForTheCopy) {
  std::int64_t old_id = record("4AbC1", {"bob@customer.example", "carol@customer.example"});
  std::int64_t carol = recipient_ids(*db_, old_id).at("carol@customer.example");
  MessageToRecord milter_row = sample_message("5New1", kArrival + 90, {"carol@customer.example"});
  auto ids = record_messages(*db_, std::span<const MessageToRecord>(&milter_row, 1),
                             RecordSource::milter, kArrival + 90);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(move_survivors(*db_, old_id, "5New1", {carol}, kArrival + 99), ids->front());
  EXPECT_EQ(
      count_rows(*db_, "SELECT count(*) FROM recipients WHERE address = 'carol@customer.example'"),
      1);
  EXPECT_EQ(count_rows(*db_, "SELECT arrival_time FROM messages WHERE queue_id = '5New1'"),
            kArrival);
}

TEST_P(SweepStore, MergeKeepsOneRecipientPerAddress) {
  std::int64_t keep = record("5New1", {"carol@customer.example"});
  MessageToRecord later =
      sample_message("5New1", kArrival + 50, {"carol@customer.example", "dan@customer.example"});
  auto drop = record_messages(*db_, std::span<const MessageToRecord>(&later, 1),
                              RecordSource::milter, kArrival);
  ASSERT_TRUE(drop.ok());
  merge_messages(*db_, keep, drop->front(), kArrival + 60);
  auto messages = load_open_messages(*db_);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].recipients.size(), 2u);
}

TEST_P(SweepStore, FinalizingAnOutboxRowChangesStatesOnce) {
  std::int64_t id = record("4AbC1", {"bob@customer.example"});
  std::int64_t bob = recipient_ids(*db_, id).at("bob@customer.example");
  OutboxRow row;
  {
    Transaction t(*db_);
    row.id = next_outbox_id(*db_);
    row.message_id = id;
    row.kind = DsnKind::failed;
    row.recipient_ids = {bob};
    row.dsn_message_id = "etrn-failed-1.4AbC1@mx.example";
    row.spool_path = dir_ / "outgoing/1.eml";
    insert_outbox(*db_, row);
    t.commit();
  }
  auto unsent = unsent_outbox(*db_);
  ASSERT_EQ(unsent.size(), 1u);
  EXPECT_EQ(unsent[0].sender, "alice@sender.example");
  EXPECT_EQ(unsent[0].recipient_ids, std::vector<std::int64_t>{bob});
  finalize_outbox(*db_, unsent[0], kArrival + 100);
  finalize_outbox(*db_, unsent[0], kArrival + 200);
  EXPECT_TRUE(unsent_outbox(*db_).empty());
  EXPECT_EQ(events("bounce_sent"), 1) << "finalizing twice appends nothing";
  EXPECT_EQ(events("expired"), 1);
  EXPECT_EQ(audit_rows(*db_, RecipientState::expired).size(), 1u);
  EXPECT_TRUE(audit_rows(*db_, RecipientState::queued).empty());
}

// Issue 15: a DSN whose recipient row went before it was finalized (a merge)
// still leaves its bounce_sent event: the history never hides a DSN sent.
TEST_P(SweepStore, AnOutboxRowWhoseRecipientRowWentStillLeavesAnEvent) {
  std::int64_t id = record("4AbC1", {"bob@customer.example"});
  OutboxRow row;
  {
    Transaction t(*db_);
    row.id = next_outbox_id(*db_);
    row.message_id = id;
    row.kind = DsnKind::delayed;
    row.recipient_ids = {9999};  // no such recipient row
    row.dsn_message_id = "etrn-delayed-1.4AbC1@mx.example";
    insert_outbox(*db_, row);
    t.commit();
  }
  auto unsent = unsent_outbox(*db_);
  ASSERT_EQ(unsent.size(), 1u);
  finalize_outbox(*db_, unsent[0], kArrival + 100);
  EXPECT_EQ(events("bounce_sent"), 1);
  EXPECT_EQ(events("warned"), 0) << "no recipient row to change";
}

// Several MX hosts share one store (issue 16): each host's sweeper sees
// and changes its own records only, and those that name no host.
class TwoInstances : public SweepStore {
 protected:
  void SetUp() override {
    SweepStore::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    db_->work_for_instance("mx1.example");
    other_ = open_db();
    ASSERT_NE(other_, nullptr);
    other_->work_for_instance("mx2.example");
  }
  std::int64_t record_on(Database& db, const std::string& queue_id, const std::string& instance) {
    MessageToRecord item = sample_message(queue_id, kArrival, {"bob@customer.example"});
    item.message.instance = instance;
    auto ids = record_messages(db, std::span<const MessageToRecord>(&item, 1), RecordSource::milter,
                               kArrival);
    EXPECT_TRUE(ids.ok());
    return ids ? ids->front() : 0;
  }
  OutboxRow outbox_row(Database& db, std::int64_t message, const std::string& tag) {
    OutboxRow row;
    Transaction t(db);
    row.id = next_outbox_id(db);
    row.message_id = message;
    row.recipient_ids = {recipient_ids(db, message).at("bob@customer.example")};
    row.dsn_message_id = "etrn-failed-" + tag + "@mx.example";
    insert_outbox(db, row);
    t.commit();
    return row;
  }
  std::vector<std::string> open_queue_ids(Database& db) {
    std::vector<std::string> ids;
    for (const RecordedMessage& m : load_open_messages(db)) ids.push_back(m.queue_id);
    return ids;
  }
  std::unique_ptr<Database> other_;
};
ETRN_ON_BOTH_ENGINES(TwoInstances);

TEST_P(SweepStore, OutboxIdsAreTakenAsManyAtATimeAndNeverTwice) {
  const std::vector<std::int64_t> first = next_outbox_ids(*db_, 3);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_TRUE(first[0] < first[1] && first[1] < first[2]);
  const std::int64_t message = record("4AbC1", {"bob@customer.example"});
  for (std::int64_t id : first) {
    OutboxRow row;
    row.id = id;
    row.message_id = message;
    row.dsn_message_id = "dsn-" + std::to_string(id);
    insert_outbox(*db_, row);
  }
  const std::vector<std::int64_t> next = next_outbox_ids(*db_, 250);
  ASSERT_EQ(next.size(), 250u);
  EXPECT_GT(next.front(), first.back());
  EXPECT_EQ(std::set<std::int64_t>(next.begin(), next.end()).size(), 250u);
}

// The sweep calls it for an SQLite store only: there every record is the host's.
TEST_P(TwoInstances, ATakeOverMakesOpenRecordsAndUnsentDsnsOfOtherNamesThisHosts) {
  record_on(*db_, "4Mx1", "mx1.example");
  const std::int64_t old_open = record_on(*other_, "4Old1", "old-name.example");
  record_on(*other_, "4Old2", "old-name.example");
  const std::int64_t old_done = record_on(*other_, "4Old3", "old-name.example");
  mark_done(*other_, old_done, kArrival + 5);
  record_on(*db_, "4None", "");
  outbox_row(*other_, old_open, "unsent");
  EXPECT_EQ(open_queue_ids(*db_), (std::vector<std::string>{"4Mx1", "4None"}));

  const auto renamed = take_over_renamed_host(*db_);
  EXPECT_EQ(renamed, (std::vector<std::pair<std::string, std::int64_t>>{{"old-name.example", 2}}));
  EXPECT_EQ(open_queue_ids(*db_), (std::vector<std::string>{"4Mx1", "4Old1", "4Old2", "4None"}));
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM messages WHERE instance = 'old-name.example'"),
            1)
      << "a closed message keeps the name it was closed under";
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM outbox WHERE instance = 'mx1.example'"), 1);
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM messages WHERE instance = ''"), 1);
  EXPECT_TRUE(take_over_renamed_host(*db_).empty()) << "nothing left to take over";
}

TEST_P(TwoInstances, EachHostLoadsItsOwnOpenRecordsAndThoseOfNoHost) {
  record_on(*db_, "4Mx1", "mx1.example");
  record_on(*other_, "4Mx2", "mx2.example");
  record_on(*db_, "4Old", "");  // written before schema 11
  EXPECT_EQ(open_queue_ids(*db_), (std::vector<std::string>{"4Mx1", "4Old"}));
  EXPECT_EQ(open_queue_ids(*other_), (std::vector<std::string>{"4Mx2", "4Old"}));
  EXPECT_EQ(count_open_messages(*db_), 2);
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM messages WHERE instance = 'mx2.example'"), 1);
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM etrn_events WHERE instance = 'mx1.example'"), 1)
      << "the milter's recorded event names its host";
}

TEST_P(TwoInstances, AdoptionMatchesOnlyThisHostsRecords) {
  record_on(*other_, "4Same", "mx2.example");
  MessageToRecord queued = sample_message("4Same", kArrival, {"bob@customer.example"});
  EXPECT_TRUE(adopt_message(*db_, queued, kArrival + 60).has_value())
      << "mx2's record of a queue ID is not mx1's queue file";
  EXPECT_FALSE(adopt_message(*db_, queued, kArrival + 120).has_value());
  EXPECT_EQ(count_rows(*db_,
                       "SELECT count(*) FROM messages WHERE instance = 'mx1.example'"
                       " AND source = 'adopted'"),
            1);
  EXPECT_EQ(open_queue_ids(*other_), std::vector<std::string>{"4Same"});
}

TEST_P(TwoInstances, EachHostsOutboxIsItsOwn) {
  const OutboxRow mine = outbox_row(*db_, record_on(*db_, "4Mx1", "mx1.example"), "1");
  const OutboxRow theirs = outbox_row(*other_, record_on(*other_, "4Mx2", "mx2.example"), "2");
  EXPECT_NE(mine.id, theirs.id);
  auto unsent = unsent_outbox(*db_);
  ASSERT_EQ(unsent.size(), 1u);
  EXPECT_EQ(unsent[0].id, mine.id);
  EXPECT_EQ(in_flight_recipient_ids(*db_), mine.recipient_ids);
  finalize_outbox(*db_, unsent[0], kArrival + 100);
  ASSERT_EQ(unsent_outbox(*other_).size(), 1u) << "mx1's recovery left mx2's DSN alone";
  EXPECT_EQ(unsent_outbox(*other_)[0].id, theirs.id);
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM outbox WHERE instance = 'mx2.example'"), 1);
  EXPECT_EQ(count_rows(*db_,
                       "SELECT count(*) FROM etrn_events WHERE kind = 'bounce_sent'"
                       " AND instance = 'mx1.example'"),
            1);
}

TEST_P(TwoInstances, AReinjectedCopyIsThisHostsAndTakesOnlyItsOwnMiltersRow) {
  const std::int64_t old_id = record_on(*db_, "4Old1", "mx1.example");
  record_on(*other_, "4New1", "mx2.example");  // another host's message, same queue ID
  const std::int64_t bob = recipient_ids(*db_, old_id).at("bob@customer.example");
  const std::int64_t copy = move_survivors(*db_, old_id, "4New1", {bob}, kArrival + 60);
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM messages WHERE id = " + std::to_string(copy) +
                                 " AND instance = 'mx1.example'"),
            1);
  EXPECT_EQ(open_queue_ids(*other_), std::vector<std::string>{"4New1"});
  EXPECT_EQ(load_open_messages(*other_).at(0).recipients.size(), 1u) << "mx2's row untouched";
}

TEST_P(SweepStore, WaitingRecipientsAreQueuedOrWarned) {
  std::int64_t id = record("4AbC1", {"bob@customer.example", "carol@x.example"});
  std::int64_t carol = recipient_ids(*db_, id).at("carol@x.example");
  set_recipient_state(*db_, RecipientRef{carol, "4AbC1", "carol@x.example"},
                      RecipientState::expired, "", 9);
  auto waiting = waiting_recipients(*db_);
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].domain, "customer.example");
  EXPECT_EQ(waiting[0].arrival_time, kArrival);
}

TEST_P(SweepStore, AMessageThatLeftTheQueueIsReopenedInTheStatesItHad) {
  const std::int64_t id = record("4AbC1", {"bob@customer.example", "carol@customer.example"});
  set_mta_arrival(*db_, id, kArrival + 1);
  const auto rids = recipient_ids(*db_, id);
  set_recipient_state(*db_, {rids.at("carol@customer.example"), "4AbC1", "carol@customer.example"},
                      RecipientState::warned, "", kArrival + 5);
  depart_recipient(*db_, {rids.at("bob@customer.example"), "4AbC1", "bob@customer.example"},
                   RecipientState::queued, "left the queue", kArrival + 9);
  depart_recipient(*db_, {rids.at("carol@customer.example"), "4AbC1", "carol@customer.example"},
                   RecipientState::warned, "left the queue", kArrival + 9);
  mark_done(*db_, id, kArrival + 9);

  EXPECT_FALSE(load_reopenable(*db_, "4AbC1", kArrival + 2)) << "another arrival time";
  EXPECT_FALSE(load_reopenable(*db_, "5OthR", kArrival + 1)) << "another queue ID";
  auto m = load_reopenable(*db_, "4AbC1", kArrival + 1);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->reopened);
  ASSERT_EQ(m->recipients.size(), 2u);
  EXPECT_EQ(m->recipients[0].state, RecipientState::queued);
  EXPECT_EQ(m->recipients[1].state, RecipientState::warned) << "the state before it departed";
  EXPECT_TRUE(m->recipients[0].reopened && m->recipients[1].reopened);

  reopen_message(*db_, id);
  reopen_recipient(*db_, {rids.at("carol@customer.example"), "4AbC1", "carol@customer.example"},
                   RecipientState::warned, "queued again", kArrival + 20);
  EXPECT_EQ(load_open_messages(*db_).size(), 1u);
  EXPECT_EQ(events("reopened"), 1);
  EXPECT_EQ(count_rows(*db_, "SELECT count(*) FROM recipients WHERE departed_from IS NOT NULL"), 1)
      << "bob not reopened yet";
}

// A message kept on hold for a person (attention) that a listing missed
// comes back in attention: reopened as queued it would be bounced again.
TEST_P(SweepStore, ARecipientInAttentionIsReopenedInAttention) {
  const std::int64_t id = record("4AbC1", {"bob@customer.example"});
  set_mta_arrival(*db_, id, kArrival + 1);
  const RecipientRef bob{recipient_ids(*db_, id).at("bob@customer.example"), "4AbC1",
                         "bob@customer.example"};
  set_recipient_state(*db_, bob, RecipientState::attention, "DSN refused", kArrival + 5);
  depart_recipient(*db_, bob, RecipientState::attention, "left the queue", kArrival + 9);
  mark_done(*db_, id, kArrival + 9);
  auto m = load_reopenable(*db_, "4AbC1", kArrival + 1);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->recipients.size(), 1u);
  EXPECT_EQ(m->recipients[0].state, RecipientState::attention);
}

TEST_P(SweepStore, ARecipientThatLeftItsQueuedMessageIsNotReopened) {
  const std::int64_t id = record("4AbC1", {"bob@customer.example"});
  set_mta_arrival(*db_, id, kArrival + 1);
  const std::int64_t rid = recipient_ids(*db_, id).at("bob@customer.example");
  depart_recipient(*db_, {rid, "4AbC1", "bob@customer.example"}, std::nullopt,
                   "no longer queued for this recipient", kArrival + 9);
  mark_done(*db_, id, kArrival + 9);
  EXPECT_FALSE(load_reopenable(*db_, "4AbC1", kArrival + 1))
      << "the queue file itself said it was delivered: sure";
}

TEST_P(SweepStore, ARecipientFollowsItsQueuedAddressAndMoreRowsJoinItsMessage) {
  const std::int64_t id = record("4AbC1", {"team@customer.example"});
  const std::int64_t rid = recipient_ids(*db_, id).at("team@customer.example");
  RecipientDsnParams dsn{Notify::parse("FAILURE"), "rfc822;team@customer.example"};
  follow_recipient(*db_, rid, RecipientRecord{"a@customer.example", "customer.example", dsn, ""});
  const std::int64_t added =
      add_recipient(*db_, id,
                    NewRecipient{RecipientRecord{"b@customer.example", "customer.example", dsn, ""},
                                 RecipientState::warned, Deadlines{std::nullopt, kArrival + 99}},
                    kArrival + 5);
  const auto m = load_open_messages(*db_).at(0);
  ASSERT_EQ(m.recipients.size(), 2u);
  EXPECT_EQ(m.recipients[0].id, rid);
  EXPECT_EQ(m.recipients[0].address, "a@customer.example");
  EXPECT_EQ(m.recipients[0].dsn.orcpt, "rfc822;team@customer.example");
  EXPECT_EQ(m.recipients[1].id, added);
  EXPECT_EQ(m.recipients[1].state, RecipientState::warned);
  EXPECT_EQ(m.recipients[1].deadlines.expires_at, kArrival + 99);
  EXPECT_EQ(m.recipients[1].dsn.notify.to_string(), "FAILURE");
}

}  // namespace
}  // namespace etrn
