// database.hpp - a thin RAII layer over SQLite: a connection, prepared
// statements, transactions. Nothing here knows about mail.
//
// Every statement is prepared (no SQL is built from data); a Database
// keeps its prepared statements cached by SQL text. A statement resets
// itself when step() reaches the end or fails; a caller that stops reading
// early should call reset() so it does not hold a read snapshot open.
//
// One Database per thread: the connection is opened SQLITE_OPEN_NOMUTEX.
//
// Errors, the rule for all of common/store/:
// - A function a program calls to get something done, and after which it
//   decides what a failure means for it, returns a Result: Database::open
//   (missing directory, no permission, not a database, newer schema),
//   migrate_schema and check_schema, record_messages (the milter answers
//   the MTA per on_error and tries again with the next message) and
//   Database::checkpoint (tried again as the log grows). A database that
//   is busy, read-only or damaged is an expected failure.
// - A function that is one step of a transaction its caller owns throws
//   DatabaseError (is_busy() tells a lock from a real failure): Statement,
//   prepare, exec, Transaction, insert_messages and the sweep_store reads
//   and writes. One failed step dooms the whole transaction: the
//   Transaction rolls it back as the exception passes, and a check after
//   every statement would only repeat that. The owner catches DatabaseError
//   once, where its work ends, and makes it a value or an exit code:
//   record_messages for the milter, the outbox per batch of DSNs, the
//   sweeper's command dispatcher for a whole command (busy: exit 75,
//   anything else 74).
// - A caller's bug throws std::logic_error (e.g. std::invalid_argument),
//   which only the outermost handler catches (main: exit 70).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/util/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace etrn {

class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  // Binding is 1-based, as in SQLite. std::nullopt binds NULL.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const std::string& value) {
    return bind(index, std::string_view(value));
  }
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::optional<std::string>& value);
  Statement& bind(int index, const std::optional<std::int64_t>& value);
  Statement& bind_null(int index);
  // Steps once: true when a row is available. Throws DatabaseError on error.
  bool step();
  // Steps to completion (for statements without rows).
  void run();
  std::int64_t column_int(int index) const;
  std::optional<std::int64_t> column_optional_int(int index) const;
  std::string column_text(int index) const;  // NULL reads as ""
  bool column_is_null(int index) const;
  void reset();  // unbinds and resets for the next use
  sqlite3_stmt* raw() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

// Thrown by Statement and Database on SQLite errors; carries the SQLite code.
class DatabaseError : public std::runtime_error {
 public:
  DatabaseError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }
  bool is_busy() const;  // SQLITE_BUSY or SQLITE_LOCKED

 private:
  int code_;
};

enum class OpenMode { read_write_create, read_write, read_only };

class Database {
 public:
  // Opens (and for read_write_create, creates) the database, sets WAL, the
  // busy timeout, foreign keys, and brings the schema up to date.
  static Result<std::unique_ptr<Database>> open(const std::string& path, OpenMode mode,
                                                int busy_timeout_ms = 5000);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // A cached prepared statement for `sql`, reset and ready to bind.
  Statement& prepare(std::string_view sql);
  void exec(std::string_view sql);  // for DDL and pragmas only
  std::int64_t last_insert_rowid() const;
  std::int64_t changes() const;  // rows changed by the last INSERT, UPDATE or DELETE
  bool in_transaction() const;
  int schema_version() const;
  std::string path() const;  // the file name, or ":memory:"

  // How long a statement waits for another connection's lock before it
  // fails as busy (open() sets the first value).
  void set_busy_timeout(std::chrono::milliseconds timeout);

  // Write-ahead log housekeeping, for a long-lived writer. A hook called
  // after each commit with the log's size in pages replaces SQLite's own
  // checkpoint, which would run in the committing thread; the owner then
  // calls checkpoint() where it suits it (another thread, its own
  // connection). The hook runs inside SQLite: it must be quick and must
  // not use this connection.
  using WalCommitHook = std::function<void(int wal_pages)>;
  void on_wal_commit(WalCommitHook hook);
  // Copies into the database what no reader still needs, waiting for
  // neither readers nor writers (SQLite's PASSIVE checkpoint). Busy is
  // not an error: a later checkpoint copies the rest.
  Status checkpoint();

  // For a connection whose database file was deleted or replaced under it:
  // closing it will then leave the files at its path alone. (SQLite would
  // otherwise checkpoint and delete the -wal and -shm files by name, and
  // those names may by now belong to another database.)
  void leave_files_at_close();

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unique_ptr<WalCommitHook> wal_commit_hook_;  // SQLite keeps its address
  // Looked up by string_view without building a std::string each time.
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const {
      return std::hash<std::string_view>{}(sql);
    }
  };
  // node-based: references stay valid
  std::unordered_map<std::string, Statement, SqlHash, std::equal_to<>> statements_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back if not committed. Inside another
// transaction it becomes a SAVEPOINT (so record_messages can run inside a
// caller's transaction): commit() releases it, destruction rolls back to it.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  void commit();

 private:
  Database& db_;
  bool nested_ = false;
  bool done_ = false;
};

}  // namespace etrn
