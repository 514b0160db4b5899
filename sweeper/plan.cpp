// plan.cpp - the rules that read a sweep plan (see plan.hpp).
#include "sweeper/plan.hpp"

#include <algorithm>

#include "common/util/strings.hpp"

namespace etrn {

std::string_view to_string(RecipientAction a) {
  switch (a) {
    case RecipientAction::none:
      return "wait";
    case RecipientAction::depart:
      return "departed";
    case RecipientAction::warn:
      return "warn";
    case RecipientAction::expire_dsn:
      return "expire";
    case RecipientAction::expire_silent:
      return "expire (no DSN)";
    case RecipientAction::already_expired:
      return "remove (expired earlier)";
  }
  return "wait";
}

RecipientAction action_reported_by(DsnKind kind) {
  return kind == DsnKind::delayed ? RecipientAction::warn : RecipientAction::expire_dsn;
}

bool RecipientPlan::leaves_queue() const {
  return action == RecipientAction::expire_dsn || action == RecipientAction::expire_silent ||
         action == RecipientAction::already_expired;
}

bool RecipientPlan::keeps_waiting() const {
  return is_still_queued(state) &&
         (action == RecipientAction::none || action == RecipientAction::warn);
}

bool RecipientPlan::acted_on() const {
  return action == RecipientAction::warn || leaves_queue();
}

std::string_view to_string(RecipientOrigin o) {
  switch (o) {
    case RecipientOrigin::recorded:
      return "recorded";
    case RecipientOrigin::followed:
      return "followed";
    case RecipientOrigin::expanded:
      return "expanded";
    case RecipientOrigin::adopted:
      return "adopted";
  }
  return "recorded";
}

bool RecipientPlan::changes_something() const {
  return action != RecipientAction::none || deadlines_changed ||
         origin != RecipientOrigin::recorded || reopened;
}

std::string_view to_string(Removal r) {
  switch (r) {
    case Removal::none:
      return "none";
    case Removal::whole:
      return "remove";
    case Removal::split:
      return "split";
  }
  return "none";
}

bool MessagePlan::has(RecipientAction a) const {
  return std::any_of(recipients.begin(), recipients.end(),
                     [a](const RecipientPlan& r) { return r.action == a; });
}

bool MessagePlan::changes_something() const {
  if (adopt || reopen || done || record_mta_arrival || removal != Removal::none) return true;
  if (release || forget_hold || needs_person || !left_alone_because.empty()) return true;
  return std::any_of(recipients.begin(), recipients.end(),
                     [](const RecipientPlan& r) { return r.changes_something(); });
}

bool MessagePlan::keeps_waiting() const {
  return std::any_of(recipients.begin(), recipients.end(),
                     [](const RecipientPlan& r) { return r.keeps_waiting(); });
}

bool MessagePlan::acts_on_queue() const {
  return removal != Removal::none ||
         std::any_of(recipients.begin(), recipients.end(),
                     [](const RecipientPlan& r) { return r.acted_on(); });
}

void MessagePlan::decide_removal(const std::vector<std::string>& queued_addresses) {
  survivors.clear();
  removal = Removal::none;
  std::vector<std::string_view> removed;
  for (const RecipientPlan& r : recipients) {
    if (r.leaves_queue()) removed.push_back(r.address);
  }
  if (removed.empty()) return;
  for (const std::string& q : queued_addresses) {
    const bool goes = std::any_of(removed.begin(), removed.end(),
                                  [&q](std::string_view a) { return iequals(a, q); });
    if (!goes) survivors.push_back(q);
  }
  removal = survivors.empty() ? Removal::whole : Removal::split;
}

bool Plan::has_split() const {
  return std::any_of(messages.begin(), messages.end(),
                     [](const MessagePlan& m) { return m.removal == Removal::split; });
}

void fit_to_held(MessagePlan& m, const QueuedEnvelope& held) {
  m.envelope.sender = held.envelope.sender;
  std::vector<std::string> addresses;
  for (const QueuedEnvelope::Recipient& q : held.recipients) addresses.push_back(q.address);
  for (RecipientPlan& r : m.recipients) {
    if (!r.acted_on()) continue;
    const bool there = std::any_of(addresses.begin(), addresses.end(),
                                   [&r](const std::string& a) { return iequals(a, r.address); });
    if (!there) {
      r.action = RecipientAction::none;
      r.why = "no longer in the queue when held";
    } else if (m.envelope.sender.empty() && r.action == RecipientAction::expire_dsn) {
      r.action = RecipientAction::expire_silent;
      r.why = "no DSN: null sender";
    } else if (m.envelope.sender.empty() && r.action == RecipientAction::warn) {
      r.action = RecipientAction::none;
      r.why = "no delay DSN: null sender";
    }
  }
  m.decide_removal(addresses);
}

std::string reinjected_from(std::string_view headers) {
  const std::string prefix = std::string(kReinjectedHeader) + ":";
  std::size_t start = 0;
  while (start < headers.size()) {
    const std::size_t end = std::min(headers.find('\n', start), headers.size());
    std::string_view line = headers.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header section
    if (line.size() >= prefix.size() && iequals(line.substr(0, prefix.size()), prefix))
      return std::string(trim(line.substr(prefix.size())));
    start = end + 1;
  }
  return {};
}

}  // namespace etrn
