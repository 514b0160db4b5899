// quiet_records.hpp - leaving quiet messages out of a sweep's memory.
//
// Nearly every message of a large queue needs nothing in a given run: its
// record says what the listing says, and no deadline is due. Holding both
// its record and its queue entry in the PlanInput made a 1M-message sweep
// need 1.5 GB. The sweep instead reads the records first and keeps here,
// in a compact form, each one the planner would leave untouched if the
// listing showed it as recorded (quiet_if_listed_as_recorded); then, while
// the MTA lists its queue, each entry is offered: the one entry that shows
// such a record exactly as recorded is dropped, and everything else is
// kept. What was not settled that way is read in full afterwards
// (to_load()) and planned as before.
//
// Dropping is undone, never guessed at: a second entry for a record whose
// entry was dropped (the listing showed the queue ID twice) makes
// must_start_again() true, and the sweep gathers again keeping everything.
// A split does too (Plan::has_split): it looks for copies among all entries.
//
// Pure: no database, no MTA.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.hpp"
#include "common/model/queued_message.hpp"
#include "common/model/recorded_message.hpp"
#include "sweeper/plan.hpp"
#include "sweeper/planner.hpp"

namespace etrn {

class QuietRecords {
 public:
  // Room for this many records (the open ones): no rehashing on the way.
  explicit QuietRecords(std::size_t expected);

  // A record quiet_if_listed_as_recorded said yes to.
  void add(const RecordedMessage& r);
  // A record kept in full: entries with its queue ID are kept, and quiet
  // records with the same queue ID are read in full too.
  void add_followed(const RecordedMessage& r);

  // Drop (true) or keep (false) this entry of the listing.
  bool drop(const QueuedMessage& entry);

  // An entry came for a record whose entry was dropped already: gather again.
  bool must_start_again() const { return start_again_; }
  // The records to read in full: never shown by the listing (absent), or
  // shown other than as recorded.
  std::vector<std::int64_t> to_load() const;
  // Dropped entries of records whose MTA arrival time is not stored yet.
  const std::vector<ArrivalToStore>& arrivals() const { return arrivals_; }
  std::size_t dropped() const { return dropped_; }

 private:
  enum class Seen : std::uint8_t { not_yet, dropped, load, followed };
  struct Quiet {
    std::string queue_id;
    std::string addresses;  // the recipients' addresses in record order, each ended by '\n'
    std::int64_t id = 0;
    std::optional<EpochSeconds> mta_arrival_time;
    EpochSeconds match_reference = 0;
    Seen seen = Seen::not_yet;
  };
  static bool listed_as_recorded(const Quiet& q, const QueuedMessage& entry);
  void insert(Quiet q);
  void place(std::uint32_t index);
  // Calls f(Quiet&) for each record with this queue ID.
  template <typename F>
  void for_each_with(std::string_view queue_id, F&& f);
  void load_all(std::string_view queue_id);

  // By queue ID, with open addressing: a 100k-record node-based map spent
  // more time in cache misses than the rest of this file together. Each
  // slot holds a hash's top 32 bits and index + 1 into records_ (0: empty).
  std::vector<Quiet> records_;
  std::vector<std::uint64_t> slots_;
  std::vector<ArrivalToStore> arrivals_;
  std::size_t dropped_ = 0;
  bool start_again_ = false;
};

// Where read_all_but_the_quiet reads: the open records and the listing,
// each handing its items over one at a time, and the records by id.
template <typename T>
using Source = std::function<void(const std::function<void(T&&)>&)>;
struct QuietSources {
  std::size_t open_records = 0;  // how many (room is made for them)
  Source<RecordedMessage> records;
  Source<QueuedMessage> listing;
  std::function<std::vector<RecordedMessage>(std::vector<std::int64_t>)> load;
};

// Fills input.recorded (in id order), input.queue (in listing order),
// input.arrivals and input.left_out, leaving out the quiet records and
// their entries; input.in_flight must be filled already. False, and
// nothing filled, when the listing showed a dropped record's queue ID
// again: read everything then.
bool read_all_but_the_quiet(const Config& config, PlanInput& input, const QuietSources& from);

}  // namespace etrn
