// records.cpp - writes what the milter (or the sweeper's adoption of an
// unrecorded queue file) saw: the message, its ETRN-only recipients with
// their deadlines, and one event per recipient, all in one transaction.
//
// Duplicates: the MTA may retry end-of-message (or a batch may be retried
// after SQLITE_BUSY), so a message already recorded with the same
// (queue_id, arrival_time) is not inserted again. Its recipients are
// merged: an address not yet recorded for it is added (with its event);
// an address already there is left as it is. The existing row id is
// returned for it.
//
// SQLite writes a batch a row at a time (in-process, a row costs
// microseconds). PostgreSQL would take a network round trip per row
// (2,800 records/s), so there a batch is a few statements, each for the
// whole batch with its columns bound as arrays (postgres_array.hpp): the
// existing messages looked up, the new ones inserted, the recipients
// already recorded for existing ones looked up (only if there are such),
// the new recipients and their events inserted. The rows are the same as
// record_one's, in the same order.
#include "common/store/records.hpp"

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "common/store/postgres_array.hpp"

namespace etrn {

std::string_view to_string(RecordSource s) {
  switch (s) {
    case RecordSource::milter:
      return "milter";
    case RecordSource::adopted:
      return "adopted";
    case RecordSource::reinjected:
      return "reinjected";
  }
  return "milter";
}

namespace {

// The event kind written for each recipient (interface.md's kinds).
std::string_view event_kind(RecordSource s) {
  return s == RecordSource::milter ? std::string_view("recorded") : to_string(s);
}

std::optional<std::string> null_if_empty(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return text;
}

std::optional<std::int64_t> null_if_zero(std::int64_t value) {
  if (value == 0) return std::nullopt;
  return value;
}

// RET's keyword, NULL when unspecified.
std::optional<std::string> ret_column(ReturnContent ret) {
  return null_if_empty(std::string(to_string(ret)));
}

std::optional<std::int64_t> existing_message(Database& db, const MessageRecord& m) {
  Statement& find = db.prepare(
      "SELECT id FROM messages WHERE queue_id = ?1 AND arrival_time = ?2 AND instance = ?3");
  find.bind(1, m.queue_id).bind(2, m.arrival_time).bind(3, m.instance);
  std::optional<std::int64_t> id;
  if (find.step()) id = find.column_int(0);
  find.reset();
  return id;
}

std::int64_t insert_message(Database& db, const MessageRecord& m, RecordSource source,
                            EpochSeconds now) {
  Statement& insert = db.prepare_insert(
      "INSERT INTO messages (queue_id, arrival_time, sender, ret, envid, smtputf8, size, "
      "message_id,"
      " subject, priority, client_addr, client_name, helo, auth_user, source, recorded_at,"
      " instance) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
      " ?17)");
  const Envelope& e = m.envelope;
  insert.bind(1, m.queue_id).bind(2, m.arrival_time).bind(3, std::string_view(e.sender));
  insert.bind(4, ret_column(e.ret)).bind(5, null_if_empty(e.envid));
  insert.bind(6, std::int64_t{e.smtputf8 ? 1 : 0}).bind(7, null_if_zero(m.size));
  insert.bind(8, null_if_empty(m.message_id)).bind(9, null_if_empty(m.subject));
  insert.bind(10, to_string(m.priority)).bind(11, null_if_empty(m.client_addr));
  insert.bind(12, null_if_empty(m.client_name)).bind(13, null_if_empty(m.helo));
  insert.bind(14, null_if_empty(m.auth_user)).bind(15, to_string(source)).bind(16, now);
  insert.bind(17, m.instance);
  return insert.insert();
}

bool recipient_recorded(Database& db, std::int64_t message_id, const std::string& address) {
  Statement& find = db.prepare("SELECT 1 FROM recipients WHERE message = ?1 AND address = ?2");
  find.bind(1, message_id).bind(2, address);
  bool found = find.step();
  find.reset();
  return found;
}

void insert_recipient(Database& db, std::int64_t message_id, const RecipientRecord& r,
                      const Deadlines& d, EpochSeconds now) {
  Statement& insert = db.prepare(
      "INSERT INTO recipients (message, address, domain, notify, orcpt, mailer, state, warn_at,"
      " expires_at, state_changed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?8, ?9)");
  insert.bind(1, message_id).bind(2, r.address).bind(3, r.domain);
  insert.bind(4, null_if_empty(r.dsn.notify.to_string())).bind(5, null_if_empty(r.dsn.orcpt));
  insert.bind(6, null_if_empty(r.mailer)).bind(7, d.warn_at).bind(8, d.expires_at).bind(9, now);
  insert.run();
}

std::string event_detail(const MessageRecord& m, const Deadlines& d) {
  std::string detail = "priority=" + std::string(to_string(m.priority));
  if (d.warn_at) detail += " warn_at=" + std::to_string(*d.warn_at);
  detail += " expires_at=" + std::to_string(d.expires_at);
  return detail;
}

void insert_event(Database& db, EpochSeconds at, const MessageRecord& m,
                  const std::string& recipient, std::string_view kind, const std::string& detail) {
  Statement& insert = db.prepare(
      "INSERT INTO events (at, queue_id, recipient, kind, detail, instance)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  insert.bind(1, at).bind(2, m.queue_id).bind(3, recipient).bind(4, kind).bind(5, detail);
  insert.bind(6, m.instance);
  insert.run();
}

std::int64_t record_one(Database& db, const MessageToRecord& item, RecordSource source,
                        EpochSeconds now) {
  const MessageRecord& m = item.message;
  std::optional<std::int64_t> existing = existing_message(db, m);
  std::int64_t id = existing ? *existing : insert_message(db, m, source, now);
  for (std::size_t i = 0; i < m.recipients.size(); ++i) {
    const RecipientRecord& r = m.recipients[i];
    if (existing && recipient_recorded(db, id, r.address)) continue;
    insert_recipient(db, id, r, item.deadlines[i], now);
    insert_event(db, now, m, r.address, event_kind(source), event_detail(m, item.deadlines[i]));
  }
  return id;
}

// ---- PostgreSQL: a batch in a few statements ---------------------------

// (instance, queue_id, arrival_time)
using MessageKey = std::tuple<std::string, std::string, EpochSeconds>;

MessageKey key_of(const MessageRecord& m) {
  return {m.instance, m.queue_id, m.arrival_time};
}

std::map<MessageKey, std::int64_t> existing_messages_in_bulk(
    Database& db, std::span<const MessageToRecord> batch) {
  PostgresArray instances, queue_ids, arrivals;
  for (const MessageToRecord& item : batch) {
    instances.add(std::string_view(item.message.instance));
    queue_ids.add(std::string_view(item.message.queue_id));
    arrivals.add(item.message.arrival_time);
  }
  Statement& find = db.prepare(
      "SELECT min(m.id), m.instance, m.queue_id, m.arrival_time FROM messages AS m"
      " JOIN unnest(?1::text[], ?2::text[], ?3::bigint[]) AS k (instance, queue_id, arrival_time)"
      " ON m.instance = k.instance AND m.queue_id = k.queue_id"
      " AND m.arrival_time = k.arrival_time"
      " GROUP BY m.instance, m.queue_id, m.arrival_time");
  find.bind(1, instances.literal()).bind(2, queue_ids.literal()).bind(3, arrivals.literal());
  std::map<MessageKey, std::int64_t> ids;
  while (find.step())
    ids[{find.column_text(1), find.column_text(2), find.column_int(3)}] = find.column_int(0);
  return ids;
}

// Inserts the messages, in order; returns their new ids by key (each key
// once: the caller passes only messages not yet recorded).
std::map<MessageKey, std::int64_t> insert_messages_in_bulk(
    Database& db, const std::vector<const MessageRecord*>& messages, RecordSource source,
    EpochSeconds now) {
  constexpr int kColumns = 15;
  PostgresArray columns[kColumns];
  for (const MessageRecord* m : messages) {
    const Envelope& e = m->envelope;
    columns[0].add(std::string_view(m->queue_id));
    columns[1].add(m->arrival_time);
    columns[2].add(std::string_view(e.sender));
    columns[3].add(ret_column(e.ret));
    columns[4].add(null_if_empty(e.envid));
    columns[5].add(std::int64_t{e.smtputf8 ? 1 : 0});
    columns[6].add(null_if_zero(m->size));
    columns[7].add(null_if_empty(m->message_id));
    columns[8].add(null_if_empty(m->subject));
    columns[9].add(to_string(m->priority));
    columns[10].add(null_if_empty(m->client_addr));
    columns[11].add(null_if_empty(m->client_name));
    columns[12].add(null_if_empty(m->helo));
    columns[13].add(null_if_empty(m->auth_user));
    columns[14].add(std::string_view(m->instance));
  }
  Statement& insert = db.prepare(
      "INSERT INTO messages (queue_id, arrival_time, sender, ret, envid, smtputf8, size,"
      " message_id, subject, priority, client_addr, client_name, helo, auth_user, source,"
      " instance, recorded_at)"
      " SELECT queue_id, arrival_time, sender, ret, envid, smtputf8, size, message_id, subject,"
      " priority, client_addr, client_name, helo, auth_user, ?16::text, instance, ?17::bigint"
      " FROM unnest(?1::text[], ?2::bigint[], ?3::text[], ?4::text[], ?5::text[],"
      " ?6::bigint[], ?7::bigint[], ?8::text[], ?9::text[], ?10::text[], ?11::text[],"
      " ?12::text[], ?13::text[], ?14::text[], ?15::text[]) WITH ORDINALITY AS m (queue_id,"
      " arrival_time, sender, ret, envid, smtputf8, size, message_id, subject, priority,"
      " client_addr, client_name, helo, auth_user, instance, n) ORDER BY n"
      " RETURNING id, instance, queue_id, arrival_time");
  for (int i = 0; i < kColumns; ++i) insert.bind(i + 1, columns[i].literal());
  insert.bind(16, to_string(source)).bind(17, now);
  std::map<MessageKey, std::int64_t> ids;
  while (insert.step())
    ids[{insert.column_text(1), insert.column_text(2), insert.column_int(3)}] =
        insert.column_int(0);
  return ids;
}

// (message id, address) of the recipients already recorded for `messages`.
std::set<std::pair<std::int64_t, std::string>> recorded_recipients_in_bulk(
    Database& db, const std::set<std::int64_t>& messages) {
  std::set<std::pair<std::int64_t, std::string>> recorded;
  if (messages.empty()) return recorded;
  PostgresArray ids;
  for (const std::int64_t id : messages) ids.add(id);
  Statement& find =
      db.prepare("SELECT message, address FROM recipients WHERE message = ANY (?1::bigint[])");
  find.bind(1, ids.literal());
  while (find.step()) recorded.emplace(find.column_int(0), find.column_text(1));
  return recorded;
}

// The recipients to insert and their events, as array columns.
struct NewRecipients {
  PostgresArray message, address, domain, notify, orcpt, mailer, warn_at, expires_at;
  PostgresArray queue_id, detail, instance;  // for the events
  bool empty = true;

  void add(std::int64_t message_id, const MessageRecord& m, const RecipientRecord& r,
           const Deadlines& d) {
    message.add(message_id);
    address.add(std::string_view(r.address));
    domain.add(std::string_view(r.domain));
    notify.add(null_if_empty(r.dsn.notify.to_string()));
    orcpt.add(null_if_empty(r.dsn.orcpt));
    mailer.add(null_if_empty(r.mailer));
    warn_at.add(d.warn_at);
    expires_at.add(d.expires_at);
    queue_id.add(std::string_view(m.queue_id));
    detail.add(std::string_view(event_detail(m, d)));
    instance.add(std::string_view(m.instance));
    empty = false;
  }
};

void insert_recipients_in_bulk(Database& db, const NewRecipients& r, RecordSource source,
                               EpochSeconds now) {
  if (r.empty) return;
  Statement& recipients = db.prepare(
      "INSERT INTO recipients (message, address, domain, notify, orcpt, mailer, state, warn_at,"
      " expires_at, state_changed_at)"
      " SELECT message, address, domain, notify, orcpt, mailer, 'queued', warn_at, expires_at,"
      " ?9::bigint FROM unnest(?1::bigint[], ?2::text[], ?3::text[], ?4::text[], ?5::text[],"
      " ?6::text[], ?7::bigint[], ?8::bigint[]) WITH ORDINALITY AS r (message, address, domain,"
      " notify, orcpt, mailer, warn_at, expires_at, n) ORDER BY n");
  recipients.bind(1, r.message.literal()).bind(2, r.address.literal());
  recipients.bind(3, r.domain.literal()).bind(4, r.notify.literal());
  recipients.bind(5, r.orcpt.literal()).bind(6, r.mailer.literal());
  recipients.bind(7, r.warn_at.literal()).bind(8, r.expires_at.literal()).bind(9, now);
  recipients.run();
  Statement& events = db.prepare(
      "INSERT INTO events (at, queue_id, recipient, kind, detail, instance)"
      " SELECT ?1::bigint, queue_id, recipient, ?2::text, detail, instance"
      " FROM unnest(?3::text[], ?4::text[], ?5::text[], ?6::text[]) WITH ORDINALITY"
      " AS e (queue_id, recipient, detail, instance, n) ORDER BY n");
  events.bind(1, now).bind(2, event_kind(source)).bind(3, r.queue_id.literal());
  events.bind(4, r.address.literal()).bind(5, r.detail.literal());
  events.bind(6, r.instance.literal());
  events.run();
}

// record_one's rules for a whole batch: a message whose key is recorded
// (before or earlier in the batch) gets only the recipients not yet
// recorded for it; a new one all of its recipients.
std::vector<std::int64_t> record_in_bulk(Database& db, std::span<const MessageToRecord> batch,
                                         RecordSource source, EpochSeconds now) {
  std::map<MessageKey, std::int64_t> ids = existing_messages_in_bulk(db, batch);
  std::set<std::int64_t> existing;
  for (const auto& [key, id] : ids) existing.insert(id);
  std::vector<const MessageRecord*> fresh;
  std::set<MessageKey> fresh_keys;
  for (const MessageToRecord& item : batch) {
    const MessageKey key = key_of(item.message);
    if (!ids.contains(key) && fresh_keys.insert(key).second) fresh.push_back(&item.message);
  }
  if (!fresh.empty()) ids.merge(insert_messages_in_bulk(db, fresh, source, now));
  std::set<std::pair<std::int64_t, std::string>> recorded =
      recorded_recipients_in_bulk(db, existing);

  NewRecipients recipients;
  std::set<MessageKey> seen;  // recorded by the time this item comes
  std::vector<std::int64_t> result;
  result.reserve(batch.size());
  for (const MessageToRecord& item : batch) {
    const MessageRecord& m = item.message;
    const std::int64_t id = ids.at(key_of(m));
    const bool recorded_before = existing.contains(id) || !seen.insert(key_of(m)).second;
    for (std::size_t i = 0; i < m.recipients.size(); ++i) {
      const RecipientRecord& r = m.recipients[i];
      if (recorded_before && recorded.contains({id, r.address})) continue;
      recipients.add(id, m, r, item.deadlines[i]);
      recorded.emplace(id, r.address);
    }
    result.push_back(id);
  }
  insert_recipients_in_bulk(db, recipients, source, now);
  return result;
}

Status check_batch(std::span<const MessageToRecord> batch) {
  for (const MessageToRecord& item : batch) {
    if (item.deadlines.size() != item.message.recipients.size()) {
      return make_error("record for " + item.message.queue_id + ": " +
                        std::to_string(item.deadlines.size()) + " deadlines for " +
                        std::to_string(item.message.recipients.size()) + " recipients");
    }
  }
  return ok_status();
}

}  // namespace

std::vector<std::int64_t> insert_messages(Database& db, std::span<const MessageToRecord> batch,
                                          RecordSource source, EpochSeconds now) {
  if (Status checked = check_batch(batch); !checked)
    throw std::invalid_argument(checked.error().message);
  std::vector<std::int64_t> ids;
  ids.reserve(batch.size());
  Transaction transaction(db);
  if (db.engine() == SqlEngine::postgresql) {
    ids = record_in_bulk(db, batch, source, now);
  } else {
    for (const MessageToRecord& item : batch) ids.push_back(record_one(db, item, source, now));
  }
  transaction.commit();
  return ids;
}

Result<std::vector<std::int64_t>> record_messages(Database& db,
                                                  std::span<const MessageToRecord> batch,
                                                  RecordSource source, EpochSeconds now) {
  ETRN_TRY(check_batch(batch));
  try {
    return insert_messages(db, batch, source, now);
  } catch (const DatabaseError& e) {
    return make_error(std::string("recording ") + std::to_string(batch.size()) +
                      " message(s) failed: " + e.what());
  }
}

}  // namespace etrn
