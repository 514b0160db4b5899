// records_test.cpp - record_messages on both engines: rows
// visible through the audit views, batches, duplicates, and failures as
// Error values with nothing half-written; insert_messages inside a
// caller's transaction, failing by throwing.
#include "common/store/records.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

#include "tests/unit/common/store/test_database.hpp"

namespace etrn {
namespace {

using testing::count_rows;
using testing::sample_message;
class RecordsTest : public testing::EngineTest {
 protected:
  // A second connection that waits only 50 ms for a lock.
  std::unique_ptr<Database> impatient_writer() { return open_db(OpenMode::read_write, 50); }
};
ETRN_ON_BOTH_ENGINES(RecordsTest);

constexpr EpochSeconds kNow = 1'800'000'000;

TEST_P(RecordsTest, ARecordedMessageShowsInEtrnAudit) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::vector<MessageToRecord> batch = {
      sample_message("4XyZ1", kNow - 5, {"bob@customer.example"})};
  auto ids = record_messages(*db, batch, RecordSource::milter, kNow);
  ASSERT_TRUE(ids) << ids.error().message;
  ASSERT_EQ(ids->size(), 1u);

  Statement& audit = db->prepare(
      "SELECT queue_id, arrival_time, sender, recipient, domain, priority, state, expires_at,"
      " state_changed_at FROM etrn_audit");
  ASSERT_TRUE(audit.step()) << "no etrn_audit row";
  EXPECT_EQ(audit.column_text(0), "4XyZ1");
  EXPECT_EQ(audit.column_int(1), kNow - 5);
  EXPECT_EQ(audit.column_text(2), "alice@sender.example");
  EXPECT_EQ(audit.column_text(3), "bob@customer.example");
  EXPECT_EQ(audit.column_text(4), "customer.example");
  EXPECT_EQ(audit.column_text(5), "normal");
  EXPECT_EQ(audit.column_text(6), "queued");
  EXPECT_EQ(audit.column_int(7), kNow - 5 + 48 * 3600);
  EXPECT_EQ(audit.column_int(8), kNow);
  EXPECT_FALSE(audit.step()) << "want exactly one row";
}

TEST_P(RecordsTest, EachRecipientGetsARecordedEvent) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::vector<MessageToRecord> batch = {
      sample_message("4XyZ1", kNow, {"a@x.example", "b@y.example"})};
  ASSERT_TRUE(record_messages(*db, batch, RecordSource::milter, kNow));
  Statement& events = db->prepare(
      "SELECT at, queue_id, recipient, kind, detail FROM etrn_events ORDER BY recipient");
  ASSERT_TRUE(events.step());
  EXPECT_EQ(events.column_int(0), kNow);
  EXPECT_EQ(events.column_text(1), "4XyZ1");
  EXPECT_EQ(events.column_text(2), "a@x.example");
  EXPECT_EQ(events.column_text(3), "recorded");
  EXPECT_NE(events.column_text(4).find("expires_at=" + std::to_string(kNow + 48 * 3600)),
            std::string::npos)
      << "got detail " << events.column_text(4);
  ASSERT_TRUE(events.step());
  EXPECT_EQ(events.column_text(2), "b@y.example");
  EXPECT_FALSE(events.step());
}

TEST_P(RecordsTest, AdoptedMessagesGetAdoptedEventsAndSource) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::vector<MessageToRecord> batch = {sample_message("4XyZ1", kNow, {"a@x.example"})};
  ASSERT_TRUE(record_messages(*db, batch, RecordSource::adopted, kNow));
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM events WHERE kind = 'adopted'"), 1);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM messages WHERE source = 'adopted'"), 1);
}

TEST_P(RecordsTest, MessageColumnsAreStoredWithEmptyOptionalsAsNull) {
  auto db = open_db();
  ASSERT_TRUE(db);
  MessageToRecord item = sample_message("4XyZ1", kNow, {"a@x.example"});
  item.message.envelope.ret = ReturnContent::headers;
  item.message.envelope.smtputf8 = true;
  item.message.priority = Priority::non_urgent;
  item.message.recipients[0].dsn.notify = Notify::parse("NEVER");
  item.deadlines[0].warn_at = std::nullopt;
  std::vector<MessageToRecord> batch = {item};
  ASSERT_TRUE(record_messages(*db, batch, RecordSource::milter, kNow));
  EXPECT_EQ(count_rows(*db,
                       "SELECT count(*) FROM messages WHERE ret = 'HDRS' AND smtputf8 = 1"
                       " AND priority = 'non-urgent' AND envid IS NULL AND subject IS NULL"
                       " AND size = 1234 AND recorded_at = " +
                           std::to_string(kNow)),
            1);
  EXPECT_EQ(count_rows(*db,
                       "SELECT count(*) FROM recipients WHERE notify = 'NEVER' AND warn_at IS NULL"
                       " AND orcpt IS NULL AND mailer IS NULL"),
            1);
}

