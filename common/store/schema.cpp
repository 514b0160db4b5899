// schema.cpp - the schema versions, oldest first, and applying them. These
// are SQLite's steps; PostgreSQL's are in postgres_schema.cpp. Append a new
// step for every change, to both; never edit a step that has shipped.
//
// Tables are internal; the views etrn_audit and etrn_events are the audit
// interface (interface.md) and keep their columns.
#include "common/store/schema.hpp"

#include <sqlite3.h>

#include <string>
#include <vector>

#include "common/store/database.hpp"
#include "common/store/postgres_schema.hpp"

namespace etrn {

namespace {

// How a step treats foreign keys. A step that rebuilds a table (SQLite
// cannot change a constraint in place) must run with them off, as the
// "12 steps" of SQLite's ALTER TABLE documentation say, and then checks them.
enum class ForeignKeys { on, off_while_rebuilding };

struct MigrationStep {
  int version;      // user_version after the step
  const char* sql;  // DDL, run as one script inside the step's transaction
  ForeignKeys foreign_keys = ForeignKeys::on;
};

// Version 1: messages, their ETRN-only recipients, the append-only event
// history, the sweeper's DSN outbox, and the two audit views.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE messages (
  id               INTEGER PRIMARY KEY,
  queue_id         TEXT    NOT NULL,
  arrival_time     INTEGER NOT NULL,   -- policy clock: when it arrived
  mta_arrival_time INTEGER,            -- the MTA's own arrival time once seen in the queue
  sender           TEXT    NOT NULL,   -- '' = null sender
  ret              TEXT CHECK (ret IN ('FULL', 'HDRS')),
  envid            TEXT,
  smtputf8         INTEGER NOT NULL DEFAULT 0 CHECK (smtputf8 IN (0, 1)),
  size             INTEGER,
  message_id       TEXT,
  subject          TEXT,
  priority         TEXT    NOT NULL CHECK (priority IN ('urgent', 'normal', 'non-urgent')),
  client_addr      TEXT,
  client_name      TEXT,
  helo             TEXT,
  auth_user        TEXT,
  source           TEXT    NOT NULL CHECK (source IN ('milter', 'adopted', 'reinjected')),
  queue_name       TEXT,
  recorded_at      INTEGER NOT NULL
);
-- Lookups by queue ID (the sweeper's reconcile, duplicate detection).
CREATE INDEX messages_by_queue_id ON messages (queue_id, arrival_time);

CREATE TABLE recipients (
  id               INTEGER PRIMARY KEY,
  message          INTEGER NOT NULL REFERENCES messages (id),
  address          TEXT    NOT NULL,
  domain           TEXT    NOT NULL,
  notify           TEXT,               -- NULL: not given; 'NEVER' or e.g. 'SUCCESS,FAILURE,DELAY'
  orcpt            TEXT,
  mailer           TEXT,
  state            TEXT    NOT NULL CHECK (state IN ('queued', 'warned', 'expired', 'departed')),
  warn_at          INTEGER,
  expires_at       INTEGER NOT NULL,
  state_changed_at INTEGER NOT NULL
);
CREATE INDEX recipients_by_message ON recipients (message, address);
-- The sweeper's working set: only recipients still waiting.
CREATE INDEX recipients_pending ON recipients (state, expires_at)
  WHERE state IN ('queued', 'warned');
-- shape and report group by domain and state.
CREATE INDEX recipients_by_domain ON recipients (domain, state);

CREATE TABLE events (
  id        INTEGER PRIMARY KEY,
  at        INTEGER NOT NULL,
  queue_id  TEXT    NOT NULL,
  recipient TEXT,
  kind      TEXT    NOT NULL,
  detail    TEXT
);
CREATE INDEX events_by_queue_id ON events (queue_id);
CREATE INDEX events_by_time ON events (at);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
  SELECT RAISE(ABORT, 'etrn_events is append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
  SELECT RAISE(ABORT, 'etrn_events is append-only');
END;

-- The sweeper's DSN intents: written before the DSN is handed to the MTA,
-- sent_at set after, so a crash between the two is detected and not repeated.
CREATE TABLE outbox (
  id             INTEGER PRIMARY KEY,
  message        INTEGER NOT NULL REFERENCES messages (id),
  kind           TEXT    NOT NULL CHECK (kind IN ('delayed', 'failed')),
  recipient_ids  TEXT    NOT NULL,     -- comma list of recipients.id
  dsn_message_id TEXT    NOT NULL UNIQUE,
  spool_path     TEXT    NOT NULL,
  created_at     INTEGER NOT NULL,
  sent_at        INTEGER
);
CREATE INDEX outbox_by_message ON outbox (message);
CREATE INDEX outbox_unsent ON outbox (created_at) WHERE sent_at IS NULL;

CREATE VIEW etrn_audit AS
  SELECT m.queue_id, m.arrival_time, m.sender, r.address AS recipient, r.domain,
         m.priority, r.state, r.expires_at, r.state_changed_at
  FROM recipients AS r JOIN messages AS m ON m.id = r.message;

CREATE VIEW etrn_events AS
  SELECT at, queue_id, recipient, kind, detail FROM events;
)sql";

// Version 2 (the sweeper): done_at marks a message the sweeper has nothing
// left to do with (gone from the queue, removed by it, or all its ETRN
// recipients departed), so each run loads only the open ones - including
// expired mail whose removal a crash interrupted.
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE messages ADD COLUMN done_at INTEGER;
CREATE INDEX messages_open ON messages (id) WHERE done_at IS NULL;
)sql";

// Version 3 (speed): the same tables with each CHECK (x IN (...)) written
// as x = ... OR x = ...: SQLite evaluates an IN list in a CHECK by building
// a temporary b-tree on every INSERT, which cost the milter about 8 us per
// constraint per message. Same columns (done_at last, as v2 added it),
// rows, ids, indexes and views; the events table and its triggers are not
// touched. The views that read the rebuilt tables are dropped first and
// made again, so the renames never see a view pointing at a missing table.
constexpr const char* kSchemaV3 = R"sql(
DROP VIEW etrn_audit;

CREATE TABLE messages_v3 (
  id               INTEGER PRIMARY KEY,
  queue_id         TEXT    NOT NULL,
  arrival_time     INTEGER NOT NULL,
  mta_arrival_time INTEGER,
  sender           TEXT    NOT NULL,
  ret              TEXT CHECK (ret = 'FULL' OR ret = 'HDRS'),
  envid            TEXT,
  smtputf8         INTEGER NOT NULL DEFAULT 0 CHECK (smtputf8 = 0 OR smtputf8 = 1),
  size             INTEGER,
  message_id       TEXT,
  subject          TEXT,
  priority         TEXT    NOT NULL
                   CHECK (priority = 'urgent' OR priority = 'normal' OR priority = 'non-urgent'),
  client_addr      TEXT,
  client_name      TEXT,
  helo             TEXT,
  auth_user        TEXT,
  source           TEXT    NOT NULL
                   CHECK (source = 'milter' OR source = 'adopted' OR source = 'reinjected'),
  queue_name       TEXT,
  recorded_at      INTEGER NOT NULL,
  done_at          INTEGER
);
INSERT INTO messages_v3 (id, queue_id, arrival_time, mta_arrival_time, sender, ret, envid,
    smtputf8, size, message_id, subject, priority, client_addr, client_name, helo, auth_user,
    source, queue_name, recorded_at, done_at)
  SELECT id, queue_id, arrival_time, mta_arrival_time, sender, ret, envid,
    smtputf8, size, message_id, subject, priority, client_addr, client_name, helo, auth_user,
    source, queue_name, recorded_at, done_at FROM messages;
DROP TABLE messages;
ALTER TABLE messages_v3 RENAME TO messages;
CREATE INDEX messages_by_queue_id ON messages (queue_id, arrival_time);
CREATE INDEX messages_open ON messages (id) WHERE done_at IS NULL;

CREATE TABLE recipients_v3 (
  id               INTEGER PRIMARY KEY,
  message          INTEGER NOT NULL REFERENCES messages (id),
  address          TEXT    NOT NULL,
  domain           TEXT    NOT NULL,
  notify           TEXT,
  orcpt            TEXT,
  mailer           TEXT,
  state            TEXT    NOT NULL CHECK (state = 'queued' OR state = 'warned'
                                           OR state = 'expired' OR state = 'departed'),
  warn_at          INTEGER,
  expires_at       INTEGER NOT NULL,
  state_changed_at INTEGER NOT NULL
);
INSERT INTO recipients_v3 (id, message, address, domain, notify, orcpt, mailer, state, warn_at,
    expires_at, state_changed_at)
  SELECT id, message, address, domain, notify, orcpt, mailer, state, warn_at,
    expires_at, state_changed_at FROM recipients;
DROP TABLE recipients;
ALTER TABLE recipients_v3 RENAME TO recipients;
CREATE INDEX recipients_by_message ON recipients (message, address);
-- Kept as an IN list: the sweeper's queries say IN, and an index condition
-- costs no temporary b-tree.
CREATE INDEX recipients_pending ON recipients (state, expires_at)
  WHERE state IN ('queued', 'warned');
CREATE INDEX recipients_by_domain ON recipients (domain, state);

CREATE VIEW etrn_audit AS
  SELECT m.queue_id, m.arrival_time, m.sender, r.address AS recipient, r.domain,
         m.priority, r.state, r.expires_at, r.state_changed_at
  FROM recipients AS r JOIN messages AS m ON m.id = r.message;
)sql";

