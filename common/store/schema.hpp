// schema.hpp - the database schema and its versioned migrations.
//
// PRAGMA user_version holds the schema version. Each migration step runs
// in its own IMMEDIATE transaction and sets user_version, so a crash leaves
// the database at a known version and concurrent openers do not apply a
// step twice. A database newer than this program is refused.
#pragma once

#include "common/util/result.hpp"

namespace etrn {

class Database;

// The schema version this program writes and understands.
int current_schema_version();

// Applies the missing migration steps; an error when the database is newer
// than current_schema_version() or a step fails.
Status migrate_schema(Database& db);

// The DDL of one migration step, or nullptr for an unknown version (tests
// build an older database with it, to test the later steps).
const char* migration_script(int version);

// For read-only connections: an error unless the schema is exactly current.
Status check_schema(Database& db);

}  // namespace etrn