// Mail brings bytes that are not UTF-8 (a raw Latin-1 Subject:, an 8-bit
// address): PostgreSQL would refuse them, failing the whole batch every
// time it is retried. They are recorded, read back as they were, and found.
TEST_P(RecordsTest, BytesThatAreNotUtf8AreRecordedAndReadBackAsTheyWere) {
  auto db = open_db();
  ASSERT_TRUE(db);
  MessageToRecord odd = sample_message("8BIT1", kNow, {"bob@customer.example"});
  odd.message.subject = "caf\xe9 cr\xe8me";
  odd.message.envelope.sender = "j\xfcrgen@sender.example";
  const std::vector<MessageToRecord> batch = {odd, sample_message("PLAIN1", kNow, {"c@x.example"})};
  const auto ids = record_messages(*db, batch, RecordSource::milter, kNow);
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_EQ(ids->size(), 2u) << "the plain message of the batch is recorded too";
  Statement& s = db->prepare("SELECT subject FROM messages WHERE sender = ?1");
  s.bind(1, odd.message.envelope.sender);
  ASSERT_TRUE(s.step()) << "found by its 8-bit sender";
  EXPECT_EQ(s.column_text(0), odd.message.subject);
  s.reset();
}

TEST_P(RecordsTest, ABatchOfSeveralMessagesIsRecordedTogether) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::vector<MessageToRecord> batch = {sample_message("Q1", kNow, {"a@x.example"}),
                                        sample_message("Q2", kNow, {"b@x.example", "c@y.example"}),
                                        sample_message("Q3", kNow, {"d@z.example"})};
  auto ids = record_messages(*db, batch, RecordSource::milter, kNow);
  ASSERT_TRUE(ids) << ids.error().message;
  ASSERT_EQ(ids->size(), 3u);
  EXPECT_NE((*ids)[0], (*ids)[1]);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_audit"), 4);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_events"), 4);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM recipients WHERE message = " +
                                std::to_string((*ids)[1])),
            2);
}

TEST_P(RecordsTest, RecordingTheSameMessageAgainDoesNotDuplicateIt) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::vector<MessageToRecord> batch = {sample_message("Q1", kNow, {"a@x.example"})};
  auto first = record_messages(*db, batch, RecordSource::milter, kNow);
  auto second = record_messages(*db, batch, RecordSource::milter, kNow + 1);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->at(0), second->at(0)) << "want the existing row id";
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM messages"), 1);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_audit"), 1);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_events"), 1);
}

TEST_P(RecordsTest, ARetryWithAnExtraRecipientAddsOnlyThatRecipient) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::vector<MessageToRecord> first = {sample_message("Q1", kNow, {"a@x.example"})};
  std::vector<MessageToRecord> second = {
      sample_message("Q1", kNow, {"a@x.example", "b@x.example"})};
  ASSERT_TRUE(record_messages(*db, first, RecordSource::milter, kNow));
  ASSERT_TRUE(record_messages(*db, second, RecordSource::milter, kNow));
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM messages"), 1);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_audit"), 2);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_events WHERE recipient = 'b@x.example'"), 1);
}

TEST_P(RecordsTest, AReusedQueueIdWithANewArrivalTimeIsANewMessage) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::vector<MessageToRecord> first = {sample_message("Q1", kNow, {"a@x.example"})};
  std::vector<MessageToRecord> later = {sample_message("Q1", kNow + 86400, {"a@x.example"})};
  ASSERT_TRUE(record_messages(*db, first, RecordSource::milter, kNow));
  ASSERT_TRUE(record_messages(*db, later, RecordSource::milter, kNow + 86400));
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM messages WHERE queue_id = 'Q1'"), 2);
}

