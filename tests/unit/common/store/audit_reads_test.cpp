// audit_reads_test.cpp - the look-ups on both engines: report's
// filters, and a message's story followed across a split's new queue ID,
// found by queue ID, address or Message-ID, with a reused queue ID kept out.
#include "common/store/audit_reads.hpp"

#include <gtest/gtest.h>

#include "tests/unit/common/store/test_database.hpp"

namespace etrn {
namespace {

using testing::sample_message;

constexpr EpochSeconds kArrival = 1800000000;

AuditFilter only_domain(std::string domain) {
  AuditFilter f;
  f.domain = std::move(domain);
  return f;
}

class AuditReads : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    db_ = open_db();
    ASSERT_NE(db_, nullptr);
  }
  std::int64_t record(const std::string& queue_id, std::vector<std::string> addresses,
                      EpochSeconds at = kArrival, const std::string& message_id = "<1@x>",
                      const std::string& instance = "") {
    MessageToRecord item = sample_message(queue_id, at, std::move(addresses));
    item.message.message_id = message_id;
    item.message.instance = instance;
    auto ids =
        record_messages(*db_, std::span<const MessageToRecord>(&item, 1), RecordSource::milter, at);
    EXPECT_TRUE(ids.ok());
    return ids ? ids->front() : 0;
  }
  std::vector<std::string> queue_ids_of(const MessageStory& story) {
    std::vector<std::string> ids;
    for (const StoryMessage& m : story.messages) ids.push_back(m.queue_id);
    return ids;
  }
  // A split at kArrival + 100: carol survives as 5New1, bob expires.
  void record_a_split() {
    const std::int64_t old_id = record("4AbC1", {"bob@customer.example", "carol@customer.example"});
    const std::int64_t carol = recipient_ids(*db_, old_id).at("carol@customer.example");
    move_survivors(*db_, old_id, "5New1", {carol}, kArrival + 100);
    append_event(*db_, kArrival + 101, "4AbC1", "bob@customer.example", "expired", "");
    append_event(*db_, kArrival + 200, "5New1", "carol@customer.example", "departed", "delivered");
  }
  std::unique_ptr<Database> db_;
};
ETRN_ON_BOTH_ENGINES(AuditReads);

TEST_P(AuditReads, EveryGivenFilterNarrowsTheReport) {
  record("4AbC1", {"bob@customer.example", "carol@other.example"});
  record("4AbC2", {"dave@customer.example"}, kArrival + 10);
  EXPECT_EQ(audit_rows(*db_, AuditFilter{}).size(), 3u);
  EXPECT_EQ(audit_rows(*db_, only_domain("Customer.Example")).size(), 2u)
      << "domains compare without case";
  AuditFilter by_queue_id;
  by_queue_id.queue_id = "4AbC2";
  EXPECT_EQ(audit_rows(*db_, by_queue_id).size(), 1u);
  AuditFilter since;
  since.changed_since = kArrival + 5;
  EXPECT_EQ(audit_rows(*db_, since).size(), 1u);
  AuditFilter limited = only_domain("customer.example");
  limited.limit = 1;
  const auto first = audit_rows(*db_, limited);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].queue_id, "4AbC1") << "the oldest first";
  AuditFilter expired;
  expired.state = RecipientState::expired;
  EXPECT_TRUE(audit_rows(*db_, expired).empty());
}

TEST_P(AuditReads, TheOriginalQueueIdFindsTheReinjectedCopyToo) {
  record_a_split();
  const MessageStory story = message_story(*db_, LookupKind::queue_id, "4AbC1");
  EXPECT_EQ(queue_ids_of(story), (std::vector<std::string>{"4AbC1", "5New1"}));
  std::vector<std::string> kinds;
  for (const StoryEvent& e : story.events) kinds.push_back(e.queue_id + " " + e.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"4AbC1 recorded", "4AbC1 recorded", "4AbC1 reinjected",
                                             "4AbC1 expired", "5New1 departed"}));
}

TEST_P(AuditReads, TheNewQueueIdLeadsBackToTheOriginal) {
  record_a_split();
  EXPECT_EQ(queue_ids_of(message_story(*db_, LookupKind::queue_id, "5New1")),
            (std::vector<std::string>{"4AbC1", "5New1"}));
}

TEST_P(AuditReads, AnAddressOrAMessageIdFindsTheMessage) {
  record_a_split();
  record("4Oth1", {"zed@customer.example"}, kArrival, "<2@x>");
  EXPECT_EQ(queue_ids_of(message_story(*db_, LookupKind::address, "CAROL@customer.example")),
            (std::vector<std::string>{"4AbC1", "5New1"}));
  EXPECT_EQ(queue_ids_of(message_story(*db_, LookupKind::message_id, "<2@x>")),
            (std::vector<std::string>{"4Oth1"}));
  EXPECT_EQ(message_story(*db_, LookupKind::address, "alice@sender.example").messages.size(), 3u)
      << "the sender of all three rows";
}