// Version 4 (the sweeper): the outbox keeps each DSN's text until it is
// sent (then NULL), instead of a spool file per DSN; spool_path is '' for
// such rows and names the file only for rows written by version 3 and
// earlier. Creating thousands of files among just deleted ones is slow on
// ext4 (bulk expiry spent half its CPU there).
constexpr const char* kSchemaV4 = R"sql(
ALTER TABLE outbox ADD COLUMN dsn_text BLOB;
)sql";

// Version 5 (the expiry protocol, issue 12):
// - messages.held_by_sweeper_at: the sweeper put the message on hold (set
//   before it asks the MTA to), so that a run that dies before removing
//   or releasing it lets the next run finish or undo it; NULL: not held
//   by the sweeper (an admin's hold is left alone).
// - outbox: dsn_recipient (the sender as the MTA queued it; the message
//   row has the milter's MAIL FROM), attempts / next_attempt_at /
//   last_error for temporary failures with backoff, headers_only once the
//   text was cut down to the original's headers after a refusal, and
//   closed_at / closed_why for a DSN given up on (refused twice, or its
//   message left the queue first): neither sent nor waiting any more.
// - recipients.state may be 'attention' (the failure DSN was refused even
//   as headers only; the message is kept on hold and the postmaster was
//   told): the table is rebuilt for the CHECK, as in version 3.
constexpr const char* kSchemaV5 = R"sql(
ALTER TABLE messages ADD COLUMN held_by_sweeper_at INTEGER;

