// database.hpp - the store's connection to its database engine: a
// connection, prepared statements, transactions. Nothing here knows about
// mail. Two engines stand behind the one interface (Database::open picks):
// SQLite, the embedded default (sqlite_database.hpp), and PostgreSQL, a
// store several hosts share (postgres_database.hpp).
//
// Every statement is prepared (no SQL is built from data); a Database
// keeps its prepared statements cached by SQL text. SQL is written once for
// both engines wherever they accept the same text, with ?N parameters (the
// PostgreSQL backend turns them into $N); the few places where they differ
// say so through db.engine() (sql_dialect.hpp). A statement resets itself
// when step() reaches the end or fails; a caller that stops reading early
// should call reset() so it does not hold a read snapshot open.
//
// One Database per thread: neither engine's connection may be used by two
// threads at once.
//
// Errors, the rule for all of common/store/:
// - A function a program calls to get something done, and after which it
//   decides what a failure means for it, returns a Result: Database::open
//   (missing directory, no permission, not a database, no server, newer
//   schema), migrate_schema and check_schema, record_messages (the milter
//   answers the MTA per on_error and tries again with the next message) and
//   Database::checkpoint (tried again as the log grows). A database that
//   is busy, read-only or damaged is an expected failure.
// - A function that is one step of a transaction its caller owns throws
//   DatabaseError (is_busy() tells a lock from a real failure): Statement,
//   prepare, exec, Transaction, insert_messages and the sweep_store reads
//   and writes. One failed step dooms the whole transaction: the
//   Transaction rolls it back as the exception passes, and a check after
//   every statement would only repeat that. (PostgreSQL refuses every
//   statement of a transaction after a failed one anyway.) The owner
//   catches DatabaseError once, where its work ends, and makes it a value
//   or an exit code: record_messages for the milter, the outbox per batch
//   of DSNs, the sweeper's command dispatcher for a whole command (busy:
//   exit 75, anything else 74).
// - A caller's bug throws std::logic_error (e.g. std::invalid_argument),
//   which only the outermost handler catches (main: exit 70).
//
// is_busy() means "try again later, nothing is wrong with the data or the
// SQL". On SQLite: SQLITE_BUSY and SQLITE_LOCKED (another connection holds
// the lock past the busy timeout). On PostgreSQL (SQLSTATE): 40001
// serialization_failure and 40P01 deadlock_detected (the transaction lost
// a race with another one; retrying it is the documented answer), 55P03
// lock_not_available (lock_timeout, which the busy timeout sets), class 08
// (the connection failed or was lost), 57P01..57P03 (the server is
// shutting down or starting) and 53300 too_many_connections.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "common/store/sql_dialect.hpp"
#include "common/util/result.hpp"

namespace etrn {

class Statement {
 public:
  virtual ~Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binding is 1-based, as in SQLite. std::nullopt binds NULL.
  Statement& bind(int index, std::int64_t value) {
    bind_integer(index, value);
    return *this;
  }
  Statement& bind(int index, std::string_view value) {
    bind_text(index, value);
    return *this;
  }
  Statement& bind(int index, const std::string& value) {
    return bind(index, std::string_view(value));
  }
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::optional<std::string>& value) {
    return value ? bind(index, std::string_view(*value)) : bind_null(index);
  }
  Statement& bind(int index, const std::optional<std::int64_t>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }
  Statement& bind_null(int index) {
    bind_no_value(index);
    return *this;
  }
  // Steps once: true when a row is available. Throws DatabaseError on error.
  virtual bool step() = 0;
  // Steps to completion (for statements without rows).
  void run() {
    while (step()) {
    }
  }
  // Runs a one-row INSERT prepared with Database::prepare_insert and
  // returns the new row's id.
  virtual std::int64_t insert() = 0;
  virtual std::int64_t column_int(int index) const = 0;  // NULL reads as 0
  std::optional<std::int64_t> column_optional_int(int index) const {
    if (column_is_null(index)) return std::nullopt;
    return column_int(index);
  }
  virtual std::string column_text(int index) const = 0;  // NULL reads as ""
  virtual bool column_is_null(int index) const = 0;
  // The result's columns, known once prepared (before the first step).
  virtual int column_count() = 0;
  virtual std::string column_name(int index) = 0;
  virtual void reset() = 0;  // unbinds and resets for the next use

 protected:
  Statement() = default;
  virtual void bind_integer(int index, std::int64_t value) = 0;
  virtual void bind_text(int index, std::string_view value) = 0;
  virtual void bind_no_value(int index) = 0;
};

// Thrown by Statement and Database on the engine's errors.
class DatabaseError : public std::runtime_error {
 public:
  // An SQLite error: its extended result code says whether it is busy.
  DatabaseError(int code, const std::string& what);
  // A PostgreSQL error: its SQLSTATE says whether it is busy.
  DatabaseError(std::string sqlstate, const std::string& what);
  int code() const { return code_; }  // SQLite's result code; 0 for PostgreSQL
  const std::string& sqlstate() const { return sqlstate_; }  // "" for SQLite
  bool is_busy() const { return busy_; }                     // see the mapping above

