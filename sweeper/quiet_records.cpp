// quiet_records.cpp - see quiet_records.hpp.
#include "sweeper/quiet_records.hpp"

#include <algorithm>

namespace etrn {

void QuietRecords::add(const RecordedMessage& r) {
  Quiet q;
  q.id = r.id;
  q.mta_arrival_time = r.mta_arrival_time;
  q.match_reference = r.match_reference;
  for (const RecordedRecipient& rec : r.recipients) q.addresses += rec.address + '\n';
  records_.emplace(r.queue_id, std::move(q));
}

void QuietRecords::add_followed(const RecordedMessage& r) {
  followed_.insert(r.queue_id);
}

// The same addresses, spelt the same, in the same order (the planner's
// listed_as_recorded, departed rows aside: a quiet record has none).
bool QuietRecords::listed_as_recorded(const Quiet& q, const QueuedMessage& entry) {
  std::string_view rest = q.addresses;
  for (const QueuedRecipient& r : entry.recipients) {
    const std::size_t end = rest.find('\n');
    if (end == std::string_view::npos || rest.substr(0, end) != r.address) return false;
    rest.remove_prefix(end + 1);
  }
  return rest.empty();
}

// Every quiet record with this queue ID is read in full; one whose entry
// was dropped already cannot be planned without it.
void QuietRecords::load_all(std::string_view queue_id) {
  auto [begin, end] = records_.equal_range(std::string(queue_id));
  for (auto it = begin; it != end; ++it) {
    if (it->second.seen == Seen::dropped) start_again_ = true;
    it->second.seen = Seen::load;
  }
}

bool QuietRecords::drop(const QueuedMessage& entry) {
  auto [begin, end] = records_.equal_range(entry.queue_id);
  if (begin == end) return false;
  if (std::next(begin) != end || followed_.contains(entry.queue_id)) {
    load_all(entry.queue_id);  // the planner matches and merges several records
    return false;
  }
  Quiet& q = begin->second;
  if (q.seen != Seen::not_yet) {
    if (q.seen == Seen::dropped) start_again_ = true;  // a second entry: which one matches?
    q.seen = Seen::load;
    return false;
  }
  if (entry.busy || entry.held ||
      !arrival_matches(q.mta_arrival_time, q.match_reference, entry.arrival_time) ||
      !listed_as_recorded(q, entry)) {
    q.seen = Seen::load;
    return false;
  }
  q.seen = Seen::dropped;
  ++dropped_;
  if (!q.mta_arrival_time) arrivals_.push_back({q.id, entry.arrival_time});
  return true;
}

std::vector<std::int64_t> QuietRecords::to_load() const {
  std::vector<std::int64_t> ids;
  for (const auto& [queue_id, q] : records_) {
    if (q.seen != Seen::dropped) ids.push_back(q.id);
  }
  return ids;
}

bool read_all_but_the_quiet(const Config& config, PlanInput& input, const QuietSources& from) {
  QuietRecords quiet(from.open_records);
  from.records([&](RecordedMessage&& r) {
    if (quiet_if_listed_as_recorded(config, input, r)) {
      quiet.add(r);
    } else {
      quiet.add_followed(r);
      input.recorded.push_back(std::move(r));
    }
  });
  from.listing([&](QueuedMessage&& entry) {
    if (!quiet.drop(entry)) input.queue.push_back(std::move(entry));
  });
  if (quiet.must_start_again()) {
    input.recorded.clear();
    input.queue.clear();
    return false;
  }
  for (RecordedMessage& r : from.load(quiet.to_load())) input.recorded.push_back(std::move(r));
  std::sort(input.recorded.begin(), input.recorded.end(),
            [](const RecordedMessage& a, const RecordedMessage& b) { return a.id < b.id; });
  input.arrivals = quiet.arrivals();
  input.left_out = quiet.dropped();
  return true;
}

}  // namespace etrn
