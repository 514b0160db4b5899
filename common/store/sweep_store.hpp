// sweep_store.hpp - the sweeper's reads and writes of the database.
//
// Reads: the open messages (done_at NULL) with their recipients; the
// unsent outbox rows; the audit rows for `report` and the waiting
// recipients for `shape`. Writes: one function per state change, each
// appending its event (events are append-only). Writes do not open their
// own transaction unless they say so: the executor groups them in one
// Transaction where they belong together. Being steps of the caller's
// transaction, reads and writes throw DatabaseError (database.hpp, "Errors").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/model/deadlines.hpp"
#include "common/model/dsn_kind.hpp"
#include "common/model/message.hpp"
#include "common/model/recorded_message.hpp"
#include "common/store/database.hpp"

namespace etrn {

// Messages with done_at NULL, oldest first, with all their recipients.
std::vector<RecordedMessage> load_open_messages(Database& db);
// The same, one at a time: a large queue's records need not all be in memory.
void for_each_open_message(Database& db, const std::function<void(RecordedMessage&&)>& each);
// How many messages are open (to size what holds them).
std::int64_t count_open_messages(Database& db);

// An SQLite store is one host's: open messages and unsent outbox rows that
// name another host were written under this host's earlier name (its
// myhostname changed). They become this host's (db.instance()), so that
// its sweeps go on seeing them; returns how many messages each old name
// had, in one transaction. Never for a shared (PostgreSQL) store.
std::vector<std::pair<std::string, std::int64_t>> take_over_renamed_host(Database& db);
// The messages with these ids (open or not), oldest first, with all their recipients.
std::vector<RecordedMessage> load_messages(Database& db, std::vector<std::int64_t> ids);

// The latest closed message with this queue ID and MTA arrival time (or,
// while that is unknown, an arrival within an hour) whose recipients
// departed because it looked gone from the queue (depart_recipient with a
// state to reopen as), with all its recipients: those back in the state
// they had, marked reopened. None when there is no such message.
std::optional<RecordedMessage> load_reopenable(Database& db, const std::string& queue_id,
                                               EpochSeconds mta_arrival_time);

void set_mta_arrival(Database& db, std::int64_t message_id, EpochSeconds mta_arrival_time);
// The same for many messages at once: (id, MTA arrival time) pairs, one statement.
void set_mta_arrivals(Database& db,
                      const std::vector<std::pair<std::int64_t, EpochSeconds>>& arrivals);
// The sweeper's own hold (the expiry protocol): marked before it asks the
// MTA, cleared once it released the message or found it not held.
void mark_held_by_sweeper(Database& db, std::int64_t message_id, EpochSeconds now);
void clear_held_by_sweeper(Database& db, std::int64_t message_id);
void update_deadlines(Database& db, std::int64_t recipient_id, const Deadlines& deadlines);
void mark_done(Database& db, std::int64_t message_id, EpochSeconds now);

struct RecipientRef {
  std::int64_t id = 0;
  std::string queue_id;
  std::string address;
};
// The recipient with that id, with its message's queue ID; none if no such row.
std::optional<RecipientRef> recipient_ref(Database& db, std::int64_t recipient_id);
// Changes the state and appends the event of the same name with `detail`.
void set_recipient_state(Database& db, const RecipientRef& r, RecipientState state,
                         const std::string& detail, EpochSeconds now);
void append_event(Database& db, EpochSeconds at, const std::string& queue_id,
                  const std::string& recipient, std::string_view kind, const std::string& detail);

// State departed, with its event. `reopen_as`: the message looked gone
// from the queue, and the state it had is kept so that a reappearance of
// the message can reopen it (load_reopenable).
void depart_recipient(Database& db, const RecipientRef& r, std::optional<RecipientState> reopen_as,
                      const std::string& detail, EpochSeconds now);
// Undoes such a departure: done_at cleared; each given recipient back in
// `state`, with a `reopened` event.
void reopen_message(Database& db, std::int64_t message_id);
void reopen_recipient(Database& db, const RecipientRef& r, RecipientState state,
                      const std::string& detail, EpochSeconds now);

// The recorded recipient's row takes the address the MTA queued it as.
void follow_recipient(Database& db, std::int64_t recipient_id, const RecipientRecord& as);

// A recipient row more for a recorded message (one the MTA expanded a
// recorded one into, or one the message gained); its id. No event.
struct NewRecipient {
  RecipientRecord record;
  RecipientState state = RecipientState::queued;
  Deadlines deadlines;
};
std::int64_t add_recipient(Database& db, std::int64_t message_id, const NewRecipient& r,
                           EpochSeconds now);

// Marks the message done and appends a `removed` event per recipient that was removed with it.
void mark_removed(Database& db, std::int64_t message_id, const std::string& queue_id,
                  const std::vector<std::string>& addresses, const std::string& detail,
                  EpochSeconds now);

// Records an adopted message unless a row for it already exists (same
// queue ID, and arrival time equal to mta_arrival_time or within an hour
// when that is unknown); returns the message id, nullopt when it existed.
std::optional<std::int64_t> adopt_message(Database& db, const MessageToRecord& item,
                                          EpochSeconds now);

// address -> recipient id, for one message.
std::map<std::string, std::int64_t> recipient_ids(Database& db, std::int64_t message_id);

// Moves the surviving recipients of a split message to the row of its
// re-injected copy `new_queue_id`, keeping their state and the original
// arrival time; merges with a row the milter already wrote for it.
// Returns the new message id.
std::int64_t move_survivors(Database& db, std::int64_t old_message_id,
                            const std::string& new_queue_id,
                            const std::vector<std::int64_t>& recipient_ids, EpochSeconds now);

// Two rows for one queued message: `drop`'s recipients join `keep` (those
// already there are deleted from `drop`), and `drop` is done.
void merge_messages(Database& db, std::int64_t keep, std::int64_t drop, EpochSeconds now);

// --- outbox --------------------------------------------------------------

struct OutboxRow {
  std::int64_t id = 0;
  std::int64_t message_id = 0;
  DsnKind kind = DsnKind::failed;
  std::vector<std::int64_t> recipient_ids;
  std::string dsn_message_id;
  std::string spool_path;  // "" since schema v4; a spool file for older rows
  std::string dsn_text;    // the DSN itself ("" for rows written before v4)
  EpochSeconds created_at = 0;
  // The DSN's recipient: the sender as the MTA queued it (the message
  // row's sender for rows written before v5).
  std::string sender;
  int attempts = 0;  // submissions the MTA did not accept
  std::optional<EpochSeconds> next_attempt_at;
  bool headers_only = false;  // cut down to the original's headers after a refusal
  // From the message row, for submission and events.
  std::string queue_id;
  std::optional<EpochSeconds> mta_arrival_time;
};

// Ids for `count` new outbox rows, free until the caller inserts them: on
// SQLite those after the highest (only the sweeper inserts outbox rows,
// under its run lock); on PostgreSQL, where each host's sweeper inserts
// under its own lock, from the id column's sequence.
std::vector<std::int64_t> next_outbox_ids(Database& db, std::int64_t count);
std::int64_t next_outbox_id(Database& db);
void insert_outbox(Database& db, const OutboxRow& row);
// Rows neither sent nor closed, oldest first.
std::vector<OutboxRow> unsent_outbox(Database& db);
// The recipients of those rows: their DSN is in flight.
std::vector<std::int64_t> in_flight_recipient_ids(Database& db);
// How the history names a row's DSN: "delay DSN <id>" or "failure DSN <id>".
std::string dsn_label(const OutboxRow& row);
// Event `kind` for each recipient of the row that is still recorded.
void append_outbox_events(Database& db, const OutboxRow& row, EpochSeconds now,
                          std::string_view kind, const std::string& detail);
// In one transaction: sent_at, recipient states (warned / expired) and the
// events bounce_sent plus warned / expired. Idempotent.
void finalize_outbox(Database& db, const OutboxRow& row, EpochSeconds now);
// A submission the MTA did not take: attempts, when to try next, why.
void reschedule_outbox(Database& db, const OutboxRow& row, EpochSeconds next_attempt_at,
                       const std::string& error);
// The DSN's text replaced by its headers-only form (headers_only set).
void shorten_outbox_text(Database& db, std::int64_t row_id, const std::string& text);
// Given up: neither sent nor in flight any more (text dropped).
void close_outbox(Database& db, std::int64_t row_id, EpochSeconds now, const std::string& why);

// --- report and shape -----------------------------------------------------

struct AuditRow {
  std::string queue_id;
  EpochSeconds arrival_time = 0;
  std::string sender;
  std::string recipient;
  std::string domain;
  std::string priority;
  std::string state;
  EpochSeconds expires_at = 0;
  EpochSeconds state_changed_at = 0;
  std::string instance;  // the host ('': not named)
};

// etrn_audit, oldest first, optionally only one state.
std::vector<AuditRow> audit_rows(Database& db, const std::optional<RecipientState>& state);

struct WaitingRecipient {
  std::string domain;
  EpochSeconds arrival_time = 0;
};
// Recipients in state queued or warned; with `instance`, only that host's
// and those that name none (nullopt: every host's).
std::vector<WaitingRecipient> waiting_recipients(
    Database& db, const std::optional<std::string>& instance = std::nullopt);

}  // namespace etrn