TEST_P(AuditReads, AReusedQueueIdKeepsItsOwnEvents) {
  record("4AbC1", {"bob@customer.example"});
  append_event(*db_, kArrival + 50, "4AbC1", "bob@customer.example", "departed", "delivered");
  record("4AbC1", {"zed@customer.example"}, kArrival + 5000, "<2@x>");
  const MessageStory story = message_story(*db_, LookupKind::message_id, "<2@x>");
  ASSERT_EQ(story.messages.size(), 1u);
  ASSERT_EQ(story.events.size(), 1u);
  EXPECT_EQ(story.events[0].recipient, "zed@customer.example");
}

TEST_P(AuditReads, AQueueIdReusedByTheCopyKeepsTheEarlierMessagesEventsOut) {
  const std::int64_t earlier = record("5New1", {"old@customer.example"}, kArrival - 500, "<0@x>");
  append_event(*db_, kArrival + 50, "5New1", "old@customer.example", "departed", "delivered");
  mark_done(*db_, earlier, kArrival + 50);
  record_a_split();  // 5New1 again, from kArrival + 100
  const MessageStory story = message_story(*db_, LookupKind::message_id, "<1@x>");
  EXPECT_EQ(queue_ids_of(story), (std::vector<std::string>{"4AbC1", "5New1"}));
  for (const StoryEvent& e : story.events)
    EXPECT_NE(e.recipient, "old@customer.example") << e.kind << " at " << e.at;
  EXPECT_EQ(story.events.size(), 5u);
}

// Two hosts share the store; Postfix's short queue IDs are inode numbers,
// so both may hold a 4AbC1 at once.
TEST_P(AuditReads, AnInstanceNarrowsTheReportAndTheStoryToOneHostAndTheUnnamed) {
  record("4AbC1", {"bob@customer.example"}, kArrival, "<a@x>", "mx1");
  record("4AbC1", {"carol@customer.example"}, kArrival + 1, "<b@x>", "mx2");
  record("4Old1", {"dave@customer.example"}, kArrival + 2, "<c@x>", "");  // before schema 11
  db_->work_for_instance("mx1");
  append_event(*db_, kArrival + 50, "4AbC1", "bob@customer.example", "departed", "delivered");
  db_->work_for_instance("mx2");
  append_event(*db_, kArrival + 60, "4AbC1", "carol@customer.example", "warned", "");

  auto recipients = [&](const std::optional<std::string>& instance) {
    AuditFilter f;
    f.instance = instance;
    std::vector<std::string> out;
    for (const AuditRow& r : audit_rows(*db_, f)) out.push_back(r.recipient + "@" + r.instance);
    return out;
  };
  EXPECT_EQ(recipients(std::nullopt),
            (std::vector<std::string>{"bob@customer.example@mx1", "carol@customer.example@mx2",
                                      "dave@customer.example@"}));
  EXPECT_EQ(recipients("mx2"),
            (std::vector<std::string>{"carol@customer.example@mx2", "dave@customer.example@"}));
  EXPECT_EQ(recipients("mx3"), (std::vector<std::string>{"dave@customer.example@"}));

  const MessageStory both = message_story(*db_, LookupKind::queue_id, "4AbC1");
  ASSERT_EQ(both.messages.size(), 2u);
  ASSERT_EQ(both.events.size(), 4u) << "recorded twice, departed on mx1, warned on mx2";
  for (const StoryEvent& e : both.events) {
    const bool bob = e.recipient == "bob@customer.example";
    EXPECT_EQ(e.instance, bob ? "mx1" : "mx2") << e.kind << " of " << e.recipient;
  }
  const MessageStory mx2 = message_story(*db_, LookupKind::queue_id, "4AbC1", "mx2");
  ASSERT_EQ(mx2.messages.size(), 1u);
  EXPECT_EQ(mx2.messages[0].instance, "mx2");
  EXPECT_EQ(mx2.messages[0].recipients.at(0).address, "carol@customer.example");
  for (const StoryEvent& e : mx2.events) EXPECT_EQ(e.instance, "mx2") << e.kind;
  EXPECT_EQ(mx2.events.size(), 2u);
  EXPECT_EQ(message_story(*db_, LookupKind::address, "bob@customer.example", "mx2").messages.size(),
            0u);

  EXPECT_EQ(waiting_recipients(*db_).size(), 3u);
  EXPECT_EQ(waiting_recipients(*db_, "mx1").size(), 2u) << "bob's, and dave's that names no host";
}

TEST_P(AuditReads, NothingRecordedIsAnEmptyStory) {
  const MessageStory story = message_story(*db_, LookupKind::queue_id, "4ZZZZ");
  EXPECT_TRUE(story.messages.empty());
  EXPECT_TRUE(story.events.empty());
}

TEST(ReinjectedAs, ReadsTheNewQueueIdFromTheEventsDetail) {
  EXPECT_EQ(reinjected_as("as 5New1").value_or(""), "5New1");
  EXPECT_FALSE(reinjected_as("as ").has_value());
  EXPECT_FALSE(reinjected_as("delivered").has_value());
}

}  // namespace
}  // namespace etrn
