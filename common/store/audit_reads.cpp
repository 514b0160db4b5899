// audit_reads.cpp - the look-up queries (see audit_reads.hpp).
#include "common/store/audit_reads.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <map>
#include <set>

namespace etrn {

namespace {

constexpr const char* kMessageColumns =
    "SELECT id, queue_id, arrival_time, at, recorded_at, done_at, sender,"
    " message_id, subject, priority, source, instance"
    " FROM messages LEFT JOIN mta_arrivals ON mta_arrivals.message = messages.id";

// ?2 is the host (nullopt: any): its rows and those that name none.
constexpr const char* kInScope = "(CAST(?2 AS TEXT) IS NULL OR instance IN (?2, ''))";

using Instance = std::optional<std::string>;

StoryMessage message_from(Statement& s) {
  StoryMessage m;
  m.id = s.column_int(0);
  m.queue_id = s.column_text(1);
  m.arrival_time = s.column_int(2);
  m.mta_arrival_time = s.column_optional_int(3);
  m.recorded_at = s.column_int(4);
  m.done_at = s.column_optional_int(5);
  m.sender = s.column_text(6);
  m.message_id = s.column_text(7);
  m.subject = s.column_text(8);
  m.priority = s.column_text(9);
  m.source = s.column_text(10);
  m.instance = s.column_text(11);
  return m;
}

// `condition` may use ?1 (the key) and ?2 (the instance).
std::vector<StoryMessage> messages_where(Database& db, const std::string& condition,
                                         const std::string& key, const Instance& instance) {
  Statement& s = db.prepare(std::string(kMessageColumns) + " WHERE " + condition + " ORDER BY id");
  s.bind(1, key).bind(2, instance);
  std::vector<StoryMessage> rows;
  while (s.step()) rows.push_back(message_from(s));
  return rows;
}

// One host's rows of a queue ID.
std::vector<StoryMessage> rows_with_queue_id(Database& db, const std::string& instance,
                                             const std::string& queue_id) {
  return messages_where(db, "queue_id = ?1 AND instance = ?2", queue_id, instance);
}

std::vector<StoryMessage> seed_rows(Database& db, LookupKind kind, const std::string& key,
                                    const Instance& instance) {
  const std::string in_scope = std::string(" AND ") + kInScope;
  switch (kind) {
    case LookupKind::queue_id:
      return messages_where(db, "queue_id = ?1" + in_scope, key, instance);
    case LookupKind::message_id:
      return messages_where(db, "message_id = ?1" + in_scope, key, instance);
    case LookupKind::address:
      return messages_where(db,
                            "(lower(sender) = lower(?1) OR id IN (SELECT message FROM recipients"
                            " WHERE lower(address) = lower(?1)))" +
                                in_scope,
                            key, instance);
  }
  return {};
}

// `condition` may use ?1 (the key) and ?2 (the instance).
std::vector<StoryEvent> events_where(Database& db, const std::string& condition,
                                     const std::string& key, const Instance& instance) {
  Statement& s =
      db.prepare("SELECT id, at, queue_id, recipient, kind, detail, instance FROM events WHERE " +
                 condition + " ORDER BY at, id");
  s.bind(1, key).bind(2, instance);
  std::vector<StoryEvent> events;
  while (s.step()) {
    events.push_back(StoryEvent{s.column_int(0), s.column_int(1), s.column_text(2),
                                s.column_text(3), s.column_text(4), s.column_text(5),
                                s.column_text(6)});
  }
  return events;
}

// One host's events of a queue ID.
std::vector<StoryEvent> events_of_queue_id(Database& db, const std::string& instance,
                                           const std::string& queue_id) {
  return events_where(db, "queue_id = ?1 AND instance = ?2", queue_id, instance);
}

void load_recipients(Database& db, StoryMessage& m) {
  Statement& s = db.prepare(
      "SELECT address, state, expires_at, state_changed_at FROM recipients WHERE message = ?1"
      " ORDER BY id");
  s.bind(1, m.id);
  while (s.step()) {
    m.recipients.push_back(
        StoryRecipient{s.column_text(0), s.column_text(1), s.column_int(2), s.column_int(3)});
  }
}

// When a row's queue ID began to name it. A re-injected copy keeps the
// original's arrival time, but its queue ID exists only since the split
// (recorded_at: the start of the sweep that made it).
EpochSeconds started(const StoryMessage& m) {
  EpochSeconds t =
      m.source == "reinjected" ? m.recorded_at : std::min(m.arrival_time, m.recorded_at);
  return m.mta_arrival_time ? std::min(t, *m.mta_arrival_time) : t;
}

// The row (of one queue ID) an event at `at` belongs to.
const StoryMessage* owner(const std::vector<StoryMessage>& rows, EpochSeconds at) {
  const StoryMessage* best = nullptr;
  for (const StoryMessage& m : rows) {
    const bool fits = started(m) <= at && (best == nullptr || started(m) > started(*best));
    if (fits) best = &m;
  }
  if (best != nullptr) return best;
  for (const StoryMessage& m : rows)
    if (best == nullptr || started(m) < started(*best)) best = &m;
  return best;
}

// The re-injected row of `queue_id` a split made at `at` (its recorded_at is the split's time).
std::optional<StoryMessage> copy_made_at(Database& db, const std::string& instance,
                                         const std::string& queue_id, EpochSeconds at) {
  std::optional<StoryMessage> best;
  for (StoryMessage& m : rows_with_queue_id(db, instance, queue_id)) {
    if (m.source != "reinjected") continue;
    if (!best || std::llabs(m.recorded_at - at) < std::llabs(best->recorded_at - at))
      best = std::move(m);
  }
  return best;
}

// The rows a row is linked to by splits: its copies, and the row it is a
// copy of (a split re-injects into the same host's queue).
std::vector<StoryMessage> linked_rows(Database& db, const StoryMessage& m) {
  std::vector<StoryMessage> linked;
  const std::vector<StoryMessage> same_id = rows_with_queue_id(db, m.instance, m.queue_id);
  for (const StoryEvent& e : events_where(
           db, "queue_id = ?1 AND kind = 'reinjected' AND instance = ?2", m.queue_id, m.instance)) {
    const auto target = reinjected_as(e.detail);
    const StoryMessage* from = owner(same_id, e.at);
    if (!target || from == nullptr || from->id != m.id) continue;
    if (auto copy = copy_made_at(db, m.instance, *target, e.at)) linked.push_back(std::move(*copy));
  }
  if (m.source != "reinjected") return linked;
  const std::vector<StoryEvent> splits = events_where(
      db, "kind = 'reinjected' AND detail = 'as ' || ?1 AND instance = ?2", m.queue_id, m.instance);
  const StoryEvent* split = nullptr;
  for (const StoryEvent& e : splits) {
    if (split == nullptr ||
        std::llabs(e.at - m.recorded_at) < std::llabs(split->at - m.recorded_at))
      split = &e;
  }
  if (split == nullptr) return linked;
  const std::vector<StoryMessage> originals = rows_with_queue_id(db, m.instance, split->queue_id);
  if (const StoryMessage* original = owner(originals, split->at)) linked.push_back(*original);
  return linked;
}

}  // namespace

std::optional<std::string> reinjected_as(const std::string& detail) {
  constexpr std::string_view prefix = "as ";
  if (detail.size() <= prefix.size() || detail.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  return detail.substr(prefix.size());
}

std::vector<StoryEvent> events_of(const std::vector<StoryMessage>& story_rows,
                                  const std::vector<StoryMessage>& all_rows,
                                  const std::vector<StoryEvent>& events) {
  std::set<std::int64_t> in_story;
  for (const StoryMessage& m : story_rows) in_story.insert(m.id);
  std::map<std::pair<std::string, std::string>, std::vector<StoryMessage>> by_queue_id;
  for (const StoryMessage& m : all_rows) by_queue_id[{m.instance, m.queue_id}].push_back(m);
  std::vector<StoryEvent> kept;
  for (const StoryEvent& e : events) {
    const StoryMessage* row = owner(by_queue_id[{e.instance, e.queue_id}], e.at);
    if (row != nullptr && in_story.count(row->id)) kept.push_back(e);
  }
  return kept;
}

std::vector<AuditRow> audit_rows(Database& db, const AuditFilter& filter) {
  Statement& s = db.prepare(
      "SELECT queue_id, arrival_time, sender, recipient, domain, priority, state, expires_at,"
      " state_changed_at, instance FROM etrn_audit"
      // (A cast says each parameter's type, which PostgreSQL cannot tell from IS NULL.)
      " WHERE (CAST(?1 AS TEXT) IS NULL OR state = ?1)"
      " AND (CAST(?2 AS TEXT) IS NULL OR lower(domain) = lower(?2))"
      " AND (CAST(?3 AS BIGINT) IS NULL OR state_changed_at >= ?3)"
      " AND (CAST(?4 AS TEXT) IS NULL OR queue_id = ?4)"
      " AND (CAST(?6 AS TEXT) IS NULL OR instance IN (?6, ''))"
      " ORDER BY arrival_time, queue_id, recipient, instance LIMIT ?5");
  s.bind(1, filter.state ? std::optional<std::string>(std::string(to_string(*filter.state)))
                         : std::nullopt);
  s.bind(2, filter.domain).bind(3, filter.changed_since).bind(4, filter.queue_id);
  s.bind(5, filter.limit.value_or(std::numeric_limits<std::int64_t>::max()));
  s.bind(6, filter.instance);
  std::vector<AuditRow> rows;
  while (s.step()) {
    rows.push_back(AuditRow{s.column_text(0), s.column_int(1), s.column_text(2), s.column_text(3),
                            s.column_text(4), s.column_text(5), s.column_text(6), s.column_int(7),
                            s.column_int(8), s.column_text(9)});
  }
  return rows;
}

MessageStory message_story(Database& db, LookupKind kind, const std::string& key,
                           const std::optional<std::string>& instance) {
  MessageStory story;
  std::vector<StoryMessage> pending = seed_rows(db, kind, key, instance);
  std::set<std::int64_t> seen;
  while (!pending.empty()) {
    StoryMessage m = std::move(pending.back());
    pending.pop_back();
    if (!seen.insert(m.id).second) continue;
    for (StoryMessage& next : linked_rows(db, m)) pending.push_back(std::move(next));
    story.messages.push_back(std::move(m));
  }
  std::sort(story.messages.begin(), story.messages.end(),
            [](const StoryMessage& a, const StoryMessage& b) { return a.id < b.id; });
  if (story.messages.empty()) {
    // Events outlive pruned rows: a queue ID's are its story.
    if (kind == LookupKind::queue_id)
      story.events = events_where(db, std::string("queue_id = ?1 AND ") + kInScope, key, instance);
    return story;
  }
  std::set<std::pair<std::string, std::string>> queue_ids;  // (instance, queue ID)
  for (StoryMessage& m : story.messages) {
    load_recipients(db, m);
    queue_ids.emplace(m.instance, m.queue_id);
  }
  std::vector<StoryMessage> all_rows;
  std::vector<StoryEvent> events;
  for (const auto& [host, q] : queue_ids) {
    for (StoryMessage& m : rows_with_queue_id(db, host, q)) all_rows.push_back(std::move(m));
    for (StoryEvent& e : events_of_queue_id(db, host, q)) events.push_back(std::move(e));
  }
  story.events = events_of(story.messages, all_rows, events);
  std::sort(story.events.begin(), story.events.end(), [](const StoryEvent& a, const StoryEvent& b) {
    return std::pair(a.at, a.id) < std::pair(b.at, b.id);
  });
  return story;
}

}  // namespace etrn
