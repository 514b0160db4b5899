// postgres_schema.hpp - the schema's migration steps on PostgreSQL, which
// schema.cpp applies as it applies SQLite's (see schema.hpp).
#pragma once

#include <vector>

namespace etrn {

struct PostgresMigrationStep {
  int version;      // the schema version after the step
  const char* sql;  // a script (PL/pgSQL bodies and all), run inside the step's transaction
};

// Oldest first; the first creates the whole schema at version 10.
const std::vector<PostgresMigrationStep>& postgres_migration_steps();

}  // namespace etrn
