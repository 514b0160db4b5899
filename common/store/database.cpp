// database.cpp - what both engines share: choosing one by the target's
// form, naming it in messages, DatabaseError's busy rule, and Transaction.
#include "common/store/database.hpp"

#include "common/store/postgres_database.hpp"
#include "common/store/sqlite_database.hpp"

namespace etrn {

DatabaseError::DatabaseError(int code, const std::string& what)
    : std::runtime_error(what), code_(code), busy_(sqlite_code_is_busy(code)) {}

DatabaseError::DatabaseError(std::string sqlstate, const std::string& what)
    : std::runtime_error(what),
      sqlstate_(std::move(sqlstate)),
      busy_(sqlstate_is_busy(sqlstate_)) {}

Result<std::unique_ptr<Database>> Database::open(const std::string& target, OpenMode mode,
                                                 int busy_timeout_ms) {
  if (is_postgres_uri(target)) return open_postgres_database(target, mode, busy_timeout_ms);
  return open_sqlite_database(target, mode, busy_timeout_ms);
}

std::string database_for_messages(std::string_view target) {
  if (is_postgres_uri(target)) return redacted_uri(target);
  return std::string(target);
}

Transaction::Transaction(Database& db) : db_(db), nested_(db.in_transaction()) {
  db_.begin(nested_);
}

Transaction::~Transaction() {
  if (done_) return;
  try {
    db_.rollback(nested_);
  } catch (const DatabaseError&) {
    // The engine may have rolled back already (SQLite after SQLITE_FULL; a
    // lost PostgreSQL connection).
  }
}

void Transaction::commit() {
  db_.commit(nested_);
  done_ = true;
}

}  // namespace etrn
