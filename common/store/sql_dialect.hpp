// sql_dialect.hpp - the engines the store speaks, and the one way its
// queries say where their SQL differs.
//
// The store's SQL is written once wherever SQLite and PostgreSQL accept the
// same text: INSERT ... ON CONFLICT ... DO UPDATE, lower(a) = lower(b)
// (SQLite's NOCASE and lower() both fold ASCII only; PostgreSQL's columns
// use the "C" collation), CASE instead of the two-argument MIN/LEAST,
// unqualified names for temporary tables (both look in the temporary
// schema first). Where the engines must differ (SQLite's json_each against
// PostgreSQL's jsonb functions, for example), a query holds both texts side
// by side in an EngineSql and picks one with db.engine(); nothing edits SQL
// text on the way.
#pragma once

namespace etrn {

enum class SqlEngine { sqlite, postgresql };

// One statement in each engine's words.
struct EngineSql {
  const char* sqlite;
  const char* postgresql;

  const char* in(SqlEngine engine) const {
    return engine == SqlEngine::postgresql ? postgresql : sqlite;
  }
};

}  // namespace etrn
