// database.cpp - the SQLite adapter: opening a connection with the pragmas
// the product relies on (WAL, synchronous=FULL, foreign keys, busy
// timeout), cached prepared statements, and IMMEDIATE transactions.
//
// Threads: a Database is one SQLite connection opened with
// SQLITE_OPEN_NOMUTEX, so it must be used by one thread at a time. Give
// each thread its own Database (the milter's writer thread has one, its
// checkpoint thread another); SQLite's file locking coordinates them.
//
// Durability: synchronous=FULL in WAL mode makes a COMMIT durable (the WAL
// is fsync'ed) before it returns: what the milter's writer thread logs as
// recorded, and what a sweep commits, survives a crash.
#include "common/store/database.hpp"

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/store/schema.hpp"

namespace etrn {

namespace {

std::string database_path(sqlite3* db) {
  const char* name = db ? sqlite3_db_filename(db, "main") : nullptr;
  return (name && *name) ? name : ":memory:";
}

[[noreturn]] void throw_error(sqlite3* db, int code, std::string_view doing) {
  std::string message = "database " + database_path(db) + ": " + std::string(doing) + ": " +
                        (db ? sqlite3_errmsg(db) : sqlite3_errstr(code));
  throw DatabaseError(code, message);
}

bool is_memory_path(const std::string& path) {
  return path.empty() || path == ":memory:";
}

// SQLite creates the file but not its directory; say so plainly instead of
// the generic "unable to open database file".
Status check_parent_directory(const std::string& path) {
  if (is_memory_path(path) || path.starts_with("file:")) return ok_status();
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return ok_status();
  std::error_code ec;
  if (std::filesystem::is_directory(parent, ec)) return ok_status();
  return make_error("database " + path + ": directory " + parent.string() +
                    " does not exist (create it, owned by the etrn-sweeper user)");
}

int open_flags(OpenMode mode) {
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  switch (mode) {
    case OpenMode::read_write_create:
      return flags | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    case OpenMode::read_write:
      return flags | SQLITE_OPEN_READWRITE;
    case OpenMode::read_only:
      return flags | SQLITE_OPEN_READONLY;
  }
  return flags | SQLITE_OPEN_READONLY;
}

std::string query_text(Database& db, std::string_view sql) {
  Statement& statement = db.prepare(sql);
  std::string text = statement.step() ? statement.column_text(0) : "";
  statement.reset();
  return text;
}

// WAL lets the sweeper read while the milter writes; without it readers and
// the writer block each other. A read-only connection cannot switch modes.
// Switching needs an exclusive lock, and SQLite answers SQLITE_BUSY at once
// (no busy handler) when two connections create the database together, so
// retry until the busy timeout.
void enable_wal(Database& db, const std::string& path, OpenMode mode, int busy_timeout_ms) {
  if (mode == OpenMode::read_only || is_memory_path(path)) return;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  std::string got;
  for (;;) {
    try {
      got = query_text(db, "PRAGMA journal_mode=WAL");
      break;
    } catch (const DatabaseError& e) {
      if (!e.is_busy() || std::chrono::steady_clock::now() >= deadline) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (got != "wal") {
    throw DatabaseError(SQLITE_ERROR, "database " + path +
                                          ": cannot enable WAL mode (journal_mode is '" + got +
                                          "'); is the file system local?");
  }
}

void configure(Database& db, const std::string& path, OpenMode mode, int busy_timeout_ms) {
  // The first statement reads the header: "file is not a database" shows here.
  db.exec("PRAGMA foreign_keys=ON");
  enable_wal(db, path, mode, busy_timeout_ms);
  db.exec("PRAGMA synchronous=FULL");
  // CHECK (x IN (...)) constraints and some queries build a temporary
  // b-tree per statement; in memory that costs a malloc, on a temporary
  // file several system calls.
  db.exec("PRAGMA temp_store=MEMORY");
}

// SQLite's WAL hook calling a Database's WalCommitHook. No exception may
// cross SQLite's C frames; a hook that throws loses only that call.
int call_wal_commit_hook(void* hook, sqlite3* /*db*/, const char* /*schema*/, int pages) {
  try {
    (*static_cast<Database::WalCommitHook*>(hook))(pages);
  } catch (...) {
  }
  return SQLITE_OK;
}

// SQLite's memory statistics take a process-wide mutex on every malloc and
// free; nothing here reads them. Must precede SQLite's initialisation, so
// it is done before the first open (later it is refused, harmlessly).
void configure_sqlite_once() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

// ---- DatabaseError --------------------------------------------------------

bool DatabaseError::is_busy() const {
  int primary = code_ & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

// ---- Statement --------------------------------------------------------------

namespace {
void check_bind(sqlite3_stmt* stmt, int rc) {
  if (rc != SQLITE_OK) throw_error(sqlite3_db_handle(stmt), rc, "bind");
}
}  // namespace

Statement& Statement::bind(int index, std::int64_t value) {
  check_bind(stmt_, sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  check_bind(stmt_, sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                        SQLITE_UTF8));
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::string>& value) {
  return value ? bind(index, std::string_view(*value)) : bind_null(index);
}

Statement& Statement::bind(int index, const std::optional<std::int64_t>& value) {
  return value ? bind(index, *value) : bind_null(index);
}

Statement& Statement::bind_null(int index) {
  check_bind(stmt_, sqlite3_bind_null(stmt_, index));
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  // Resetting at once ends the statement's implicit read transaction, so a
  // cached statement never pins an old WAL snapshot.
  sqlite3_reset(stmt_);
  if (rc == SQLITE_DONE) return false;
  std::string sql = sqlite3_sql(stmt_) ? sqlite3_sql(stmt_) : "";
  throw_error(sqlite3_db_handle(stmt_), rc, "executing \"" + sql + "\"");
}

void Statement::run() {
  while (step()) {
  }
}

std::int64_t Statement::column_int(int index) const {
  return sqlite3_column_int64(stmt_, index);
}

std::optional<std::int64_t> Statement::column_optional_int(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_int(index);
}

std::string Statement::column_text(int index) const {
  const unsigned char* text = sqlite3_column_text(stmt_, index);
  if (text == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)));
}

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

// ---- Database ---------------------------------------------------------------

Result<std::unique_ptr<Database>> Database::open(const std::string& path, OpenMode mode,
                                                 int busy_timeout_ms) {
  ETRN_TRY(check_parent_directory(path));
  configure_sqlite_once();
  sqlite3* handle = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &handle, open_flags(mode), nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "cannot open database " + path + ": " +
                          (handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc));
    sqlite3_close_v2(handle);
    return make_error(message);
  }
  std::unique_ptr<Database> db(new Database(handle));
  sqlite3_extended_result_codes(handle, 1);
  sqlite3_busy_timeout(handle, busy_timeout_ms);
  if (mode != OpenMode::read_only && sqlite3_db_readonly(handle, "main") == 1) {
    return make_error("cannot open database " + path + " for writing: the file is read-only");
  }
  try {
    configure(*db, path, mode, busy_timeout_ms);
  } catch (const DatabaseError& e) {
    return make_error(e.what());
  }
  ETRN_TRY(mode == OpenMode::read_only ? check_schema(*db) : migrate_schema(*db));
  return db;
}

Database::~Database() {
  for (auto& [sql, statement] : statements_) sqlite3_finalize(statement.raw());
  sqlite3_close_v2(db_);
}

Statement& Database::prepare(std::string_view sql) {
  auto found = statements_.find(sql);
  if (found != statements_.end()) {
    found->second.reset();
    return found->second;
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) throw_error(db_, rc, "preparing \"" + std::string(sql) + "\"");
  return statements_.emplace(std::string(sql), Statement(stmt)).first->second;
}

void Database::exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) throw_error(db_, rc, "executing \"" + text + "\"");
}

