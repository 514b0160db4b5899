// sweep_store.cpp - the sweeper's queries (see sweep_store.hpp). Every
// statement is prepared with bound parameters; state changes append their
// event in the same transaction as the change.
#include "common/store/sweep_store.hpp"

#include <algorithm>
#include <set>

#include "common/store/audit_reads.hpp"
#include "common/store/records.hpp"
#include "common/store/sql_dialect.hpp"
#include "common/util/strings.hpp"

namespace etrn {

namespace {

RecordedMessage message_from_row(Statement& s) {
  RecordedMessage m;
  m.id = s.column_int(0);
  m.queue_id = s.column_text(1);
  m.arrival_time = s.column_int(2);
  m.mta_arrival_time = s.column_optional_int(3);
  m.envelope.sender = s.column_text(4);
  m.envelope.ret = parse_return_content(s.column_text(5));
  m.envelope.envid = s.column_text(6);
  m.envelope.smtputf8 = s.column_int(7) != 0;
  m.priority = parse_priority_name(s.column_text(8)).value_or(Priority::normal);
  m.recorded_at = s.column_int(10);
  m.match_reference = s.column_text(9) == "reinjected" ? m.recorded_at : m.arrival_time;
  m.held_by_sweeper = !s.column_is_null(19);
  return m;
}

RecordedRecipient recipient_from_row(Statement& s, int first) {
  RecordedRecipient r;
  r.id = s.column_int(first);
  r.address = s.column_text(first + 1);
  r.domain = s.column_text(first + 2);
  if (!s.column_is_null(first + 3)) r.dsn.notify = Notify::parse(s.column_text(first + 3));
  r.dsn.orcpt = s.column_text(first + 4);
  r.state = parse_recipient_state(s.column_text(first + 5)).value_or(RecipientState::queued);
  r.deadlines.warn_at = s.column_optional_int(first + 6);
  r.deadlines.expires_at = s.column_int(first + 7);
  return r;
}

// A recorded message row joined with its recipient rows (message_from_row, recipient_from_row).
constexpr const char* kRecordedMessages =
    "SELECT m.id, m.queue_id, m.arrival_time, a.at, m.sender, m.ret, m.envid,"
    " m.smtputf8, m.priority, m.source, m.recorded_at, r.id, r.address, r.domain, r.notify,"
    " r.orcpt, r.state, r.warn_at, r.expires_at, m.held_by_sweeper_at"
    " FROM messages m LEFT JOIN mta_arrivals a ON a.message = m.id"
    " LEFT JOIN recipients r ON r.message = m.id";

// The rows of kRecordedMessages, ordered by message, as messages one at a time.
void each_message_of_rows(Statement& s, const std::function<void(RecordedMessage&&)>& each) {
  std::optional<RecordedMessage> current;
  while (s.step()) {
    if (!current || current->id != s.column_int(0)) {
      if (current) each(std::move(*current));
      current = message_from_row(s);
    }
    if (!s.column_is_null(11)) current->recipients.push_back(recipient_from_row(s, 11));
  }
  if (current) each(std::move(*current));
}

std::vector<RecordedMessage> messages_from_rows(Statement& s) {
  std::vector<RecordedMessage> messages;
  each_message_of_rows(s, [&messages](RecordedMessage&& m) { messages.push_back(std::move(m)); });
  return messages;
}

std::optional<std::string> null_if_empty(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return text;
}

std::string join_ids(const std::vector<std::int64_t>& ids) {
  std::string out;
  for (std::int64_t id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

std::vector<std::int64_t> split_ids(const std::string& text) {
  std::vector<std::int64_t> ids;
  for (const std::string& piece : split_list(text, ',')) ids.push_back(std::stoll(piece));
  return ids;
}

// The milter's own row for a re-injected message, if it got there first.
std::optional<std::int64_t> open_row_for(Database& db, const std::string& queue_id,
                                         std::int64_t other_than) {
  Statement& s = db.prepare(
      "SELECT id FROM messages WHERE queue_id = ?1 AND done_at IS NULL AND id != ?2 "
      "AND instance IN (?3, '') ORDER BY id DESC LIMIT 1");
  s.bind(1, queue_id).bind(2, other_than).bind(3, db.instance());
  std::optional<std::int64_t> id;
  if (s.step()) id = s.column_int(0);
  s.reset();
  return id;
}

std::int64_t copy_message_row(Database& db, std::int64_t old_id, const std::string& new_queue_id,
                              EpochSeconds real_now) {
  Statement& s = db.prepare_insert(
      "INSERT INTO messages (queue_id, arrival_time, sender, ret, envid, smtputf8, size, "
      "message_id, subject,"
      " priority, client_addr, client_name, helo, auth_user, source, recorded_at, instance)"
      " SELECT ?1, arrival_time, sender, ret, envid, smtputf8, size, message_id, subject, priority,"
      " client_addr, client_name, helo, auth_user, 'reinjected', ?2, ?4"
      " FROM messages WHERE id = ?3");
  return s.bind(1, new_queue_id).bind(2, real_now).bind(3, old_id).bind(4, db.instance()).insert();
}

// Takes over the milter's row: the original clock, and no duplicate recipients.
void adopt_milter_row(Database& db, std::int64_t row, std::int64_t old_id, EpochSeconds real_now) {
  db.prepare(
        "UPDATE messages SET arrival_time = (SELECT arrival_time FROM messages WHERE id = ?2),"
        " source = 'reinjected', recorded_at = ?3 WHERE id = ?1")
      .bind(1, row)
      .bind(2, old_id)
      .bind(3, real_now)
      .run();
  db.prepare("DELETE FROM mta_arrivals WHERE message = ?1").bind(1, row).run();
  db.prepare(
        "DELETE FROM recipients WHERE message = ?1 AND address IN"
        " (SELECT address FROM recipients WHERE message = ?2)")
      .bind(1, row)
      .bind(2, old_id)
      .run();
}

}  // namespace

std::optional<RecipientRef> recipient_ref(Database& db, std::int64_t recipient_id) {
  Statement& s = db.prepare(
      "SELECT r.address, m.queue_id FROM recipients r JOIN messages m ON m.id = r.message WHERE "
      "r.id = ?1");
  s.bind(1, recipient_id);
  std::optional<RecipientRef> ref;
  if (s.step()) ref = RecipientRef{recipient_id, s.column_text(1), s.column_text(0)};
  s.reset();
  return ref;
}

std::vector<RecordedMessage> load_open_messages(Database& db) {
  std::vector<RecordedMessage> messages;
  for_each_open_message(db, [&messages](RecordedMessage&& m) { messages.push_back(std::move(m)); });
  return messages;
}

void for_each_open_message(Database& db, const std::function<void(RecordedMessage&&)>& each) {
  Statement& s = db.prepare(std::string(kRecordedMessages) +
                            " WHERE m.done_at IS NULL AND m.instance IN (?1, '')"
                            " ORDER BY m.id, r.id");
  each_message_of_rows(s.bind(1, db.instance()), each);
}

std::int64_t count_open_messages(Database& db) {
  Statement& s =
      db.prepare("SELECT count(*) FROM messages WHERE done_at IS NULL AND instance IN (?1, '')");
  s.bind(1, db.instance());
  const std::int64_t count = s.step() ? s.column_int(0) : 0;
  s.reset();
  return count;
}

std::vector<std::pair<std::string, std::int64_t>> take_over_renamed_host(Database& db) {
  std::vector<std::pair<std::string, std::int64_t>> renamed;
  Statement& names = db.prepare(
      "SELECT instance, count(*) FROM messages WHERE done_at IS NULL AND instance NOT IN (?1, '')"
      " GROUP BY instance ORDER BY instance");
  names.bind(1, db.instance());
  while (names.step()) renamed.emplace_back(names.column_text(0), names.column_int(1));
  Statement& unsent = db.prepare(
      "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND closed_at IS NULL"
      " AND instance NOT IN (?1, '')");
  unsent.bind(1, db.instance());
  const bool outbox_renamed = unsent.step() && unsent.column_int(0) > 0;
  unsent.reset();
  if (renamed.empty() && !outbox_renamed) return renamed;
  Transaction transaction(db);
  db.prepare("UPDATE messages SET instance = ?1 WHERE done_at IS NULL AND instance NOT IN (?1, '')")
      .bind(1, db.instance())
      .run();
  db.prepare(
        "UPDATE outbox SET instance = ?1 WHERE sent_at IS NULL AND closed_at IS NULL"
        " AND instance NOT IN (?1, '')")
      .bind(1, db.instance())
      .run();
  transaction.commit();
  return renamed;
}

std::vector<RecordedMessage> load_messages(Database& db, std::vector<std::int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  std::string list = "[";  // one bound JSON array, one prepared statement for any number
  for (std::int64_t id : ids) list += (list.size() == 1 ? "" : ",") + std::to_string(id);
  list += "]";
  static constexpr EngineSql kIdsOfList = {
      " WHERE m.id IN (SELECT value FROM json_each(?1)) ORDER BY m.id, r.id",
      " WHERE m.id IN (SELECT jsonb_array_elements_text(?1::jsonb)::bigint) ORDER BY m.id, r.id"};
  Statement& s = db.prepare(std::string(kRecordedMessages) + kIdsOfList.in(db.engine()));
  return messages_from_rows(s.bind(1, list));
}

std::optional<RecordedMessage> load_reopenable(Database& db, const std::string& queue_id,
                                               EpochSeconds mta_arrival_time) {
  Statement& find = db.prepare(
      "SELECT m.id FROM messages m LEFT JOIN mta_arrivals a ON a.message = m.id"
      " WHERE m.queue_id = ?1 AND m.instance IN (?3, '') AND m.done_at IS NOT NULL AND"
      " (a.at = ?2 OR (a.at IS NULL AND abs(m.arrival_time - ?2) <= 3600)) AND EXISTS (SELECT 1 "
      "FROM recipients r"
      " WHERE r.message = m.id AND r.state = 'departed' AND r.departed_from IS NOT NULL)"
      " ORDER BY m.id DESC LIMIT 1");
  find.bind(1, queue_id).bind(2, mta_arrival_time).bind(3, db.instance());
  const std::optional<std::int64_t> id =
      find.step() ? std::optional<std::int64_t>(find.column_int(0)) : std::nullopt;
  find.reset();
  if (!id) return std::nullopt;
  Statement& load = db.prepare(std::string(kRecordedMessages) + " WHERE m.id = ?1 ORDER BY r.id");
  std::vector<RecordedMessage> found = messages_from_rows(load.bind(1, *id));
  RecordedMessage m = std::move(found.at(0));
  m.reopened = true;
  Statement& departed = db.prepare(
      "SELECT id, departed_from FROM recipients WHERE message = ?1 AND state = 'departed' AND"
      " departed_from IS NOT NULL");
  departed.bind(1, *id);
  while (departed.step()) {
    for (RecordedRecipient& r : m.recipients) {
      if (r.id != departed.column_int(0)) continue;
      r.state = parse_recipient_state(departed.column_text(1)).value_or(RecipientState::queued);
      r.reopened = true;
    }
  }
  return m;
}

void set_mta_arrival(Database& db, std::int64_t message_id, EpochSeconds mta_arrival_time) {
  db.prepare(
        "INSERT INTO mta_arrivals (message, at) VALUES (?1, ?2)"
        " ON CONFLICT (message) DO UPDATE SET at = excluded.at")
      .bind(1, message_id)
      .bind(2, mta_arrival_time)
      .run();
}

void set_mta_arrivals(Database& db,
                      const std::vector<std::pair<std::int64_t, EpochSeconds>>& arrivals) {
  // A few thousand a statement, as a JSON array of integers: [[id,time],...].
  // (SQLite's upsert needs the WHERE: without it, ON would read as a join's.)
  static constexpr EngineSql kStorePairs = {
      "INSERT INTO mta_arrivals (message, at)"
      " SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1)"
      " WHERE true ON CONFLICT (message) DO UPDATE SET at = excluded.at",
      // PostgreSQL's upsert may change a row once a statement: a message
      // listed twice keeps its last time, as SQLite's does.
      "INSERT INTO mta_arrivals (message, at)"
      " SELECT DISTINCT ON (id) id, at FROM (SELECT (pair->>0)::bigint AS id,"
      "   (pair->>1)::bigint AS at, n FROM jsonb_array_elements(?1::jsonb) WITH ORDINALITY"
      "   AS listed (pair, n)) AS arrivals ORDER BY id, n DESC"
      " ON CONFLICT (message) DO UPDATE SET at = excluded.at"};
  constexpr std::size_t kChunk = 5000;
  for (std::size_t start = 0; start < arrivals.size(); start += kChunk) {
    std::string pairs = "[";
    for (std::size_t i = start; i < std::min(arrivals.size(), start + kChunk); ++i) {
      if (pairs.size() > 1) pairs += ',';
      pairs +=
          '[' + std::to_string(arrivals[i].first) + ',' + std::to_string(arrivals[i].second) + ']';
    }
    pairs += ']';
    db.prepare(kStorePairs.in(db.engine())).bind(1, pairs).run();
  }
}

void mark_held_by_sweeper(Database& db, std::int64_t message_id, EpochSeconds now) {
  db.prepare("UPDATE messages SET held_by_sweeper_at = ?2 WHERE id = ?1")
      .bind(1, message_id)
      .bind(2, now)
      .run();
}

void clear_held_by_sweeper(Database& db, std::int64_t message_id) {
  db.prepare("UPDATE messages SET held_by_sweeper_at = NULL WHERE id = ?1")
      .bind(1, message_id)
      .run();
}

void update_deadlines(Database& db, std::int64_t recipient_id, const Deadlines& deadlines) {
  db.prepare("UPDATE recipients SET warn_at = ?2, expires_at = ?3 WHERE id = ?1")
      .bind(1, recipient_id)
      .bind(2, deadlines.warn_at)
      .bind(3, deadlines.expires_at)
      .run();
}

void mark_done(Database& db, std::int64_t message_id, EpochSeconds now) {
  db.prepare("UPDATE messages SET done_at = ?2 WHERE id = ?1 AND done_at IS NULL")
      .bind(1, message_id)
      .bind(2, now)
      .run();
}

void append_event(Database& db, EpochSeconds at, const std::string& queue_id,
                  const std::string& recipient, std::string_view kind, const std::string& detail) {
  Statement& s = db.prepare(
      "INSERT INTO events (at, queue_id, recipient, kind, detail, instance)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  s.bind(1, at).bind(2, queue_id).bind(6, db.instance());
  s.bind(3,
         recipient.empty() ? std::optional<std::string>() : std::optional<std::string>(recipient));
  s.bind(4, kind).bind(
      5, detail.empty() ? std::optional<std::string>() : std::optional<std::string>(detail));
  s.run();
}

void set_recipient_state(Database& db, const RecipientRef& r, RecipientState state,
                         const std::string& detail, EpochSeconds now) {
  db.prepare("UPDATE recipients SET state = ?2, state_changed_at = ?3 WHERE id = ?1")
      .bind(1, r.id)
      .bind(2, to_string(state))
      .bind(3, now)
      .run();
  append_event(db, now, r.queue_id, r.address, to_string(state), detail);
}

void depart_recipient(Database& db, const RecipientRef& r, std::optional<RecipientState> reopen_as,
                      const std::string& detail, EpochSeconds now) {
  set_recipient_state(db, r, RecipientState::departed, detail, now);
  if (!reopen_as) return;
  db.prepare("UPDATE recipients SET departed_from = ?2 WHERE id = ?1")
      .bind(1, r.id)
      .bind(2, to_string(*reopen_as))
      .run();
}

void reopen_message(Database& db, std::int64_t message_id) {
  db.prepare("UPDATE messages SET done_at = NULL WHERE id = ?1").bind(1, message_id).run();
}

void reopen_recipient(Database& db, const RecipientRef& r, RecipientState state,
                      const std::string& detail, EpochSeconds now) {
  db.prepare(
        "UPDATE recipients SET state = ?2, state_changed_at = ?3, departed_from = NULL"
        " WHERE id = ?1")
      .bind(1, r.id)
      .bind(2, to_string(state))
      .bind(3, now)
      .run();
  append_event(db, now, r.queue_id, r.address, "reopened", detail);
}

void follow_recipient(Database& db, std::int64_t recipient_id, const RecipientRecord& as) {
  db.prepare("UPDATE recipients SET address = ?2, domain = ?3, orcpt = ?4 WHERE id = ?1")
      .bind(1, recipient_id)
      .bind(2, as.address)
      .bind(3, as.domain)
      .bind(4, null_if_empty(as.dsn.orcpt))
      .run();
}

std::int64_t add_recipient(Database& db, std::int64_t message_id, const NewRecipient& r,
                           EpochSeconds now) {
  const RecipientRecord& rec = r.record;
  return db
      .prepare_insert(
          "INSERT INTO recipients (message, address, domain, notify, orcpt, mailer, state, warn_at,"
          " expires_at, state_changed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")
      .bind(1, message_id)
      .bind(2, rec.address)
      .bind(3, rec.domain)
      .bind(4, null_if_empty(rec.dsn.notify.to_string()))
      .bind(5, null_if_empty(rec.dsn.orcpt))
      .bind(6, null_if_empty(rec.mailer))
      .bind(7, to_string(r.state))
      .bind(8, r.deadlines.warn_at)
      .bind(9, r.deadlines.expires_at)
      .bind(10, now)
      .insert();
}

void mark_removed(Database& db, std::int64_t message_id, const std::string& queue_id,
                  const std::vector<std::string>& addresses, const std::string& detail,
                  EpochSeconds now) {
  mark_done(db, message_id, now);
  for (const std::string& address : addresses)
    append_event(db, now, queue_id, address, "removed", detail);
}

std::optional<std::int64_t> adopt_message(Database& db, const MessageToRecord& item,
                                          EpochSeconds now) {
  const MessageRecord& m = item.message;
  Statement& find = db.prepare(
      "SELECT 1 FROM messages m LEFT JOIN mta_arrivals a ON a.message = m.id"
      " WHERE m.queue_id = ?1 AND m.instance IN (?3, '')"
      " AND (a.at = ?2 OR (a.at IS NULL AND abs(m.arrival_time - ?2) <= 3600))");
  find.bind(1, m.queue_id).bind(2, m.arrival_time).bind(3, db.instance());
  const bool exists = find.step();
  find.reset();
  if (exists) return std::nullopt;
  MessageToRecord adopted = item;  // found in this host's queue: this host's record
  adopted.message.instance = db.instance();
  const std::int64_t id =
      insert_messages(db, std::span<const MessageToRecord>(&adopted, 1), RecordSource::adopted, now)
          .front();
  set_mta_arrival(db, id, m.arrival_time);
  return id;
}

std::map<std::string, std::int64_t> recipient_ids(Database& db, std::int64_t message_id) {
  Statement& s = db.prepare("SELECT address, id FROM recipients WHERE message = ?1");
  s.bind(1, message_id);
  std::map<std::string, std::int64_t> ids;
  while (s.step()) ids.emplace(s.column_text(0), s.column_int(1));
  return ids;
}

std::int64_t move_survivors(Database& db, std::int64_t old_message_id,
                            const std::string& new_queue_id, const std::vector<std::int64_t>& ids,
                            EpochSeconds real_now) {
  std::optional<std::int64_t> row = open_row_for(db, new_queue_id, old_message_id);
  if (row) {
    adopt_milter_row(db, *row, old_message_id, real_now);
  } else {
    row = copy_message_row(db, old_message_id, new_queue_id, real_now);
  }
  for (std::int64_t id : ids) {
    std::optional<RecipientRef> ref = recipient_ref(db, id);
    db.prepare("UPDATE recipients SET message = ?2 WHERE id = ?1").bind(1, id).bind(2, *row).run();
    if (ref)
      append_event(db, real_now, ref->queue_id, ref->address, "reinjected", "as " + new_queue_id);
  }
  return *row;
}

void merge_messages(Database& db, std::int64_t keep, std::int64_t drop, EpochSeconds now) {
  db.prepare(
        "DELETE FROM recipients WHERE message = ?2 AND address IN"
        " (SELECT address FROM recipients WHERE message = ?1)")
      .bind(1, keep)
      .bind(2, drop)
      .run();
  db.prepare("UPDATE recipients SET message = ?1 WHERE message = ?2")
      .bind(1, keep)
      .bind(2, drop)
      .run();
  mark_done(db, drop, now);
}

std::vector<std::int64_t> next_outbox_ids(Database& db, std::int64_t count) {
  // SQLite: after the highest (one host, under its run lock). PostgreSQL:
  // the hosts' sweepers insert at the same time, each under its own run
  // lock, so the ids come from the column's sequence, which hands each
  // value out once whatever the transactions do.
  static constexpr EngineSql kNextIds = {
      "WITH RECURSIVE n (k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < ?1)"
      " SELECT (SELECT COALESCE(MAX(id), 0) FROM outbox) + k FROM n",
      "SELECT nextval(pg_get_serial_sequence('outbox', 'id')) FROM generate_series(1, ?1)"};
  Statement& s = db.prepare(kNextIds.in(db.engine()));
  s.bind(1, count);
  std::vector<std::int64_t> ids;
  while (s.step()) ids.push_back(s.column_int(0));
  return ids;
}

std::int64_t next_outbox_id(Database& db) {
  return next_outbox_ids(db, 1).front();
}

void insert_outbox(Database& db, const OutboxRow& row) {
  db.prepare(
        "INSERT INTO outbox (id, message, kind, recipient_ids, dsn_message_id, spool_path, "
        "created_at, dsn_text, dsn_recipient, headers_only, instance)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")
      .bind(1, row.id)
      .bind(2, row.message_id)
      .bind(3, to_string(row.kind))
      .bind(4, join_ids(row.recipient_ids))
      .bind(5, row.dsn_message_id)
      .bind(6, row.spool_path)
      .bind(7, row.created_at)
      .bind(8, row.dsn_text)
      .bind(9, row.sender.empty() ? std::nullopt : std::optional<std::string>(row.sender))
      .bind(10, std::int64_t{row.headers_only ? 1 : 0})
      .bind(11, db.instance())
      .run();
}

std::vector<OutboxRow> unsent_outbox(Database& db) {
  Statement& s = db.prepare(
      "SELECT o.id, o.message, o.kind, o.recipient_ids, o.dsn_message_id, o.spool_path,"
      " o.created_at, m.queue_id, COALESCE(o.dsn_recipient, m.sender), COALESCE(o.dsn_text, ''),"
      " o.attempts, o.next_attempt_at, o.headers_only, a.at"
      " FROM outbox o JOIN messages m ON m.id = o.message"
      " LEFT JOIN mta_arrivals a ON a.message = m.id"
      " WHERE o.sent_at IS NULL AND o.closed_at IS NULL AND o.instance IN (?1, '')"
      " ORDER BY o.id");
  s.bind(1, db.instance());
  std::vector<OutboxRow> rows;
  while (s.step()) {
    OutboxRow row;
    row.id = s.column_int(0);
    row.message_id = s.column_int(1);
    row.kind = parse_dsn_kind(s.column_text(2)).value_or(DsnKind::failed);
    row.recipient_ids = split_ids(s.column_text(3));
    row.dsn_message_id = s.column_text(4);
    row.spool_path = s.column_text(5);
    row.created_at = s.column_int(6);
    row.queue_id = s.column_text(7);
    row.sender = s.column_text(8);
    row.dsn_text = s.column_text(9);
    row.attempts = static_cast<int>(s.column_int(10));
    row.next_attempt_at = s.column_optional_int(11);
    row.headers_only = s.column_int(12) != 0;
    row.mta_arrival_time = s.column_optional_int(13);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::int64_t> in_flight_recipient_ids(Database& db) {
  Statement& s = db.prepare(
      "SELECT recipient_ids FROM outbox WHERE sent_at IS NULL AND closed_at IS NULL"
      " AND instance IN (?1, '')");
  s.bind(1, db.instance());
  std::vector<std::int64_t> ids;
  while (s.step()) {
    for (std::int64_t id : split_ids(s.column_text(0))) ids.push_back(id);
  }
  return ids;
}

void reschedule_outbox(Database& db, const OutboxRow& row, EpochSeconds next_attempt_at,
                       const std::string& error) {
  db.prepare(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3"
        " WHERE id = ?1")
      .bind(1, row.id)
      .bind(2, next_attempt_at)
      .bind(3, error)
      .run();
}

void shorten_outbox_text(Database& db, std::int64_t row_id, const std::string& text) {
  db.prepare("UPDATE outbox SET dsn_text = ?2, headers_only = 1 WHERE id = ?1")
      .bind(1, row_id)
      .bind(2, text)
      .run();
}

void close_outbox(Database& db, std::int64_t row_id, EpochSeconds now, const std::string& why) {
  db.prepare(
        "UPDATE outbox SET closed_at = ?2, closed_why = ?3, dsn_text = NULL"
        " WHERE id = ?1 AND sent_at IS NULL")
      .bind(1, row_id)
      .bind(2, now)
      .bind(3, why)
      .run();
}

std::string dsn_label(const OutboxRow& row) {
  return std::string(row.kind == DsnKind::delayed ? "delay" : "failure") + " DSN <" +
         row.dsn_message_id + ">";
}

void append_outbox_events(Database& db, const OutboxRow& row, EpochSeconds now,
                          std::string_view kind, const std::string& detail) {
  for (std::int64_t id : row.recipient_ids) {
    if (auto ref = recipient_ref(db, id))
      append_event(db, now, ref->queue_id, ref->address, kind, detail);
  }
}

void finalize_outbox(Database& db, const OutboxRow& row, EpochSeconds now) {
  Transaction transaction(db);
  Statement& mark = db.prepare(
      "UPDATE outbox SET sent_at = ?2, dsn_text = NULL WHERE id = ?1 AND sent_at IS NULL");
  mark.bind(1, row.id).bind(2, now).run();
  if (db.changes() == 0) return;  // finalized before
  const bool delayed = row.kind == DsnKind::delayed;
  const std::string detail = dsn_label(row);
  for (std::int64_t id : row.recipient_ids) {
    std::optional<RecipientRef> ref = recipient_ref(db, id);
    if (!ref) {
      // The row went (merged into another record) after the DSN was
      // planned: the DSN went out all the same, and the history says so.
      append_event(db, now, row.queue_id, "", "bounce_sent",
                   detail + " for recipient row " + std::to_string(id) + ", no longer recorded");
      continue;
    }
    append_event(db, now, ref->queue_id, ref->address, "bounce_sent", detail);
    set_recipient_state(db, *ref, delayed ? RecipientState::warned : RecipientState::expired,
                        detail, now);
  }
  transaction.commit();
}

std::vector<AuditRow> audit_rows(Database& db, const std::optional<RecipientState>& state) {
  AuditFilter filter;
  filter.state = state;
  return audit_rows(db, filter);
}

std::vector<WaitingRecipient> waiting_recipients(Database& db,
                                                 const std::optional<std::string>& instance) {
  Statement& s = db.prepare(
      "SELECT r.domain, m.arrival_time FROM recipients r JOIN messages m ON m.id = r.message"
      " WHERE r.state IN ('queued', 'warned')"
      " AND (CAST(?1 AS TEXT) IS NULL OR m.instance IN (?1, '')) ORDER BY r.domain");
  s.bind(1, instance);
  std::vector<WaitingRecipient> rows;
  while (s.step()) rows.push_back(WaitingRecipient{s.column_text(0), s.column_int(1)});
  return rows;
}

}  // namespace etrn