TEST_P(RecordsTest, ARepeatInsideOneBatchAddsOnlyItsNewRecipients) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::vector<MessageToRecord> earlier = {sample_message("Q0", kNow, {"z@x.example"})};
  ASSERT_TRUE(record_messages(*db, earlier, RecordSource::milter, kNow));
  std::vector<MessageToRecord> batch = {
      sample_message("Q1", kNow, {"a@x.example"}),
      sample_message("Q0", kNow, {"z@x.example", "y@x.example"}),
      sample_message("Q1", kNow, {"a@x.example", "b@x.example", "b@x.example"})};
  auto ids = record_messages(*db, batch, RecordSource::milter, kNow);
  ASSERT_TRUE(ids) << ids.error().message;
  ASSERT_EQ(ids->size(), 3u);
  EXPECT_EQ((*ids)[0], (*ids)[2]) << "want the same row for the repeat";
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM messages"), 2);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM recipients"), 4);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM events"), 4);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM recipients WHERE address = 'b@x.example'"), 1);
}

TEST_P(RecordsTest, QuotesBackslashesAndEightBitTextAreStoredAsGiven) {
  auto db = open_db();
  ASSERT_TRUE(db);
  MessageToRecord item = sample_message("Q1", kNow, {"\"o'd\\d\",{x}\"@x.example"});
  item.message.subject = "NULL";
  item.message.helo = "a \"b\" {c,d} \\ é";
  std::vector<MessageToRecord> batch = {item};
  ASSERT_TRUE(record_messages(*db, batch, RecordSource::milter, kNow));
  Statement& read = db->prepare("SELECT subject, helo, address FROM messages, recipients");
  ASSERT_TRUE(read.step());
  EXPECT_FALSE(read.column_is_null(0)) << "the subject NULL is text, not a NULL";
  EXPECT_EQ(read.column_text(0), "NULL");
  EXPECT_EQ(read.column_text(1), item.message.helo);
  EXPECT_EQ(read.column_text(2), item.message.recipients[0].address);
  read.reset();
}

// PostgreSQL writes a batch as a few statements over arrays: a full
// writer batch (1,000 records, 1,500 recipients) in well under a second
// rather than a round trip per row, with every row there.
TEST_P(RecordsTest, AWriterSizedBatchIsRecordedWhole) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::vector<MessageToRecord> batch;
  for (int i = 0; i < 1000; ++i) {
    std::vector<std::string> to = {"r" + std::to_string(i) + "@x.example"};
    if (i % 2 == 0) to.push_back("s" + std::to_string(i) + "@y.example");
    batch.push_back(sample_message("B" + std::to_string(i), kNow + i, to));
  }
  const auto started = std::chrono::steady_clock::now();
  auto ids = record_messages(*db, batch, RecordSource::milter, kNow);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(ids) << ids.error().message;
  ASSERT_EQ(ids->size(), 1000u);
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM messages"), 1000);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_audit"), 1500);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_events"), 1500);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM messages WHERE queue_id = 'B999' AND id = " +
                                std::to_string(ids->back()) +
                                " AND arrival_time = " + std::to_string(kNow + 999)),
            1)
      << "ids come back in the batch's order";
  EXPECT_EQ(count_rows(*db,
                       "SELECT count(*) FROM recipients AS r JOIN messages AS m ON m.id = r.message"
                       " WHERE r.address = 's998@y.example' AND m.queue_id = 'B998'"),
            1);
}

TEST_P(RecordsTest, AReadOnlyDatabaseGivesAnErrorAndWritesNothing) {
  { ASSERT_TRUE(open_db()); }
  auto db = open_db(OpenMode::read_only);
  ASSERT_TRUE(db);
  std::vector<MessageToRecord> batch = {sample_message("Q1", kNow, {"a@x.example"})};
  auto ids = record_messages(*db, batch, RecordSource::milter, kNow);
  ASSERT_FALSE(ids) << "recorded into a read-only database";
  EXPECT_NE(ids.error().message.find(on_postgres() ? "read-only" : "readonly"), std::string::npos)
      << ids.error().message;
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM messages"), 0);
}

