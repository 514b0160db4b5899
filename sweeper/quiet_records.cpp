// quiet_records.cpp - see quiet_records.hpp.
#include "sweeper/quiet_records.hpp"

#include <algorithm>
#include <functional>

namespace etrn {

namespace {

std::size_t slots_for(std::size_t records) {
  std::size_t n = 16;
  while (n < 2 * records) n *= 2;  // at most half full
  return n;
}

std::uint64_t hash_of(std::string_view queue_id) {
  return std::hash<std::string_view>{}(queue_id);
}

}  // namespace

QuietRecords::QuietRecords(std::size_t expected) : slots_(slots_for(expected)) {
  records_.reserve(expected);
}

void QuietRecords::place(std::uint32_t index) {
  const std::uint64_t hash = hash_of(records_[index].queue_id);
  const std::size_t mask = slots_.size() - 1;
  std::size_t at = hash & mask;
  while (slots_[at] != 0) at = (at + 1) & mask;
  slots_[at] = (hash & 0xffffffff00000000u) | (index + 1u);
}

void QuietRecords::insert(Quiet q) {
  records_.push_back(std::move(q));
  if (2 * records_.size() > slots_.size()) {
    slots_.assign(slots_.size() * 2, 0);
    for (std::uint32_t i = 0; i < records_.size(); ++i) place(i);
  } else {
    place(static_cast<std::uint32_t>(records_.size() - 1));
  }
}

template <typename F>
void QuietRecords::for_each_with(std::string_view queue_id, F&& f) {
  const std::uint64_t hash = hash_of(queue_id);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t at = hash & mask; slots_[at] != 0; at = (at + 1) & mask) {
    if ((slots_[at] & 0xffffffff00000000u) != (hash & 0xffffffff00000000u)) continue;
    Quiet& q = records_[(slots_[at] & 0xffffffffu) - 1];
    if (q.queue_id == queue_id) f(q);
  }
}

void QuietRecords::add(const RecordedMessage& r) {
  Quiet q;
  q.queue_id = r.queue_id;
  q.id = r.id;
  q.mta_arrival_time = r.mta_arrival_time;
  q.match_reference = r.match_reference;
  for (const RecordedRecipient& rec : r.recipients) q.addresses += rec.address + '\n';
  insert(std::move(q));
}

void QuietRecords::add_followed(const RecordedMessage& r) {
  Quiet q;
  q.queue_id = r.queue_id;
  q.seen = Seen::followed;
  insert(std::move(q));
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
  for_each_with(queue_id, [this](Quiet& q) {
    if (q.seen == Seen::followed) return;
    if (q.seen == Seen::dropped) start_again_ = true;
    q.seen = Seen::load;
  });
}

bool QuietRecords::drop(const QueuedMessage& entry) {
  std::size_t found = 0;
  Quiet* only = nullptr;
  bool followed = false;
  for_each_with(entry.queue_id, [&](Quiet& q) {
    ++found;
    only = &q;
    followed = followed || q.seen == Seen::followed;
  });
  if (found == 0) return false;
  if (found > 1 || followed) {
    load_all(entry.queue_id);  // the planner matches and merges several records
    return false;
  }
  Quiet& q = *only;
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
  for (const Quiet& q : records_) {
    if (q.seen == Seen::not_yet || q.seen == Seen::load) ids.push_back(q.id);
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
