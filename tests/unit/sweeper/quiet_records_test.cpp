// quiet_records_test.cpp - leaving quiet messages out of a sweep: which
// entries are dropped, which records are read in full afterwards, when the
// sweep must read everything again, and (the property that matters) that
// the plan made without them is the plan made with everything.
#include "sweeper/quiet_records.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "sweeper/planner.hpp"

namespace etrn {
namespace {

constexpr EpochSeconds kArrival = 1800000000;
constexpr EpochSeconds kHour = 3600;

Config etrn_config() {
  Config c;
  c.etrn_domains = {"customer.example"};
  c.warn_after = Seconds(4 * kHour);
  c.expire_after = Seconds(48 * kHour);
  return c;
}

// A record as the milter wrote it, with the deadlines etrn_config() gives.
RecordedMessage record(std::int64_t id, std::string queue_id, std::vector<std::string> addresses,
                       std::optional<EpochSeconds> mta_arrival = kArrival + 1) {
  RecordedMessage m;
  m.id = id;
  m.queue_id = std::move(queue_id);
  m.arrival_time = kArrival;
  m.match_reference = kArrival;
  m.mta_arrival_time = mta_arrival;
  m.recorded_at = kArrival;
  m.envelope.sender = "alice@sender.example";
  std::int64_t rid = id * 10;
  for (std::string& a : addresses) {
    RecordedRecipient r;
    r.id = ++rid;
    r.domain = a.substr(a.find('@') + 1);
    r.address = std::move(a);
    r.deadlines.warn_at = kArrival + 4 * kHour;
    r.deadlines.expires_at = kArrival + 48 * kHour;
    m.recipients.push_back(std::move(r));
  }
  return m;
}

QueuedMessage entry(std::string queue_id, std::vector<std::string> addresses,
                    EpochSeconds arrival = kArrival + 1) {
  QueuedMessage q;
  q.queue_name = "deferred";
  q.queue_id = std::move(queue_id);
  q.arrival_time = arrival;
  q.sender = "alice@sender.example";
  for (std::string& a : addresses) q.recipients.push_back({std::move(a)});
  return q;
}

TEST(QuietRecords, DropsTheOneEntryThatShowsAQuietRecordAsRecorded) {
  QuietRecords quiet(2);
  quiet.add(record(1, "4AbC1", {"bob@customer.example", "carol@customer.example"}));
  EXPECT_TRUE(quiet.drop(entry("4AbC1", {"bob@customer.example", "carol@customer.example"})));
  EXPECT_FALSE(quiet.drop(entry("4XyZ9", {"dave@customer.example"})));  // no record: kept
  EXPECT_EQ(quiet.dropped(), 1u);
  EXPECT_TRUE(quiet.to_load().empty());
  EXPECT_TRUE(quiet.arrivals().empty());  // its MTA arrival time is stored already
  EXPECT_FALSE(quiet.must_start_again());
}

TEST(QuietRecords, ADroppedEntryOfARecordWithoutItsMtaArrivalTimeGivesOneToStore) {
  QuietRecords quiet(1);
  quiet.add(record(1, "4AbC1", {"bob@customer.example"}, std::nullopt));
  EXPECT_TRUE(quiet.drop(entry("4AbC1", {"bob@customer.example"}, kArrival + 20)));
  EXPECT_EQ(quiet.arrivals(), (std::vector<ArrivalToStore>{{1, kArrival + 20}}));
}

TEST(QuietRecords, KeepsAnEntryThatShowsTheRecordOtherwiseAndLoadsTheRecord) {
  const std::vector<QueuedMessage> others = {
      entry("4AbC1", {"carol@customer.example", "bob@customer.example"}),  // another order
      entry("4AbC1", {"bob@customer.example"}),                            // one fewer
      entry("4AbC1", {"Bob@customer.example", "carol@customer.example"}),  // spelt otherwise
      entry("4AbC1", {"bob@customer.example", "carol@customer.example"},
            kArrival + 2 * kHour),  // a reused queue ID
  };
  for (const QueuedMessage& other : others) {
    QuietRecords quiet(1);
    quiet.add(record(1, "4AbC1", {"bob@customer.example", "carol@customer.example"}));
    EXPECT_FALSE(quiet.drop(other));
    EXPECT_EQ(quiet.to_load(), std::vector<std::int64_t>{1});
  }
  for (bool held : {false, true}) {
    QuietRecords quiet(1);
    quiet.add(record(1, "4AbC1", {"bob@customer.example"}));
    QueuedMessage busy_or_held = entry("4AbC1", {"bob@customer.example"});
    (held ? busy_or_held.held : busy_or_held.busy) = true;
    EXPECT_FALSE(quiet.drop(busy_or_held));
    EXPECT_EQ(quiet.to_load(), std::vector<std::int64_t>{1});
  }
}

TEST(QuietRecords, ARecordTheListingNeverShowedIsLoaded) {
  QuietRecords quiet(2);
  quiet.add(record(1, "4AbC1", {"bob@customer.example"}));
  quiet.add(record(2, "4AbC2", {"bob@customer.example"}));
  EXPECT_TRUE(quiet.drop(entry("4AbC2", {"bob@customer.example"})));
  EXPECT_EQ(quiet.to_load(), std::vector<std::int64_t>{1});
}

TEST(QuietRecords, SeveralRecordsWithOneQueueIdAreAllLoadedAndTheirEntriesKept) {
  QuietRecords quiet(2);
  quiet.add(record(1, "4AbC1", {"bob@customer.example"}));
  quiet.add(record(2, "4AbC1", {"bob@customer.example"}));
  EXPECT_FALSE(quiet.drop(entry("4AbC1", {"bob@customer.example"})));
  std::vector<std::int64_t> loaded = quiet.to_load();
  std::sort(loaded.begin(), loaded.end());
  EXPECT_EQ(loaded, (std::vector<std::int64_t>{1, 2}));

  QuietRecords followed(2);
  followed.add(record(1, "4AbC1", {"bob@customer.example"}));
  followed.add_followed(record(2, "4AbC1", {"bob@customer.example"}));
  EXPECT_FALSE(followed.drop(entry("4AbC1", {"bob@customer.example"})));
  EXPECT_EQ(followed.to_load(), std::vector<std::int64_t>{1});
}

TEST(QuietRecords, ASecondEntryForADroppedRecordMeansStartingAgain) {
  QuietRecords quiet(1);
  quiet.add(record(1, "4AbC1", {"bob@customer.example"}));
  EXPECT_TRUE(quiet.drop(entry("4AbC1", {"bob@customer.example"})));
  EXPECT_FALSE(quiet.must_start_again());
  EXPECT_FALSE(quiet.drop(entry("4AbC1", {"bob@customer.example"}, kArrival + 5)));
  EXPECT_TRUE(quiet.must_start_again());
}

TEST(QuietRecords, MakesRoomBeyondWhatItExpected) {
  QuietRecords quiet(0);
  for (int i = 1; i <= 1000; ++i)
    quiet.add(record(i, "4Q" + std::to_string(i), {"a@customer.example"}));
  for (int i = 1000; i >= 2; --i)
    EXPECT_TRUE(quiet.drop(entry("4Q" + std::to_string(i), {"a@customer.example"}))) << i;
  EXPECT_EQ(quiet.dropped(), 999u);
  EXPECT_EQ(quiet.to_load(), std::vector<std::int64_t>{1});
}

// ---- the plan without the quiet messages is the plan with everything ----

// What a message's plan decides, without pointers into one input or the other.
std::string summary_of(const MessagePlan& m) {
  std::string s = std::to_string(m.id) + " " + m.queue_id +
                  " queued=" + (m.queued ? m.queued->queue_id : "-") +
                  " adopt=" + std::to_string(m.adopt) + " reopen=" + std::to_string(m.reopen) +
                  " done=" + std::to_string(m.done) + " release=" + std::to_string(m.release) +
                  " forget=" + std::to_string(m.forget_hold) + " alone=" + m.left_alone_because +
                  " removal=" + std::string(to_string(m.removal));
  for (const RecipientPlan& r : m.recipients) {
    s += " [" + std::to_string(r.id) + " " + r.address +
         " action=" + std::to_string(static_cast<int>(r.action)) +
         " changed=" + std::to_string(r.deadlines_changed) + "]";
  }
  return s;
}

struct Compared {
  std::vector<std::string> full;     // plans of everything but the arrival-only ones
  std::vector<std::string> reduced;  // plans made without the quiet messages
  std::vector<ArrivalToStore> full_arrivals, reduced_arrivals;
};

Compared compare(const Config& config, EpochSeconds now, std::vector<RecordedMessage> records,
                 std::vector<QueuedMessage> listing, std::unordered_set<std::int64_t> in_flight,
                 bool* started_again = nullptr) {
  Compared c;
  PlanInput full;
  full.now = now;
  full.real_now = now;
  full.in_flight = in_flight;
  full.recorded = records;
  full.queue = listing;
  // The arrivals a plan stores and the summaries of its other changes.
  const auto split_up = [](const Plan& plan, std::vector<std::string>& changes,
                           std::vector<ArrivalToStore>& arrivals) {
    for (const MessagePlan& m : plan.messages) {
      MessagePlan without_arrival = m;
      without_arrival.record_mta_arrival = false;
      if (m.record_mta_arrival) arrivals.push_back({m.id, m.queued->arrival_time});
      if (without_arrival.changes_something()) changes.push_back(summary_of(m));
    }
    for (const ArrivalToStore& a : plan.arrivals) arrivals.push_back(a);
  };
  split_up(plan_sweep(config, full), c.full, c.full_arrivals);
  PlanInput reduced;
  reduced.now = now;
  reduced.real_now = now;
  reduced.in_flight = in_flight;
  QuietSources from;
  from.open_records = records.size();
  from.records = [&](const auto& each) {
    for (RecordedMessage r : records) each(std::move(r));
  };
  from.listing = [&](const auto& each) {
    for (QueuedMessage q : listing) each(std::move(q));
  };
  from.load = [&](const std::vector<std::int64_t>& ids) {
    std::vector<RecordedMessage> found;
    for (const RecordedMessage& r : records) {
      if (std::find(ids.begin(), ids.end(), r.id) != ids.end()) found.push_back(r);
    }
    return found;
  };
  const bool left_out = read_all_but_the_quiet(config, reduced, from);
  if (started_again) *started_again = !left_out;
  if (!left_out) return c;
  split_up(plan_sweep(config, reduced), c.reduced, c.reduced_arrivals);
  const auto by_id = [](const ArrivalToStore& a, const ArrivalToStore& b) { return a.id < b.id; };
  std::sort(c.full_arrivals.begin(), c.full_arrivals.end(), by_id);
  std::sort(c.reduced_arrivals.begin(), c.reduced_arrivals.end(), by_id);
  return c;
}

TEST(ReadAllButTheQuiet, PlansWhatEverythingWouldPlan) {
  std::vector<RecordedMessage> records = {
      record(1, "4Q1", {"a@customer.example"}),                        // quiet
      record(2, "4Q2", {"a@customer.example"}, std::nullopt),          // quiet, arrival to store
      record(3, "4W3", {"a@customer.example"}),                        // its warning is due (below)
      record(4, "4M4", {"a@customer.example", "b@customer.example"}),  // b no longer listed
      record(5, "4G5", {"a@customer.example"}),                        // gone from the queue
      record(6, "4D6", {"a@customer.example"}),                        // recorded twice: merged
      record(7, "4D6", {"a@customer.example"}),
      record(8, "4F8", {"a@customer.example"}),    // a DSN in the outbox
      record(9, "4R9", {"a@customer.example"}),    // its queue ID reused
      record(10, "4B10", {"a@customer.example"}),  // busy
  };
  records[2].arrival_time = kArrival - 10 * kHour;  // warn_at recomputed and due
  records[7].recipients[0].deadlines.warn_at = kArrival - kHour;
  std::vector<QueuedMessage> listing = {
      entry("4Q1", {"a@customer.example"}),
      entry("4Q2", {"a@customer.example"}, kArrival + 30),
      entry("4W3", {"a@customer.example"}),
      entry("4M4", {"a@customer.example"}),
      entry("4D6", {"a@customer.example"}),
      entry("4F8", {"a@customer.example"}),
      entry("4R9", {"a@customer.example"}, kArrival + 3 * kHour),
      entry("4B10", {"a@customer.example"}),
      entry("4N11", {"x@customer.example"}),  // unrecorded: a candidate for adoption
  };
  listing[7].busy = true;
  for (EpochSeconds now : {kArrival + kHour, kArrival + 5 * kHour, kArrival + 49 * kHour}) {
    const Compared c = compare(etrn_config(), now, records, listing, {81});
    EXPECT_EQ(c.reduced, c.full) << "at " << now;
    EXPECT_EQ(c.reduced_arrivals, c.full_arrivals) << "at " << now;
    EXPECT_FALSE(c.full.empty());
  }
}

TEST(ReadAllButTheQuiet, AChangedConfigurationMakesNothingQuiet) {
  Config changed = etrn_config();
  changed.expire_after = Seconds(72 * kHour);  // every recorded deadline changes
  const Compared c = compare(changed, kArrival + kHour, {record(1, "4Q1", {"a@customer.example"})},
                             {entry("4Q1", {"a@customer.example"})}, {});
  ASSERT_EQ(c.full.size(), 1u);
  EXPECT_EQ(c.reduced, c.full);
}

TEST(ReadAllButTheQuiet, AQueueIdListedTwiceAfterItsEntryWasDroppedStartsAgain) {
  bool started_again = false;
  compare(etrn_config(), kArrival + kHour, {record(1, "4Q1", {"a@customer.example"})},
          {entry("4Q1", {"a@customer.example"}), entry("4Q1", {"a@customer.example"}, kArrival)},
          {}, &started_again);
  EXPECT_TRUE(started_again);
}

}  // namespace
}  // namespace etrn
