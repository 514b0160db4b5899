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
#include "common/store/records.hpp"

#include <optional>
#include <stdexcept>
#include <string>

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
  for (const MessageToRecord& item : batch) ids.push_back(record_one(db, item, source, now));
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