TEST_P(RecordsTest, ABusyDatabaseGivesAnErrorAndTheBatchCanBeRetried) {
  auto holder = open_db();
  ASSERT_TRUE(holder);
  auto writer = impatient_writer();
  ASSERT_TRUE(writer);
  std::vector<MessageToRecord> batch = {sample_message("Q1", kNow, {"a@x.example"})};
  {
    testing::HeldWriteLock lock(*holder);
    auto ids = record_messages(*writer, batch, RecordSource::milter, kNow);
    ASSERT_FALSE(ids) << "recorded while another connection held the write lock";
    EXPECT_NE(ids.error().message.find(testing::busy_words(GetParam())), std::string::npos)
        << ids.error().message;
  }
  auto retry = record_messages(*writer, batch, RecordSource::milter, kNow);
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_EQ(count_rows(*holder, "SELECT count(*) FROM etrn_audit"), 1);
}

TEST_P(RecordsTest, AFailureInTheMiddleOfABatchRollsBackTheWholeBatch) {
  auto db = open_db();
  ASSERT_TRUE(db);
  MessageToRecord bad = sample_message("Q2", kNow, {"b@x.example"});
  db->exec(on_postgres()
               ? "CREATE FUNCTION fail_on_q2() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                 " IF NEW.queue_id = 'Q2' THEN RAISE EXCEPTION 'injected failure'; END IF;"
                 " RETURN NEW; END $$;"
                 " CREATE TRIGGER fail_on_q2 BEFORE INSERT ON messages"
                 " FOR EACH ROW EXECUTE FUNCTION fail_on_q2()"
               : "CREATE TRIGGER fail_on_q2 BEFORE INSERT ON messages WHEN NEW.queue_id = 'Q2'"
                 " BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  std::vector<MessageToRecord> batch = {sample_message("Q1", kNow, {"a@x.example"}), bad};
  auto ids = record_messages(*db, batch, RecordSource::milter, kNow);
  ASSERT_FALSE(ids);
  EXPECT_NE(ids.error().message.find("injected failure"), std::string::npos) << ids.error().message;
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM messages"), 0) << "Q1 was committed without Q2";
}

TEST_P(RecordsTest, MismatchedDeadlinesAreAnError) {
  auto db = open_db();
  ASSERT_TRUE(db);
  MessageToRecord item = sample_message("Q1", kNow, {"a@x.example"});
  item.deadlines.clear();
  std::vector<MessageToRecord> batch = {item};
  EXPECT_FALSE(record_messages(*db, batch, RecordSource::milter, kNow));
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM messages"), 0);
}

// insert_messages: a step of the caller's transaction, failing by throwing.

TEST_P(RecordsTest, InsertedMessagesGoWithTheCallersTransaction) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::vector<MessageToRecord> batch = {sample_message("Q1", kNow, {"a@x.example"})};
  {
    Transaction uncommitted(*db);
    EXPECT_EQ(insert_messages(*db, batch, RecordSource::adopted, kNow).size(), 1u);
  }
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM messages"), 0) << "kept after a rollback";
  {
    Transaction committed(*db);
    insert_messages(*db, batch, RecordSource::adopted, kNow);
    committed.commit();
  }
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM etrn_audit"), 1);
}

TEST_P(RecordsTest, InsertingIntoABusyDatabaseThrowsABusyError) {
  auto holder = open_db();
  ASSERT_TRUE(holder);
  auto writer = impatient_writer();
  ASSERT_TRUE(writer);
  std::vector<MessageToRecord> batch = {sample_message("Q1", kNow, {"a@x.example"})};
  testing::HeldWriteLock lock(*holder);
  try {
    insert_messages(*writer, batch, RecordSource::adopted, kNow);
    FAIL() << "inserted while another connection held the write lock";
  } catch (const DatabaseError& e) {
    EXPECT_TRUE(e.is_busy()) << "got code " << e.code() << " (" << e.what() << "), want busy";
  }
}

TEST_P(RecordsTest, InsertingMismatchedDeadlinesIsABug) {
  auto db = open_db();
  ASSERT_TRUE(db);
  MessageToRecord item = sample_message("Q1", kNow, {"a@x.example"});
  item.deadlines.clear();
  std::vector<MessageToRecord> batch = {item};
  EXPECT_THROW(insert_messages(*db, batch, RecordSource::adopted, kNow), std::invalid_argument);
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM messages"), 0);
}

TEST(RecordSourceTest, NamesMatchTheSchema) {
  EXPECT_EQ(to_string(RecordSource::milter), "milter");
  EXPECT_EQ(to_string(RecordSource::adopted), "adopted");
  EXPECT_EQ(to_string(RecordSource::reinjected), "reinjected");
}

}  // namespace
}  // namespace etrn
