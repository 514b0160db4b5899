// schema.hpp - the database schema and its versioned migrations.
//
// One version number for both engines (Database::schema_version: SQLite's
// PRAGMA user_version, a one-row table etrn_schema on PostgreSQL). Each
// migration step runs in its own transaction and sets the version, so a
// crash leaves the database at a known version, and concurrent openers do
// not apply a step twice (SQLite: the step's IMMEDIATE transaction holds
// the write lock; PostgreSQL: an advisory lock held while migrating). A
// database newer than this program is refused.
//
// SQLite's steps start at version 1 and have shipped; PostgreSQL's start
// at version 10, the schema as SQLite has it after its step 10, created at
// once. A later version appends a step to both lists.
#pragma once

#include "common/util/result.hpp"

namespace etrn {

class Database;

// The schema version this program writes and understands.
int current_schema_version();

// Applies the missing migration steps; an error when the database is newer
// than current_schema_version() or a step fails.
Status migrate_schema(Database& db);

// The DDL of one SQLite migration step, or nullptr for an unknown version
// (tests build an older database with it, to test the later steps).
const char* migration_script(int version);

// For read-only connections: an error unless the schema is exactly current.
Status check_schema(Database& db);

}  // namespace etrn