ALTER TABLE outbox ADD COLUMN dsn_recipient TEXT;
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
ALTER TABLE outbox ADD COLUMN headers_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN closed_at INTEGER;
ALTER TABLE outbox ADD COLUMN closed_why TEXT;

DROP VIEW etrn_audit;

CREATE TABLE recipients_v5 (
  id               INTEGER PRIMARY KEY,
  message          INTEGER NOT NULL REFERENCES messages (id),
  address          TEXT    NOT NULL,
  domain           TEXT    NOT NULL,
  notify           TEXT,
  orcpt            TEXT,
  mailer           TEXT,
  state            TEXT    NOT NULL CHECK (state = 'queued' OR state = 'warned'
                                           OR state = 'expired' OR state = 'departed'
                                           OR state = 'attention'),
  warn_at          INTEGER,
  expires_at       INTEGER NOT NULL,
  state_changed_at INTEGER NOT NULL
);
INSERT INTO recipients_v5 (id, message, address, domain, notify, orcpt, mailer, state, warn_at,
    expires_at, state_changed_at)
  SELECT id, message, address, domain, notify, orcpt, mailer, state, warn_at,
    expires_at, state_changed_at FROM recipients;
DROP TABLE recipients;
ALTER TABLE recipients_v5 RENAME TO recipients;
CREATE INDEX recipients_by_message ON recipients (message, address);
CREATE INDEX recipients_pending ON recipients (state, expires_at)
  WHERE state IN ('queued', 'warned');
CREATE INDEX recipients_by_domain ON recipients (domain, state);

CREATE VIEW etrn_audit AS
  SELECT m.queue_id, m.arrival_time, m.sender, r.address AS recipient, r.domain,
         m.priority, r.state, r.expires_at, r.state_changed_at
  FROM recipients AS r JOIN messages AS m ON m.id = r.message;
)sql";

