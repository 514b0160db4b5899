// schema.cpp - the schema versions, oldest first. Append a new step for
// every change; never edit a step that has shipped.
//
// Tables are internal; the views etrn_audit and etrn_events are the audit
// interface (interface.md) and keep their columns.
#include "common/store/schema.hpp"

#include <string>
#include <vector>

#include "common/store/database.hpp"

namespace etrn {

namespace {

struct MigrationStep {
  int version;      // user_version after the step
  const char* sql;  // DDL, run as one script inside the step's transaction
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

const std::vector<MigrationStep>& migration_steps() {
  static const std::vector<MigrationStep> steps = {
      {1, kSchemaV1},
      {2, kSchemaV2},
  };
  return steps;
}

Error newer_than_known(Database& db, int version) {
  return make_error("database " + db.path() + " has schema version " + std::to_string(version) +
                    ", newer than this program knows (" + std::to_string(current_schema_version()) +
                    "); upgrade etrn-sweeper");
}

// Re-reads the version inside the write lock, so two processes opening a
// fresh database at once apply each step exactly once.
void apply_step(Database& db, const MigrationStep& step) {
  Transaction transaction(db);
  if (db.schema_version() >= step.version) return;
  db.exec(step.sql);
  db.exec("PRAGMA user_version = " + std::to_string(step.version));
  transaction.commit();
}

}  // namespace

int current_schema_version() {
  return migration_steps().back().version;
}

Status migrate_schema(Database& db) {
  try {
    int version = db.schema_version();
    if (version > current_schema_version()) return newer_than_known(db, version);
    for (const MigrationStep& step : migration_steps()) {
      if (step.version > version) apply_step(db, step);
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