std::int64_t Database::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

std::int64_t Database::changes() const {
  return sqlite3_changes64(db_);
}

bool Database::in_transaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

void Database::set_busy_timeout(std::chrono::milliseconds timeout) {
  sqlite3_busy_timeout(db_, static_cast<int>(timeout.count()));
}

void Database::on_wal_commit(WalCommitHook hook) {
  wal_commit_hook_ = std::make_unique<WalCommitHook>(std::move(hook));
  sqlite3_wal_hook(db_, call_wal_commit_hook, wal_commit_hook_.get());
}

Status Database::checkpoint() {
  const int rc =
      sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (rc == SQLITE_OK || rc == SQLITE_BUSY) return ok_status();
  return make_error("database " + path() + ": checkpoint: " + sqlite3_errmsg(db_));
}

void Database::leave_files_at_close() {
  int persist = 1;
  sqlite3_file_control(db_, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
}

int Database::schema_version() const {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &stmt, nullptr);
  if (rc != SQLITE_OK) throw_error(db_, rc, "reading user_version");
  rc = sqlite3_step(stmt);
  int version = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW) throw_error(db_, rc, "reading user_version");
  return version;
}

std::string Database::path() const {
  return database_path(db_);
}

// ---- Transaction ------------------------------------------------------------

// IMMEDIATE takes the write lock up front, so a busy database fails here
// (after the busy timeout) rather than half way through the work.
Transaction::Transaction(Database& db) : db_(db), nested_(db.in_transaction()) {
  // Cached statements: the milter runs one transaction per group commit.
  db_.prepare(nested_ ? "SAVEPOINT etrn_nested" : "BEGIN IMMEDIATE").run();
}

Transaction::~Transaction() {
  if (done_) return;
  try {
    db_.exec(nested_ ? "ROLLBACK TO etrn_nested; RELEASE etrn_nested" : "ROLLBACK");
  } catch (const DatabaseError&) {
    // SQLite may have rolled back already (e.g. after SQLITE_FULL).
  }
}

void Transaction::commit() {
  db_.prepare(nested_ ? "RELEASE etrn_nested" : "COMMIT").run();
  done_ = true;
}

}  // namespace etrn