// Version 6 (the sweeper, issue 12): a departure it can undo. When a recorded
// message looks gone from the queue, its recipients still expected there
// depart and keep here the state they had (queued, warned, or attention:
// a person was to act on it); if the same queue file is listed again later
// (same queue ID and arrival time: a listing had missed it), the sweeper
// reopens them in that state. NULL otherwise.
constexpr const char* kSchemaV6 = R"sql(
ALTER TABLE recipients ADD COLUMN departed_from TEXT
  CHECK (departed_from = 'queued' OR departed_from = 'warned' OR departed_from = 'attention');
)sql";

// Version 7 (cost, issue 13): fewer bytes and b-tree writes per recorded
// recipient. Measured on 100,000 recorded messages (bench/README.md):
// - recipients_by_message is (message) alone. SQLite appends the rowid, so
//   the sweep's load of every open message reads recipients in id order
//   without a temporary sort, and the index no longer holds a copy of
//   every address; looking a message's few recipients up by address stays
//   a short scan.
// - recipients_by_domain is gone. Its only reader, `shape`'s waiting
//   recipients by domain, is served by recipients_pending (a partial index
//   bounded by the queue, not by the history) as fast.
constexpr const char* kSchemaV7 = R"sql(
DROP INDEX recipients_by_message;
CREATE INDEX recipients_by_message ON recipients (message);
DROP INDEX recipients_by_domain;
)sql";

// Version 8 (operations, issue 14): every sweep run, for `check` and the
// metrics file. A row is written when a run starts and completed when it
// ends; one that never ends was killed. Not part of the audit trail: the
// counts repeat what the events say, and nothing protects the rows.
constexpr const char* kSchemaV8 = R"sql(
CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  started_at    INTEGER NOT NULL,
  acted_as      INTEGER NOT NULL,
  finished_at   INTEGER,
  exit_status   INTEGER,
  departed      INTEGER NOT NULL DEFAULT 0,
  adopted       INTEGER NOT NULL DEFAULT 0,
  warned        INTEGER NOT NULL DEFAULT 0,
  expired       INTEGER NOT NULL DEFAULT 0,
  dsns_sent     INTEGER NOT NULL DEFAULT 0,
  removed       INTEGER NOT NULL DEFAULT 0,
  split         INTEGER NOT NULL DEFAULT 0,
  errors        INTEGER NOT NULL DEFAULT 0,
  need_a_person INTEGER NOT NULL DEFAULT 0,
  error         TEXT
);
)sql";

// Version 9 (retention, issue 14): closed history can be deleted, by a
// prune and by nothing else. A prune writes its permit into prune_permit
// inside its own transaction and deletes it again before committing, so a
// committed database never holds one (and an erasure's address is never
// committed). The triggers let a row go only while a permit is there, and
// only a closed one:
// - messages: done (done_at set), and done before the cutoff or an erasure
//   is running (foreign keys keep a message with recipients or outbox rows);
// - recipients of a done message (those of open messages stay the
//   sweeper's, which merges duplicates): expired or departed, and older
//   than the cutoff or of the erased address, as recipient or as sender;
// - outbox rows: sent or closed, of a done message;
// - events: of no open message, and older than the cutoff or of the
//   erased address or of no message still recorded that had arrived by then.
// Events stay append-only otherwise: no UPDATE at all. These triggers
// guard against mistakes and bugs, not against the file's owner, who can
// write a permit or drop a trigger with sqlite3 (README, "Retention").
// messages_done finds the closed messages by age without a scan.
constexpr const char* kSchemaV9 = R"sql(
CREATE TABLE prune_permit (
  cutoff  INTEGER NOT NULL,  -- closed history last changed before this may go
  address TEXT               -- an erasure: this address's closed history may go, whatever its age
);

CREATE INDEX messages_done ON messages (done_at) WHERE done_at IS NOT NULL;

CREATE TRIGGER messages_no_delete BEFORE DELETE ON messages
WHEN NOT EXISTS (SELECT 1 FROM prune_permit AS p
                 WHERE OLD.done_at IS NOT NULL
                   AND (OLD.done_at < p.cutoff OR p.address IS NOT NULL))
BEGIN
  SELECT RAISE(ABORT, 'a message record is deleted only by a prune, once closed');
END;

