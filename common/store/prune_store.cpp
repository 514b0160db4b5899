// prune_store.cpp - deleting closed history (see prune_store.hpp).
#include "common/store/prune_store.hpp"

#include <limits>

#include "common/store/sql_dialect.hpp"
#include "common/store/sweep_store.hpp"
#include "common/util/time_format.hpp"

namespace etrn {

namespace {

constexpr EpochSeconds kAnyAge = std::numeric_limits<EpochSeconds>::max();

// The condition on `column` that keeps this host's rows, with parameter
// `n` bound to db.instance(). In a shared (PostgreSQL) store: its own rows
// and those that name no host. An SQLite file holds one host's rows
// whatever name they carry (a host renamed since wrote the older ones), so
// there every row is this host's; the parameter stays in the text, always
// true, for the same binding to fit both.
std::string this_hosts(const Database& db, const std::string& column, int n) {
  const std::string parameter = "?" + std::to_string(n);
  if (db.engine() == SqlEngine::sqlite) return "CAST(" + parameter + " AS TEXT) IS NOT NULL";
  return column + " IN (" + parameter + ", '')";
}

// Runs `work` inside the caller's transaction with the permit the schema's
// triggers require, and withdraws it before the caller commits. A failure
// rolls back with the transaction, permit and all.
template <typename Work>
auto under_permit(Database& db, EpochSeconds cutoff, const std::optional<std::string>& address,
                  Work&& work) {
  db.prepare("DELETE FROM prune_permit").run();
  db.prepare("INSERT INTO prune_permit (cutoff, address) VALUES (?1, ?2)")
      .bind(1, cutoff)
      .bind(2, address)
      .run();
  auto result = work();
  db.prepare("DELETE FROM prune_permit").run();
  return result;
}

std::int64_t count_of(Statement& query) {
  query.step();
  const std::int64_t n = query.column_int(0);
  query.reset();
  return n;
}

std::int64_t run_counted(Database& db, Statement& statement) {
  statement.run();
  return db.changes();
}

// The messages of this batch, by id with their queue ID, in a temporary
// table (the queries name it without a schema: both engines look for a
// temporary table first).
void clear_batch(Database& db) {
  static constexpr EngineSql kCreate = {
      "CREATE TEMP TABLE IF NOT EXISTS prune_batch (id INTEGER PRIMARY KEY, queue_id TEXT NOT "
      "NULL)",
      "CREATE TEMP TABLE IF NOT EXISTS prune_batch (id BIGINT PRIMARY KEY, queue_id TEXT NOT "
      "NULL)"};
  db.exec(kCreate.in(db.engine()));
  db.prepare("DELETE FROM prune_batch").run();
}

// This host's closed messages last changed before the cutoff (this_hosts),
// those closed longest ago first.
std::int64_t select_aged(Database& db, EpochSeconds cutoff, std::int64_t limit) {
  clear_batch(db);
  return run_counted(
      db, db.prepare("INSERT INTO prune_batch (id, queue_id)"
                     " SELECT m.id, m.queue_id FROM messages AS m"
                     " WHERE " +
                     this_hosts(db, "m.instance", 3) +
                     " AND m.done_at < ?1"
                     " AND NOT EXISTS (SELECT 1 FROM recipients AS r WHERE r.message = m.id"
                     "   AND (r.state NOT IN ('expired', 'departed') OR r.state_changed_at >= ?1))"
                     " AND NOT EXISTS (SELECT 1 FROM outbox AS o WHERE o.message = m.id"
                     "   AND (COALESCE(o.sent_at, o.closed_at) IS NULL"
                     "        OR COALESCE(o.sent_at, o.closed_at) >= ?1))"
                     " ORDER BY m.done_at LIMIT ?2")
              .bind(1, cutoff)
              .bind(2, limit)
              .bind(3, db.instance()));
}

// When message m began: the earlier of its arrival and its recording (the
// two-argument MIN of SQLite is LEAST on PostgreSQL; CASE is both's).
constexpr const char* kMessageBegan =
    "CASE WHEN m.arrival_time < m.recorded_at THEN m.arrival_time ELSE m.recorded_at END";

// A message's events: its queue ID's, unless an open message has that ID
// or a recorded one had arrived by then (its own history, or a reused ID's).
const std::string& no_owner_left() {
  static const std::string text =
      std::string(
          " NOT EXISTS (SELECT 1 FROM messages AS m WHERE m.queue_id = e.queue_id"
          "   AND (m.done_at IS NULL OR ") +
      kMessageBegan + " <= e.at))";
  return text;
}

// Deletes the batch's messages with their outbox rows, recipients, and
// events from before `events_before`.
PruneCounts delete_batch(Database& db, EpochSeconds events_before) {
  PruneCounts n;
  n.outbox = run_counted(
      db, db.prepare("DELETE FROM outbox WHERE message IN (SELECT id FROM prune_batch)"));
  n.recipients = run_counted(
      db, db.prepare("DELETE FROM recipients WHERE message IN (SELECT id FROM prune_batch)"));
  db.prepare("DELETE FROM mta_arrivals WHERE message IN (SELECT id FROM prune_batch)").run();
  n.messages =
      run_counted(db, db.prepare("DELETE FROM messages WHERE id IN (SELECT id FROM prune_batch)"));
  n.events = run_counted(
      db,
      db.prepare(std::string("DELETE FROM events WHERE id IN (SELECT e.id FROM"
                             " (SELECT DISTINCT queue_id FROM prune_batch) AS b"
                             " JOIN events AS e ON e.queue_id = b.queue_id WHERE e.at < ?1 AND") +
                 no_owner_left() + ")")
          .bind(1, events_before));
  return n;
}

PruneCounts prune_one_batch(Database& db, EpochSeconds cutoff, std::int64_t limit) {
  if (select_aged(db, cutoff, limit) == 0) return {};
  return delete_batch(db, cutoff);
}

// Events from before the cutoff whose queue ID no recorded message has any
// more: left by a message pruned while another with its reused ID was still
// recorded, or written after its message's last change; and earlier
// prunes' own `pruned` events (the latest ones still say where the history
// was cut). An `erased` event stays: it answers for an erasure. This
// host's events only (this_hosts).
std::int64_t delete_orphan_events(Database& db, EpochSeconds cutoff, std::int64_t limit) {
  return run_counted(
      db, db.prepare("DELETE FROM events WHERE id IN (SELECT e.id FROM events AS e"
                     " WHERE e.at < ?1 AND " +
                     this_hosts(db, "e.instance", 3) +
                     " AND (e.queue_id <> '' OR e.kind = 'pruned')"
                     " AND NOT EXISTS (SELECT 1 FROM messages AS m WHERE m.queue_id = e.queue_id)"
                     " LIMIT ?2)")
              .bind(1, cutoff)
              .bind(2, limit)
              .bind(3, db.instance()));
}

// Runs `step` (it deletes up to limits.batch rows and says how many) in a
// transaction of its own under a permit, again and again until it deletes
// less than a batch; false when the time budget ran out first.
template <typename Step>
bool in_batches(Database& db, EpochSeconds cutoff, const PruneLimits& limits,
                std::chrono::steady_clock::time_point started, Step&& step) {
  for (;;) {
    if (limits.time_budget && std::chrono::steady_clock::now() - started >= *limits.time_budget)
      return false;
    Transaction transaction(db);
    const std::int64_t deleted = under_permit(db, cutoff, std::nullopt, step);
    transaction.commit();
    if (deleted < limits.batch) return true;
  }
}

// --- erasure ---------------------------------------------------------------

// Closed: done, every recipient expired or departed, every DSN sent or given up.
constexpr const char* kClosed =
    " m.done_at IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM recipients AS r WHERE r.message = m.id"
    "   AND r.state NOT IN ('expired', 'departed'))"
    " AND NOT EXISTS (SELECT 1 FROM outbox AS o WHERE o.message = m.id"
    "   AND o.sent_at IS NULL AND o.closed_at IS NULL)";

std::int64_t count_kept_open(Database& db, const std::string& address) {
  return count_of(
      db.prepare(
            std::string("SELECT count(*) FROM recipients AS k JOIN messages AS mk"
                        " ON mk.id = k.message"
                        " WHERE (lower(k.address) = lower(?1) OR lower(mk.sender) = lower(?1))"
                        " AND NOT EXISTS (SELECT 1 FROM messages AS m WHERE m.id = mk.id AND") +
            kClosed + ")")
          .bind(1, address));
}

// The address's recipient rows on closed messages of other senders, and
// then its events wherever no open message or kept row of it owns them.
PruneCounts erase_as_recipient(Database& db, const std::string& address) {
  PruneCounts n;
  n.recipients = run_counted(
      db, db.prepare(std::string("DELETE FROM recipients WHERE lower(address) = lower(?1)"
                                 " AND message IN (SELECT m.id FROM messages AS m WHERE") +
                     kClosed + ")")
              .bind(1, address));
  n.events = run_counted(
      db,
      db.prepare("DELETE FROM events WHERE lower(recipient) = lower(?1)"
                 " AND NOT EXISTS (SELECT 1 FROM messages AS m WHERE m.queue_id = events.queue_id"
                 "   AND (m.done_at IS NULL OR EXISTS (SELECT 1 FROM recipients AS r"
                 "     WHERE r.message = m.id AND lower(r.address) = lower(?1))))")
          .bind(1, address));
  return n;
}

// Closed messages the address sent, and those the erasure left without a recipient.
std::int64_t select_erased_messages(Database& db, const std::string& address) {
  clear_batch(db);
  return run_counted(
      db,
      db.prepare(std::string("INSERT INTO prune_batch (id, queue_id)"
                             " SELECT m.id, m.queue_id FROM messages AS m WHERE") +
                 kClosed +
                 " AND (lower(m.sender) = lower(?1)"
                 "      OR NOT EXISTS (SELECT 1 FROM recipients AS r WHERE r.message = m.id))"
                 " AND m.id IN (SELECT m2.id FROM messages AS m2 WHERE lower(m2.sender) = lower(?1)"
                 "   UNION SELECT e.message FROM erased_from AS e)")
          .bind(1, address));
}

// The closed messages that have the address as a recipient, before it is erased.
void remember_messages_with(Database& db, const std::string& address) {
  static constexpr EngineSql kCreate = {
      "CREATE TEMP TABLE IF NOT EXISTS erased_from (message INTEGER PRIMARY KEY)",
      "CREATE TEMP TABLE IF NOT EXISTS erased_from (message BIGINT PRIMARY KEY)"};
  db.exec(kCreate.in(db.engine()));
  db.prepare("DELETE FROM erased_from").run();
  db.prepare(std::string("INSERT INTO erased_from (message)"
                         " SELECT DISTINCT r.message FROM recipients AS r"
                         " JOIN messages AS m ON m.id = r.message"
                         " WHERE lower(r.address) = lower(?1) AND") +
             kClosed)
      .bind(1, address)
      .run();
}

ErasureResult erase_in_transaction(Database& db, const std::string& address) {
  ErasureResult result;
  result.kept_open = count_kept_open(db, address);
  remember_messages_with(db, address);
  result.deleted += erase_as_recipient(db, address);
  if (select_erased_messages(db, address) > 0) result.deleted += delete_batch(db, kAnyAge);
  return result;
}

}  // namespace

PruneCounts& PruneCounts::operator+=(const PruneCounts& more) {
  messages += more.messages;
  recipients += more.recipients;
  events += more.events;
  outbox += more.outbox;
  return *this;
}

std::string to_string(const PruneCounts& c) {
  return std::to_string(c.messages) + " message(s), " + std::to_string(c.recipients) +
         " recipient(s), " + std::to_string(c.events) + " event(s), " + std::to_string(c.outbox) +
         " outbox row(s), " + std::to_string(c.runs) + " run(s)";
}

namespace {

// About 35,000 rows a year at one sweep every 15 minutes: one statement.
// This host's runs only (this_hosts).
std::string old_runs(const Database& db) {
  return "FROM runs WHERE started_at < ?1 AND " + this_hosts(db, "instance", 2);
}

std::int64_t delete_old_runs(Database& db, EpochSeconds cutoff) {
  Statement& s = db.prepare("DELETE " + old_runs(db));
  s.bind(1, cutoff).bind(2, db.instance()).run();
  return db.changes();
}

}  // namespace

PruneResult prune_closed_history(Database& db, EpochSeconds cutoff, const PruneLimits& limits,
                                 EpochSeconds now) {
  const auto started = std::chrono::steady_clock::now();
  PruneResult result;
  result.finished = in_batches(db, cutoff, limits, started,
                               [&] {
                                 const PruneCounts batch =
                                     prune_one_batch(db, cutoff, limits.batch);
                                 result.deleted += batch;
                                 return batch.messages;
                               }) &&
                    in_batches(db, cutoff, limits, started, [&] {
                      const std::int64_t events = delete_orphan_events(db, cutoff, limits.batch);
                      result.deleted.events += events;
                      return events;
                    });
  if (result.finished) result.deleted.runs = delete_old_runs(db, cutoff);
  if (!result.deleted.empty()) {
    Transaction transaction(db);
    append_event(db, now, "", "", "pruned",
                 "closed history last changed before " + format_iso8601(cutoff) + ": " +
                     to_string(result.deleted));
    transaction.commit();
  }
  return result;
}

PruneCounts count_closed_history(Database& db, EpochSeconds cutoff) {
  select_aged(db, cutoff, kAnyAge);  // the temporary table only: the milter is not held up
  PruneCounts n;
  n.messages = count_of(db.prepare("SELECT count(*) FROM prune_batch"));
  n.recipients =
      count_of(db.prepare("SELECT count(*) FROM recipients WHERE message IN"
                          " (SELECT id FROM prune_batch)"));
  n.outbox =
      count_of(db.prepare("SELECT count(*) FROM outbox WHERE message IN"
                          " (SELECT id FROM prune_batch)"));
  // As delete_batch, batch after batch, and then delete_orphan_events would leave it.
  n.events = count_of(db.prepare(std::string("SELECT count(*) FROM (SELECT DISTINCT queue_id"
                                             " FROM prune_batch) AS b JOIN events AS e"
                                             " ON e.queue_id = b.queue_id WHERE e.at < ?1"
                                             " AND NOT EXISTS (SELECT 1 FROM messages AS m"
                                             "   WHERE m.queue_id = e.queue_id"
                                             "   AND m.id NOT IN (SELECT id FROM prune_batch)"
                                             "   AND (m.done_at IS NULL OR ") +
                                 kMessageBegan + " <= e.at))")
                          .bind(1, cutoff)) +
             count_of(db.prepare("SELECT count(*) FROM events AS e"
                                 " WHERE e.at < ?1 AND " +
                                 this_hosts(db, "e.instance", 2) +
                                 " AND (e.queue_id <> '' OR e.kind = 'pruned')"
                                 " AND NOT EXISTS (SELECT 1 FROM messages AS m"
                                 "   WHERE m.queue_id = e.queue_id)")
                          .bind(1, cutoff)
                          .bind(2, db.instance()));
  n.runs = count_of(
      db.prepare("SELECT count(*) " + old_runs(db)).bind(1, cutoff).bind(2, db.instance()));
  return n;
}

ErasureResult erase_address(Database& db, const std::string& address, EpochSeconds now,
                            bool dry_run) {
  db.overwrite_deleted();
  Transaction transaction(db);
  ErasureResult result =
      under_permit(db, 0, address, [&] { return erase_in_transaction(db, address); });
  if (dry_run) return result;  // rolled back
  append_event(db, now, "", "", "erased",
               "the closed history of one address, on request (the address is not kept): " +
                   to_string(result.deleted));
  transaction.commit();
  try {
    db.forget_deleted();  // the erased pages' old copies leave the WAL
  } catch (const DatabaseError&) {
    // Committed all the same; a reader blocked it, and a later checkpoint does it.
  }
  return result;
}

}  // namespace etrn