 private:
  int code_ = 0;
  std::string sqlstate_;
  bool busy_ = false;
};

enum class OpenMode { read_write_create, read_write, read_only };

class Database {
 public:
  // `target` is a libpq connection URI (postgresql://... or postgres://...)
  // or else an SQLite file name (or ":memory:"). Opens the connection
  // (SQLite: creating the file for read_write_create), configures it
  // (sqlite_database.hpp, postgres_database.hpp), and brings the schema up
  // to date (read_only: checks that it is current).
  static Result<std::unique_ptr<Database>> open(const std::string& target, OpenMode mode,
                                                int busy_timeout_ms = 5000);
  virtual ~Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  virtual SqlEngine engine() const = 0;
  // A cached prepared statement for `sql`, reset and ready to bind.
  virtual Statement& prepare(std::string_view sql) = 0;
  // The same for an INSERT of one row whose id the caller wants from
  // Statement::insert(). (SQLite reads the id from the connection; a
  // RETURNING clause would cost it a temporary table per row.)
  virtual Statement& prepare_insert(std::string_view sql) = 0;
  virtual void exec(std::string_view sql) = 0;  // for DDL, settings and scripts only
  virtual std::int64_t changes() const = 0;     // rows changed by the last INSERT, UPDATE or DELETE
  virtual bool in_transaction() const = 0;
  // Where the database is, for messages: a file name, ":memory:", or the
  // connection URI without its password or parameters.
  virtual std::string path() const = 0;

  // The schema's version (0: no schema yet), and setting it: the last step
  // of a migration's transaction (schema.cpp).
  virtual int schema_version() = 0;
  virtual void set_schema_version(int version) = 0;

  // How long a statement waits for another connection's lock before it
  // fails as busy (open() sets the first value). PostgreSQL: lock_timeout.
  virtual void set_busy_timeout(std::chrono::milliseconds timeout) = 0;

  // Transaction control, for Transaction below.
  virtual void begin(bool nested) = 0;
  virtual void commit(bool nested) = 0;
  virtual void rollback(bool nested) = 0;

  // --- SQLite's file housekeeping: no-ops on PostgreSQL, whose server
  // --- keeps its own write-ahead log and files.

  // Write-ahead log housekeeping, for a long-lived writer. A hook called
  // after each commit with the log's size in pages replaces SQLite's own
  // checkpoint, which would run in the committing thread; the owner then
  // calls checkpoint() where it suits it (another thread, its own
  // connection). The hook runs inside SQLite: it must be quick and must
  // not use this connection. PostgreSQL never calls it.
  using WalCommitHook = std::function<void(int wal_pages)>;
  virtual void on_wal_commit(WalCommitHook hook) = 0;
  // Copies into the database what no reader still needs, waiting for
  // neither readers nor writers (SQLite's PASSIVE checkpoint). Busy is
  // not an error: a later checkpoint copies the rest. PostgreSQL: ok.
  virtual Status checkpoint() = 0;
  // For a connection whose database file was deleted or replaced under it:
  // closing it will then leave the files at its path alone. (SQLite would
  // otherwise checkpoint and delete the -wal and -shm files by name, and
  // those names may by now belong to another database.)
  virtual void leave_files_at_close() = 0;
  // For an erasure: deleted content is overwritten (SQLite's
  // secure_delete) from now on, and forget_deleted() then moves the old
  // pages out of the write-ahead log too. PostgreSQL keeps deleted rows in
  // its files until VACUUM reclaims them: both are no-ops there, and the
  // README says to VACUUM after an erasure.
  virtual void overwrite_deleted() = 0;
  virtual void forget_deleted() = 0;

  // --- The host this connection works for (config key `instance`): the
  // --- events, outbox rows and runs it writes carry it, and the sweeper's
  // --- reads and changes take only that host's rows and those that name
  // --- none ('': written before schema 11, or by a milter that did not
  // --- know its host). A property of the connection, like PostgreSQL's
  // --- application_name: one value per program, not a parameter of every
  // --- query. '' until set.
  void work_for_instance(std::string instance) { instance_ = std::move(instance); }
  const std::string& instance() const { return instance_; }

 protected:
  Database() = default;

 private:
  std::string instance_;
};

// Where `target` (Database::open's) is, fit for a log line or an error: an
// SQLite file name as it is, a URI without its password or parameters
// (redacted_uri). Programs name their database only through this.
std::string database_for_messages(std::string_view target);

// BEGIN ... COMMIT, rolled back if not committed. Inside another
// transaction it becomes a SAVEPOINT (so record_messages can run inside a
// caller's transaction): commit() releases it, destruction rolls back to it.
// SQLite: BEGIN IMMEDIATE, which takes the write lock up front, so a busy
// database fails here rather than half way through the work. PostgreSQL:
// a SERIALIZABLE transaction (postgres_database.hpp), which may instead
// fail as busy at any statement or at commit when it lost a race.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool nested_ = false;
  bool done_ = false;
};

}  // namespace etrn
