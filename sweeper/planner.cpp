// planner.cpp - the sweep plan (pure; see planner.hpp for the rules).
//
// ETRN-only in the queue (for adoption): a recipient whose domain matches
// etrn_domains, or, when etrn_transports is set, whose delay reason is
// "deferred transport" - the text Postfix gives for mail held back by
// defer_transports, which is how ETRN_README parks an ETRN site's mail.
// The queue listing does not name the transport, so this is a heuristic:
// any other transport listed in defer_transports looks the same. Sendmail's
// listing names each recipient's mailer (QueuedRecipient::mailer), which is
// matched against etrn_transports directly.
#include "sweeper/planner.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "common/policy/etrn_match.hpp"
#include "common/policy/priority_headers.hpp"
#include "common/policy/timeouts.hpp"
#include "common/util/strings.hpp"

namespace etrn {

namespace {

bool is_etrn_in_queue(const Config& config, const EtrnMatcher& matcher, const QueuedRecipient& r) {
  if (matcher.domain_is_etrn(domain_of(r.address))) return true;
  if (!r.mailer.empty()) return matcher.is_etrn_only(r.address, r.mailer);  // Sendmail: dsmtp
  return !config.etrn_transports.empty() && r.delay_reason == "deferred transport";
}

bool matches(const RecordedMessage& r, const QueuedMessage& q) {
  if (r.queue_id != q.queue_id) return false;
  if (r.mta_arrival_time) return *r.mta_arrival_time == q.arrival_time;
  EpochSeconds distance = q.arrival_time - r.match_reference;
  return distance <= kArrivalTolerance && distance >= -kArrivalTolerance;
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
  return p;
}

// `left_alone`: the message waits for a DSN in flight or a person, so
// nothing is warned, expired or removed; departures and deadlines go on.
void plan_recipient(const Config& config, const PlanInput& input, MessagePlan& m,
                    const RecordedRecipient& rec, bool left_alone) {
  RecipientPlan p = recipient_from(rec);
  if (is_still_queued(rec.state)) {
    if (!queued_for(*m.queued, rec.address)) {
      p.action = RecipientAction::depart;
    } else if (is_waiting(rec.state)) {
      apply_timing(config, input.now, m, rec.state, p);
      p.deadlines_changed = p.deadlines != rec.deadlines;
      if (left_alone) p.action = RecipientAction::none;
    }
  } else if (rec.state == RecipientState::expired && queued_for(*m.queued, rec.address) &&
             !left_alone) {
    p.action = RecipientAction::already_expired;
  }
  m.recipients.push_back(std::move(p));
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
  m.left_alone_because = left_alone_because(input, r);
  const bool left_alone = !m.left_alone_because.empty();
  for (const RecordedRecipient& rec : r.recipients)
    plan_recipient(config, input, m, rec, left_alone);
  if (!left_alone) m.decide_removal(addresses_of(q));
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
    if (!is_etrn_in_queue(config, matcher, qr)) continue;
    RecipientPlan p;
    p.address = qr.address;
    p.domain = domain_of(qr.address);
    p.dsn = a.envelope.dsn_for(qr.address);
    apply_timing(config, input.now, m, RecipientState::queued, p);
    m.recipients.push_back(std::move(p));
  }
  m.decide_removal(addresses_of(q));
  find_copy_candidates(m, input.queue);
  return m;
}

// Which recorded row each queue entry belongs to; extra rows for the same entry are merged.
struct Matching {
  std::map<const QueuedMessage*, const RecordedMessage*> owner;
  std::vector<const RecordedMessage*> gone;
  std::vector<Merge> merges;
};

Matching match_all(const std::vector<RecordedMessage>& recorded,
                   const std::vector<QueuedMessage>& queue) {
  Matching result;
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

}  // namespace

std::vector<const QueuedMessage*> adoption_candidates(const Config& config,
                                                      const std::vector<RecordedMessage>& recorded,
                                                      const std::vector<QueuedMessage>& queue) {
  const EtrnMatcher matcher(config.etrn_domains, config.etrn_transports);
  const QueueIndex index = index_queue(queue);
  std::unordered_set<const QueuedMessage*> known;
  for (const RecordedMessage& r : recorded) {
    auto [begin, end] = index.equal_range(r.queue_id);
    for (auto it = begin; it != end; ++it) {
      if (matches(r, *it->second)) known.insert(it->second);
    }
  }
  std::vector<const QueuedMessage*> candidates;
  for (const QueuedMessage& q : queue) {
    if (q.busy || known.contains(&q)) continue;  // busy: the MTA is working on it, next run
    const bool etrn =
        std::any_of(q.recipients.begin(), q.recipients.end(),
                    [&](const QueuedRecipient& r) { return is_etrn_in_queue(config, matcher, r); });
    if (etrn) candidates.push_back(&q);
  }
  return candidates;
}

Plan plan_sweep(const Config& config, const PlanInput& input) {
  Plan plan;
  plan.now = input.now;
  Matching matching = match_all(input.recorded, input.queue);
  plan.merges = matching.merges;
  for (const RecordedMessage* r : matching.gone) {
    if (auto m = plan_gone(input, *r)) plan.messages.push_back(std::move(*m));
  }
  for (const auto& [q, r] : matching.owner) {
    if (q->busy) continue;  // still queued (not gone), but the MTA holds it: next run
    // Most queued messages need nothing this run; keeping their plans
    // (each with a copy of its queue entry) was a third of the peak memory.
    MessagePlan m = plan_queued(config, input, *r, *q);
    if (m.changes_something()) plan.messages.push_back(std::move(m));
  }
  for (const Adoption& a : input.adoptions) {
    if (!a.reinjected_from.empty() && copy_of_a_split(plan, a)) continue;
    plan.messages.push_back(plan_adoption(config, input, a));
  }
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