CREATE TRIGGER recipients_no_delete_closed BEFORE DELETE ON recipients
WHEN (SELECT done_at FROM messages WHERE id = OLD.message) IS NOT NULL
 AND NOT EXISTS (
   SELECT 1 FROM prune_permit AS p, messages AS m
   WHERE m.id = OLD.message
     AND (OLD.state = 'expired' OR OLD.state = 'departed')
     AND ((OLD.state_changed_at < p.cutoff AND m.done_at < p.cutoff)
          OR OLD.address = p.address COLLATE NOCASE
          OR m.sender = p.address COLLATE NOCASE))
BEGIN
  SELECT RAISE(ABORT, 'a closed record is deleted only by a prune');
END;

CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox
WHEN NOT EXISTS (SELECT 1 FROM prune_permit AS p, messages AS m
                 WHERE m.id = OLD.message AND m.done_at IS NOT NULL
                   AND (OLD.sent_at IS NOT NULL OR OLD.closed_at IS NOT NULL))
BEGIN
  SELECT RAISE(ABORT, 'an outbox row is deleted only by a prune, once finished');
END;

DROP TRIGGER events_no_delete;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
WHEN NOT EXISTS (
  SELECT 1 FROM prune_permit AS p
  WHERE NOT EXISTS (SELECT 1 FROM messages AS m
                    WHERE m.queue_id = OLD.queue_id AND m.done_at IS NULL)
    AND (OLD.at < p.cutoff
         OR OLD.recipient = p.address COLLATE NOCASE
         OR (p.address IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM messages AS m WHERE m.queue_id = OLD.queue_id
                             AND MIN(m.arrival_time, m.recorded_at) <= OLD.at))))
BEGIN
  SELECT RAISE(ABORT, 'etrn_events is append-only; only a prune deletes closed history');
END;
)sql";

// The MTA's own arrival time of a message, stored the first time the
// sweeper sees it in the queue: from then on it pins the record to that
// queue file, since a reused queue ID comes with another arrival time. A
// table of its own, because the first sweep after many arrivals stores one
// for every message: 12-byte rows appended instead of every message row
// rewritten (100,000 messages: 0.04 s instead of 0.25 s in SQLite's shell).
// Derived state, not history: a prune deletes it with its message.
constexpr const char* kSchemaV10 = R"sql(
CREATE TABLE mta_arrivals (
  message INTEGER PRIMARY KEY REFERENCES messages (id),
  at      INTEGER NOT NULL  -- the queue's arrival time, epoch seconds
);
INSERT INTO mta_arrivals (message, at)
  SELECT id, mta_arrival_time FROM messages WHERE mta_arrival_time IS NOT NULL;
ALTER TABLE messages DROP COLUMN mta_arrival_time;
)sql";

// Version 11 (several MX hosts, issue 16): every record, event, outbox row
// and run names the host it belongs to (config key `instance`); '' for the
// rows written before, which count as every host's. The views gain the
// column last, keeping theirs. No index leads with it here: an SQLite store
// has one host, so its filter selects every row and an index would only
// cost writes (PostgreSQL's step has them).
constexpr const char* kSchemaV11 = R"sql(
ALTER TABLE messages ADD COLUMN instance TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN instance TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN instance TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN instance TEXT NOT NULL DEFAULT '';

DROP VIEW etrn_audit;
CREATE VIEW etrn_audit AS
  SELECT m.queue_id, m.arrival_time, m.sender, r.address AS recipient, r.domain,
         m.priority, r.state, r.expires_at, r.state_changed_at, m.instance
  FROM recipients AS r JOIN messages AS m ON m.id = r.message;

DROP VIEW etrn_events;
CREATE VIEW etrn_events AS
  SELECT at, queue_id, recipient, kind, detail, instance FROM events;
)sql";

const std::vector<MigrationStep>& sqlite_migration_steps() {
  static const std::vector<MigrationStep> steps = {
      {1, kSchemaV1},
      {2, kSchemaV2},
      {3, kSchemaV3, ForeignKeys::off_while_rebuilding},
      {4, kSchemaV4},
      {5, kSchemaV5, ForeignKeys::off_while_rebuilding},
      {6, kSchemaV6},
      {7, kSchemaV7},
      {8, kSchemaV8},
      {9, kSchemaV9},
      {10, kSchemaV10},
      {11, kSchemaV11},
  };
  return steps;
}

const std::vector<MigrationStep>& postgres_steps() {
  static const std::vector<MigrationStep> steps = [] {
    std::vector<MigrationStep> converted;
    for (const PostgresMigrationStep& step : postgres_migration_steps())
      converted.push_back({step.version, step.sql});
    return converted;
  }();
  return steps;
}

