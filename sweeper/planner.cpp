// planner.cpp - the sweep plan (pure; see planner.hpp for the rules).
#include "sweeper/planner.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "common/policy/etrn_match.hpp"
#include "common/policy/priority_headers.hpp"
#include "common/policy/timeouts.hpp"
#include "common/util/strings.hpp"

namespace etrn {

namespace {

bool waits_for_etrn(const EtrnMatcher& matcher, const QueuedRecipient& r) {
  return matcher.is_etrn_only(r.address, r.mailer);
}

// Only the MTA's transport for it can tell whether it waits for ETRN.
bool needs_route(const Config& config, const EtrnMatcher& matcher, const QueuedRecipient& r) {
  return !config.etrn_transports.empty() && r.mailer.empty() &&
         !matcher.domain_is_etrn(domain_of(r.address));
}

bool matches(const RecordedMessage& r, const QueuedMessage& q) {
  return r.queue_id == q.queue_id &&
         arrival_matches(r.mta_arrival_time, r.match_reference, q.arrival_time);
}

// Queue entries by queue ID, so that matching a recorded message is a
// lookup and not a scan of the whole queue (scans made a sweep O(n^2): 100k
// messages took minutes). A queue ID can appear more than once (reuse).
using QueueIndex = std::unordered_multimap<std::string_view, const QueuedMessage*>;

QueueIndex index_queue(const std::vector<QueuedMessage>& queue) {
  QueueIndex index;
  index.reserve(queue.size());
  for (const QueuedMessage& q : queue) index.emplace(q.queue_id, &q);
  return index;
}

// The first entry in queue order that matches r, or null.
const QueuedMessage* find_match(const RecordedMessage& r, const QueueIndex& index) {
  const QueuedMessage* first = nullptr;
  auto [begin, end] = index.equal_range(r.queue_id);
  for (auto it = begin; it != end; ++it) {
    if (matches(r, *it->second) && (first == nullptr || it->second < first)) first = it->second;
  }
  return first;
}

bool queued_for(const QueuedMessage& q, std::string_view address) {
  return std::any_of(q.recipients.begin(), q.recipients.end(),
                     [address](const QueuedRecipient& r) { return iequals(r.address, address); });
}

// When and how a waiting recipient is warned or expired at `now`.
void apply_timing(const Config& config, EpochSeconds now, const MessagePlan& m,
                  RecipientState state, RecipientPlan& r) {
  Timeouts t = timeouts_for(config, r.domain, m.priority);
  r.deadlines = deadlines_for(t, m.arrival_time);
  r.policy = t.policy_source + ": expire after " + format_duration(t.expire_after);
  const Notify& notify = r.dsn.notify;
  if (now >= r.deadlines.expires_at) {
    if (m.envelope.sender.empty()) {
      r.action = RecipientAction::expire_silent, r.why = "no DSN: null sender";
    } else if (!notify.allows_failure_dsn()) {
      r.action = RecipientAction::expire_silent, r.why = "no DSN: NOTIFY=" + notify.to_string();
    } else {
      r.action = RecipientAction::expire_dsn;
    }
    return;
  }
  const bool warn_due = r.deadlines.warn_at && now >= *r.deadlines.warn_at;
  if (state != RecipientState::queued || !warn_due) return;
  if (m.envelope.sender.empty()) {
    r.why = "no delay DSN: null sender";
  } else if (!notify.allows_delay_dsn()) {
    r.why = "no delay DSN: NOTIFY=" + notify.to_string();
  } else {
    r.action = RecipientAction::warn;
  }
}

// Every queued recipient is one of `addresses` (a copy holds a chunk of the survivors).
bool all_among(const std::vector<QueuedRecipient>& queued,
               const std::vector<std::string>& addresses) {
  return !queued.empty() &&
         std::all_of(queued.begin(), queued.end(), [&](const QueuedRecipient& q) {
           return std::any_of(addresses.begin(), addresses.end(),
                              [&q](const std::string& a) { return iequals(a, q.address); });
         });
}

void find_copy_candidates(MessagePlan& m, const std::vector<QueuedMessage>& queue) {
  if (m.removal != Removal::split) return;
  for (const QueuedMessage& q : queue) {
    if (q.queue_id == m.queue_id || q.sender != m.queued->sender) continue;
    if (q.arrival_time < m.queued->arrival_time || !all_among(q.recipients, m.survivors)) continue;
    m.copy_candidates.push_back(&q);
  }
}

MessagePlan message_from(const RecordedMessage& r) {
  MessagePlan m;
  m.id = r.id;
  m.queue_id = r.queue_id;
  m.arrival_time = r.arrival_time;
  m.envelope = r.envelope;
  m.priority = r.priority;
  m.reopen = r.reopened;
  return m;
}

RecipientPlan recipient_from(const RecordedRecipient& r) {
  RecipientPlan p;
  p.id = r.id;
  p.address = r.address;
  p.domain = r.domain;
  p.dsn = r.dsn;
  p.state = r.state;
  p.deadlines = r.deadlines;
  p.reopened = r.reopened;
  return p;
}

// Does the record follow this queued address (a row for it that has not departed)?
bool follows(const RecordedMessage& r, std::string_view address) {
  return std::any_of(r.recipients.begin(), r.recipients.end(), [address](const auto& rec) {
    return rec.state != RecipientState::departed && iequals(rec.address, address);
  });
}

// What the queued envelope says about the recipients the record does not
// follow: which waiting recorded recipient each ETRN one was expanded from
// (by original_recipient), and the ones the message gained.
struct Unfollowed {
  std::vector<std::vector<const QueuedRecipient*>> expanded;  // per recorded recipient
  std::vector<const QueuedRecipient*> gained;
};

const QueuedEnvelope::Recipient* in_envelope(const QueuedEnvelope& e, std::string_view address) {
  for (const QueuedEnvelope::Recipient& r : e.recipients) {
    if (iequals(r.address, address)) return &r;
  }
  return nullptr;
}

Unfollowed map_unfollowed(const EtrnMatcher& matcher, const RecordedMessage& r,
                          const QueuedMessage& q, const QueuedEnvelope& envelope) {
  Unfollowed out;
  out.expanded.resize(r.recipients.size());
  for (const QueuedRecipient& qr : q.recipients) {
    if (follows(r, qr.address) || !waits_for_etrn(matcher, qr)) continue;
    const QueuedEnvelope::Recipient* e = in_envelope(envelope, qr.address);
    const std::string_view original = e ? std::string_view(e->original_recipient) : "";
    const auto from = std::find_if(r.recipients.begin(), r.recipients.end(), [&](const auto& rec) {
      return is_waiting(rec.state) && !original.empty() && iequals(rec.address, original);
    });
    if (from == r.recipients.end()) {
      out.gained.push_back(&qr);
    } else {
      out.expanded[from - r.recipients.begin()].push_back(&qr);
    }
  }
  return out;
}

// The DSN parameters a recipient the MTA made of `rec` reports: rec's
// NOTIFY, and its ORCPT or else its own address as the original recipient.
RecipientDsnParams dsn_made_from(const RecordedRecipient& rec) {
  RecipientDsnParams dsn = rec.dsn;
  if (dsn.orcpt.empty()) dsn.orcpt = "rfc822;" + rec.address;
  return dsn;
}

// `rec` as the MTA queued it: its own row at the queued address.
RecipientPlan followed(const RecordedRecipient& rec, const QueuedRecipient& as) {
  RecipientPlan p = recipient_from(rec);
  p.origin = RecipientOrigin::followed;
  p.recorded_address = rec.address;
  p.address = as.address;
  p.domain = domain_of(as.address);
  p.dsn = dsn_made_from(rec);
  return p;
}

// Another recipient `rec` was expanded into: a new row with rec's state.
RecipientPlan expanded(const RecordedRecipient& rec, const QueuedRecipient& as) {
  RecipientPlan p = followed(rec, as);
  p.id = 0;
  p.origin = RecipientOrigin::expanded;
  p.reopened = false;
  return p;
}

void time_recipient(const Config& config, const PlanInput& input, const MessagePlan& m,
                    const Deadlines& recorded, RecipientPlan& p) {
  apply_timing(config, input.now, m, p.state, p);
  p.deadlines_changed = p.deadlines != recorded;
}

// A recorded recipient the listing does not show: followed as what the MTA
// made of it, departed when the envelope shows nothing, or (the envelope
// unread) left for the next run.
void plan_unlisted(const Config& config, const PlanInput& input, MessagePlan& m,
                   const RecordedRecipient& rec, const QueuedEnvelope* envelope,
                   const std::vector<const QueuedRecipient*>& made_of_it) {
  if (made_of_it.empty()) {
    RecipientPlan p = recipient_from(rec);
    if (envelope != nullptr) p.action = RecipientAction::depart;
    m.recipients.push_back(std::move(p));
    return;
  }
  RecipientPlan p = followed(rec, *made_of_it.front());
  time_recipient(config, input, m, rec.deadlines, p);
  m.recipients.push_back(std::move(p));
}

void plan_recipient(const Config& config, const PlanInput& input, MessagePlan& m,
                    const RecordedRecipient& rec, const QueuedEnvelope* envelope,
                    const std::vector<const QueuedRecipient*>& made_of_it) {
  const bool listed = queued_for(*m.queued, rec.address);
  if (is_waiting(rec.state) && !listed) {
    plan_unlisted(config, input, m, rec, envelope, made_of_it);
  } else {
    RecipientPlan p = recipient_from(rec);
    if (is_still_queued(rec.state) && !listed) {
      p.action = RecipientAction::depart;  // in attention, and gone from the held copy
    } else if (is_waiting(rec.state)) {
      time_recipient(config, input, m, rec.deadlines, p);
    } else if (rec.state == RecipientState::expired && listed) {
      p.action = RecipientAction::already_expired;
    }
    m.recipients.push_back(std::move(p));
  }
  // The others it was expanded into (all of them when it is still listed itself).
  for (std::size_t i = listed ? 0 : 1; i < made_of_it.size(); ++i) {
    RecipientPlan p = expanded(rec, *made_of_it[i]);
    time_recipient(config, input, m, rec.deadlines, p);
    m.recipients.push_back(std::move(p));
  }
}

// An ETRN recipient the recorded message gained after the milter saw it.
RecipientPlan gained(const QueuedRecipient& qr, const QueuedEnvelope& envelope) {
  RecipientPlan p;
  p.origin = RecipientOrigin::adopted;
  p.address = qr.address;
  p.domain = domain_of(qr.address);
  p.dsn = envelope.dsn_for(qr.address);
  return p;
}

// Why a message is left alone this run, or "" when it is not.
std::string left_alone_because(const PlanInput& input, const RecordedMessage& r) {
  for (const RecordedRecipient& rec : r.recipients) {
    if (rec.state == RecipientState::attention) return "a recipient needs a person (attention)";
  }
  for (const RecordedRecipient& rec : r.recipients) {
    if (input.in_flight.contains(rec.id)) return "a DSN of its is still in the outbox";
  }
  return "";
}

// The sweeper's hold, as the record and the queue see it: finish or undo it.
void settle_hold(const RecordedMessage& r, const QueuedMessage& q, MessagePlan& m) {
  if (!r.held_by_sweeper) return;
  if (!q.held) {
    m.forget_hold = true;
    return;
  }
  m.held_by_sweeper = true;
  m.release = m.left_alone_because.empty() && !m.acts_on_queue();
}

// The message waits for a DSN in flight or a person: nothing is warned,
// expired or removed; departures, adoptions and new deadlines go on.
void leave_alone(MessagePlan& m) {
  for (RecipientPlan& p : m.recipients) {
    if (p.action != RecipientAction::depart) p.action = RecipientAction::none;
  }
}

// A recorded message that is no longer queued: its waiting recipients departed.
std::optional<MessagePlan> plan_gone(const PlanInput& input, const RecordedMessage& r) {
  if (r.recorded_at > input.real_now - kDepartureGrace) return std::nullopt;
  MessagePlan m = message_from(r);
  m.done = true;
  for (const RecordedRecipient& rec : r.recipients) {
    if (!is_still_queued(rec.state)) continue;
    RecipientPlan p = recipient_from(rec);
    p.action = RecipientAction::depart;
    m.recipients.push_back(std::move(p));
  }
  return m;
}

std::vector<std::string> addresses_of(const QueuedMessage& q) {
  std::vector<std::string> addresses;
  for (const QueuedRecipient& r : q.recipients) addresses.push_back(r.address);
  return addresses;
}

MessagePlan plan_queued(const Config& config, const PlanInput& input, const RecordedMessage& r,
                        const QueuedMessage& q) {
  MessagePlan m = message_from(r);
  m.queued = &q;
  m.record_mta_arrival = !r.mta_arrival_time.has_value();
  const auto read = input.envelopes.find(&q);
  const QueuedEnvelope* envelope = read == input.envelopes.end() ? nullptr : &read->second;
  Unfollowed unfollowed;
  if (envelope != nullptr) {
    const EtrnMatcher matcher(config.etrn_domains, config.etrn_transports);
    unfollowed = map_unfollowed(matcher, r, q, *envelope);
  }
  for (std::size_t i = 0; i < r.recipients.size(); ++i) {
    static const std::vector<const QueuedRecipient*> kNone;
    plan_recipient(config, input, m, r.recipients[i], envelope,
                   envelope != nullptr ? unfollowed.expanded[i] : kNone);
  }
  for (const QueuedRecipient* qr : unfollowed.gained) {
    // In the middle of the expiry protocol, the recipients of the held
    // original that its record no longer follows are the survivors whose
    // rows a split already moved to their copy (a run killed after
    // recording the copies): adopting them here again would warn them twice.
    // Anything the message really gained is re-injected with the survivors.
    if (r.held_by_sweeper) continue;
    RecipientPlan p = gained(*qr, *envelope);
    apply_timing(config, input.now, m, RecipientState::queued, p);
    m.recipients.push_back(std::move(p));
  }
  m.left_alone_because = left_alone_because(input, r);
  if (m.left_alone_because.empty())
    m.decide_removal(addresses_of(q));
  else
    leave_alone(m);
  find_copy_candidates(m, input.queue);
  settle_hold(r, q, m);
  m.needs_person =
      q.held &&
      std::any_of(r.recipients.begin(), r.recipients.end(), [&](const RecordedRecipient& rec) {
        return rec.state == RecipientState::attention && queued_for(q, rec.address);
      });
  m.done = !m.keeps_waiting() && m.removal == Removal::none && !m.release;
  return m;
}

MessagePlan plan_adoption(const Config& config, const PlanInput& input, const Adoption& a) {
  const EtrnMatcher matcher(config.etrn_domains, config.etrn_transports);
  const QueuedMessage& q = *a.queued;
  MessagePlan m;
  m.adopt = true;
  m.queue_id = q.queue_id;
  m.arrival_time = q.arrival_time;
  m.envelope = a.envelope.envelope;
  m.priority = a.priority;
  m.queued = &q;
  m.record_mta_arrival = true;
  for (const QueuedRecipient& qr : q.recipients) {
    if (!waits_for_etrn(matcher, qr)) continue;
    RecipientPlan p = gained(qr, a.envelope);
    apply_timing(config, input.now, m, RecipientState::queued, p);
    m.recipients.push_back(std::move(p));
  }
  m.decide_removal(addresses_of(q));
  find_copy_candidates(m, input.queue);
  return m;
}

// Which recorded row each queue entry belongs to; extra rows for the same
// entry are merged. Unordered: a 100k-message sweep looks every entry up.
struct Matching {
  std::unordered_map<const QueuedMessage*, const RecordedMessage*> owner;
  std::vector<const RecordedMessage*> gone;
  std::vector<Merge> merges;
};

Matching match_all(const std::vector<RecordedMessage>& recorded,
                   const std::vector<QueuedMessage>& queue) {
  Matching result;
  result.owner.reserve(recorded.size());
  const QueueIndex index = index_queue(queue);
  for (const RecordedMessage& r : recorded) {
    const QueuedMessage* q = find_match(r, index);
    if (q == nullptr) {
      result.gone.push_back(&r);
      continue;
    }
    auto [it, inserted] = result.owner.emplace(q, &r);
    if (inserted) continue;
    const RecordedMessage* older = it->second->arrival_time <= r.arrival_time ? it->second : &r;
    const RecordedMessage* newer = older == &r ? it->second : &r;
    result.merges.push_back(Merge{older->id, newer->id});
    it->second = older;
  }
  return result;
}

// A copy that a run killed after re-injecting left behind: the split of its
// original, planned again this run, takes it over (its recipients' rows move
// to it). Adopting it as well would give those recipients a second row, and
// a second DSN.
bool copy_of_a_split(const Plan& plan, const Adoption& a) {
  return std::any_of(plan.messages.begin(), plan.messages.end(), [&](const MessagePlan& m) {
    return m.queue_id == a.reinjected_from &&
           std::find(m.copy_candidates.begin(), m.copy_candidates.end(), a.queued) !=
               m.copy_candidates.end();
  });
}

// The same addresses, spelt the same, in the same order, none departed.
bool listed_as_recorded(const RecordedMessage& r, const QueuedMessage& q) {
  if (r.recipients.size() != q.recipients.size()) return false;
  for (std::size_t i = 0; i < q.recipients.size(); ++i) {
    const RecordedRecipient& rec = r.recipients[i];
    if (rec.state == RecipientState::departed || rec.address != q.recipients[i].address)
      return false;
  }
  return true;
}

// Do the listed recipients of `q` differ from what `r` follows? Addresses
// that only their transport can judge go to `unrouted` first.
bool recipients_differ(const Config& config, const EtrnMatcher& matcher, const RecordedMessage& r,
                       const QueuedMessage& q, std::unordered_set<std::string>& unrouted) {
  if (listed_as_recorded(r, q)) return false;  // nearly every message, every run: keep it cheap
  bool differ = std::any_of(r.recipients.begin(), r.recipients.end(), [&q](const auto& rec) {
    return is_waiting(rec.state) && !queued_for(q, rec.address);
  });
  for (const QueuedRecipient& qr : q.recipients) {
    if (follows(r, qr.address)) continue;
    if (needs_route(config, matcher, qr)) {
      unrouted.insert(qr.address);
    } else {
      differ = differ || waits_for_etrn(matcher, qr);
    }
  }
  return differ;
}

// Does unrecorded `q` wait for ETRN? Addresses only a transport can judge go to `unrouted`.
bool unrecorded_waits(const Config& config, const EtrnMatcher& matcher, const QueuedMessage& q,
                      std::unordered_set<std::string>& unrouted) {
  bool waits = false;
  for (const QueuedRecipient& qr : q.recipients) {
    if (needs_route(config, matcher, qr)) {
      unrouted.insert(qr.address);
    } else {
      waits = waits || waits_for_etrn(matcher, qr);
    }
  }
  return waits;
}

}  // namespace

bool arrival_matches(const std::optional<EpochSeconds>& mta_arrival_time,
                     EpochSeconds match_reference, EpochSeconds queued_arrival_time) {
  if (mta_arrival_time) return *mta_arrival_time == queued_arrival_time;
  const EpochSeconds distance = queued_arrival_time - match_reference;
  return distance <= kArrivalTolerance && distance >= -kArrivalTolerance;
}

bool quiet_if_listed_as_recorded(const Config& config, const PlanInput& input,
                                 const RecordedMessage& r) {
  if (r.reopened || r.held_by_sweeper) return false;
  QueuedMessage as_recorded;
  as_recorded.queue_id = r.queue_id;
  as_recorded.arrival_time = r.mta_arrival_time.value_or(r.match_reference);
  as_recorded.sender = r.envelope.sender;
  for (const RecordedRecipient& rec : r.recipients) {
    if (rec.state == RecipientState::departed) return false;  // listed_as_recorded would not hold
    as_recorded.recipients.push_back(QueuedRecipient{rec.address});
  }
  MessagePlan m = plan_queued(config, input, r, as_recorded);
  m.record_mta_arrival = false;  // stored from the arrivals list instead
  return !m.changes_something();
}

QueueReview review_queue(const Config& config, const PlanInput& input) {
  const EtrnMatcher matcher(config.etrn_domains, config.etrn_transports);
  const Matching matching = match_all(input.recorded, input.queue);
  QueueReview review;
  for (const RecordedMessage* r : matching.gone) {
    if (r->recorded_at <= input.real_now - kDepartureGrace) review.absent.push_back(r);
  }
  std::unordered_set<std::string> unrouted;
  for (const QueuedMessage& q : input.queue) {
    if (q.busy) continue;  // the MTA is working on it: next run
    const auto owner = matching.owner.find(&q);
    if (owner == matching.owner.end()) {
      if (unrecorded_waits(config, matcher, q, unrouted)) review.unrecorded.push_back(&q);
    } else if (recipients_differ(config, matcher, *owner->second, q, unrouted)) {
      review.mismatched.push_back(&q);
    }
  }
  review.unrouted.assign(unrouted.begin(), unrouted.end());
  std::sort(review.unrouted.begin(), review.unrouted.end());
  return review;
}

std::vector<QueuedMessage> found_again(const std::vector<const RecordedMessage*>& absent,
                                       std::vector<QueuedMessage> looked) {
  std::erase_if(looked, [&absent](const QueuedMessage& q) {
    return std::none_of(absent.begin(), absent.end(),
                        [&q](const RecordedMessage* r) { return matches(*r, q); });
  });
  return looked;
}

Plan plan_sweep(const Config& config, const PlanInput& input) {
  Plan plan;
  plan.now = input.now;
  Matching matching = match_all(input.recorded, input.queue);
  plan.merges = matching.merges;
  for (const RecordedMessage* r : matching.gone) {
    if (auto m = plan_gone(input, *r)) plan.messages.push_back(std::move(*m));
  }
  for (const QueuedMessage& q : input.queue) {
    const auto owner = matching.owner.find(&q);
    if (owner == matching.owner.end() || q.busy)
      continue;  // busy: still queued, not gone; next run
    // Most queued messages need nothing this run; keeping their plans
    // (each with a copy of its queue entry) was a third of the peak memory.
    MessagePlan m = plan_queued(config, input, *owner->second, q);
    if (m.changes_something()) plan.messages.push_back(std::move(m));
  }
  for (const Adoption& a : input.adoptions) {
    if (!a.reinjected_from.empty() && copy_of_a_split(plan, a)) continue;
    plan.messages.push_back(plan_adoption(config, input, a));
  }
  plan.arrivals = input.arrivals;
  return plan;
}

Priority priority_from_headers(std::string_view headers) {
  PriorityDetector detector;
  std::string name, value;
  const auto flush = [&] {
    if (!name.empty()) detector.add_header(trim(name), trim(value));
    name.clear(), value.clear();
  };
  std::size_t start = 0;
  while (start < headers.size()) {
    std::size_t end = headers.find('\n', start);
    if (end == std::string_view::npos) end = headers.size();
    std::string_view line = headers.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header section
    if (line[0] == ' ' || line[0] == '\t') {
      value += " ", value += trim(line);
      continue;
    }
    flush();
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    name = line.substr(0, colon);
    value = line.substr(colon + 1);
  }
  flush();
  return detector.priority();
}

std::vector<std::string> lifetime_warnings(const Config& config, const QueueLifetimes& lifetimes) {
  Seconds longest =
      std::max({config.expire_after, config.expire_after_urgent, config.expire_after_non_urgent});
  for (const DomainPolicy& p : config.domain_policies) {
    if (p.expire_after) longest = std::max(longest, *p.expire_after);
  }
  std::vector<std::string> warnings;
  const auto check = [&](const std::optional<std::int64_t>& value, const char* name,
                         const char* which) {
    if (!value || *value >= longest.count()) return;
    warnings.push_back(std::string("Postfix ") + name + " (" + format_duration(Seconds(*value)) +
                       ") is shorter than the longest ETRN expiry policy (" +
                       format_duration(longest) + "): Postfix will expire " + which +
                       " first, with its own misleading NDR");
  };
  check(lifetimes.maximal_queue_lifetime, "maximal_queue_lifetime", "such mail");
  check(lifetimes.bounce_queue_lifetime, "bounce_queue_lifetime", "such null-sender mail");
  return warnings;
}

}  // namespace etrn