const std::vector<MigrationStep>& migration_steps(SqlEngine engine) {
  return engine == SqlEngine::postgresql ? postgres_steps() : sqlite_migration_steps();
}

Error newer_than_known(Database& db, int version) {
  return make_error("database " + db.path() + " has schema version " + std::to_string(version) +
                    ", newer than this program knows (" + std::to_string(current_schema_version()) +
                    "); upgrade etrn-sweeper");
}

// Runs `enter` now and `leave` when it goes out of scope, when active: a
// setting or a lock held for a block (a failing `leave` is ignored: the
// connection is gone, and what it held with it).
class ScopedStatements {
 public:
  ScopedStatements(Database& db, bool active, const char* enter, const char* leave)
      : db_(db), active_(active), leave_(leave) {
    if (active_) db_.exec(enter);
  }
  ~ScopedStatements() {
    try {
      if (active_) db_.exec(leave_);
    } catch (const DatabaseError&) {
    }
  }
  ScopedStatements(const ScopedStatements&) = delete;
  ScopedStatements& operator=(const ScopedStatements&) = delete;

 private:
  Database& db_;
  bool active_;
  const char* leave_;
};

// A rebuilt table must still satisfy every foreign key.
void check_foreign_keys(Database& db) {
  Statement& check = db.prepare("PRAGMA foreign_key_check");
  const bool violated = check.step();
  const std::string table = violated ? check.column_text(0) : "";
  check.reset();
  if (violated)
    throw DatabaseError(SQLITE_CONSTRAINT_FOREIGNKEY, "foreign key violation in table " + table);
}

// Re-reads the version inside the lock, so two processes opening a fresh
// database at once apply each step exactly once.
void apply_step(Database& db, const MigrationStep& step) {
  // PRAGMA foreign_keys is ignored inside a transaction, so a rebuilding
  // step turns them off before its transaction and on again after it.
  ScopedStatements foreign_keys_off(db, step.foreign_keys == ForeignKeys::off_while_rebuilding,
                                    "PRAGMA foreign_keys=OFF", "PRAGMA foreign_keys=ON");
  Transaction transaction(db);
  if (db.schema_version() >= step.version) return;
  db.exec(step.sql);
  if (step.foreign_keys == ForeignKeys::off_while_rebuilding) check_foreign_keys(db);
  db.set_schema_version(step.version);
  transaction.commit();
}

}  // namespace

const char* migration_script(int version) {
  for (const MigrationStep& step : sqlite_migration_steps()) {
    if (step.version == version) return step.sql;
  }
  return nullptr;
}

int current_schema_version() {
  return sqlite_migration_steps().back().version;
}

Status migrate_schema(Database& db) {
  try {
    int version = db.schema_version();
    if (version > current_schema_version()) return newer_than_known(db, version);
    if (version < current_schema_version()) {
      // PostgreSQL: one migrating connection at a time, while it migrates. A
      // session lock taken before the step's transaction begins, so that the
      // transaction's snapshot (SERIALIZABLE: from its first statement) already
      // sees what a connection that migrated first committed. The key: 'etrn'
      // and 1; the sweeper's run lock can take ('etrn', 2) and so on.
      // SQLite needs none: each step's IMMEDIATE transaction holds the write lock.
      ScopedStatements lock(db, db.engine() == SqlEngine::postgresql,
                            "SELECT pg_advisory_lock(1702130286, 1)",
                            "SELECT pg_advisory_unlock(1702130286, 1)");
      for (const MigrationStep& step : migration_steps(db.engine())) {
        if (step.version > version) apply_step(db, step);
      }
    }
    version = db.schema_version();
    if (version > current_schema_version()) return newer_than_known(db, version);
  } catch (const DatabaseError& e) {
    return make_error(std::string("schema migration failed: ") + e.what());
  }
  return ok_status();
}

Status check_schema(Database& db) {
  try {
    int version = db.schema_version();
    if (version > current_schema_version()) return newer_than_known(db, version);
    if (version < current_schema_version()) {
      return make_error("database " + db.path() + " has schema version " + std::to_string(version) +
                        ", older than " + std::to_string(current_schema_version()) +
                        "; open it once for writing (e.g. start etrn-milter) to upgrade it");
    }
  } catch (const DatabaseError& e) {
    return make_error(e.what());
  }
  return ok_status();
}

}  // namespace etrn
