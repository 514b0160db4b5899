// sqlite_database.cpp - the SQLite engine (see sqlite_database.hpp).
#include "common/store/sqlite_database.hpp"

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

void check_bind(sqlite3_stmt* stmt, int rc) {
  if (rc != SQLITE_OK) throw_error(sqlite3_db_handle(stmt), rc, "bind");
}

class SqliteStatement final : public Statement {
 public:
  explicit SqliteStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~SqliteStatement() override { sqlite3_finalize(stmt_); }

  bool step() override {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    // Resetting at once ends the statement's implicit read transaction, so a
    // cached statement never pins an old WAL snapshot.
    sqlite3_reset(stmt_);
    if (rc == SQLITE_DONE) return false;
    std::string sql = sqlite3_sql(stmt_) ? sqlite3_sql(stmt_) : "";
    throw_error(sqlite3_db_handle(stmt_), rc, "executing \"" + sql + "\"");
  }

  std::int64_t insert() override {
    run();
    return sqlite3_last_insert_rowid(sqlite3_db_handle(stmt_));
  }

  std::int64_t column_int(int index) const override { return sqlite3_column_int64(stmt_, index); }

  std::string column_text(int index) const override {
    const unsigned char* text = sqlite3_column_text(stmt_, index);
    if (text == nullptr) return "";
    return std::string(reinterpret_cast<const char*>(text),
                       static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)));
  }

  bool column_is_null(int index) const override {
    return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
  }

  int column_count() override { return sqlite3_column_count(stmt_); }

  std::string column_name(int index) override {
    const char* name = sqlite3_column_name(stmt_, index);
    return name ? name : "";
  }

  void reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 protected:
  void bind_integer(int index, std::int64_t value) override {
    check_bind(stmt_, sqlite3_bind_int64(stmt_, index, value));
  }
  void bind_text(int index, std::string_view value) override {
    check_bind(stmt_, sqlite3_bind_text64(stmt_, index, value.data(), value.size(),
                                          SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  void bind_no_value(int index) override { check_bind(stmt_, sqlite3_bind_null(stmt_, index)); }

 private:
  sqlite3_stmt* stmt_;
};

// SQLite's WAL hook calling a Database's WalCommitHook. No exception may
// cross SQLite's C frames; a hook that throws loses only that call.
int call_wal_commit_hook(void* hook, sqlite3* /*db*/, const char* /*schema*/, int pages) {
  try {
    (*static_cast<Database::WalCommitHook*>(hook))(pages);
  } catch (...) {
  }
  return SQLITE_OK;
}

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  ~SqliteDatabase() override {
    statements_.clear();  // finalized before the connection closes
    sqlite3_close_v2(db_);
  }

  SqlEngine engine() const override { return SqlEngine::sqlite; }

  Statement& prepare(std::string_view sql) override {
    auto found = statements_.find(sql);
    if (found != statements_.end()) {
      found->second->reset();
      return *found->second;
    }
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) throw_error(db_, rc, "preparing \"" + std::string(sql) + "\"");
    return *statements_.emplace(std::string(sql), std::make_unique<SqliteStatement>(stmt))
                .first->second;
  }

  Statement& prepare_insert(std::string_view sql) override { return prepare(sql); }

  void exec(std::string_view sql) override {
    std::string text(sql);
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) throw_error(db_, rc, "executing \"" + text + "\"");
  }

  std::int64_t changes() const override { return sqlite3_changes64(db_); }
  bool in_transaction() const override { return sqlite3_get_autocommit(db_) == 0; }
  std::string path() const override { return database_path(db_); }

  int schema_version() override {
    Statement& read = prepare("PRAGMA user_version");
    const int version = read.step() ? static_cast<int>(read.column_int(0)) : 0;
    read.reset();
    return version;
  }

  void set_schema_version(int version) override {
    exec("PRAGMA user_version = " + std::to_string(version));
  }

  void set_busy_timeout(std::chrono::milliseconds timeout) override {
    sqlite3_busy_timeout(db_, static_cast<int>(timeout.count()));
  }

  // Cached statements: the milter runs one transaction per group commit.
  void begin(bool nested) override {
    prepare(nested ? "SAVEPOINT etrn_nested" : "BEGIN IMMEDIATE").run();
  }
  void commit(bool nested) override { prepare(nested ? "RELEASE etrn_nested" : "COMMIT").run(); }
  void rollback(bool nested) override {
    exec(nested ? "ROLLBACK TO etrn_nested; RELEASE etrn_nested" : "ROLLBACK");
  }

  void on_wal_commit(WalCommitHook hook) override {
    wal_commit_hook_ = std::make_unique<WalCommitHook>(std::move(hook));
    sqlite3_wal_hook(db_, call_wal_commit_hook, wal_commit_hook_.get());
  }

  Status checkpoint() override {
    const int rc =
        sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc == SQLITE_OK || rc == SQLITE_BUSY) return ok_status();
    return make_error("database " + path() + ": checkpoint: " + sqlite3_errmsg(db_));
  }

  void leave_files_at_close() override {
    int persist = 1;
    sqlite3_file_control(db_, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  }

  void overwrite_deleted() override { exec("PRAGMA secure_delete = ON"); }
  void forget_deleted() override { exec("PRAGMA wal_checkpoint(TRUNCATE)"); }

 private:
  sqlite3* db_;
  std::unique_ptr<WalCommitHook> wal_commit_hook_;  // SQLite keeps its address
  // Looked up by string_view without building a std::string each time.
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const {
      return std::hash<std::string_view>{}(sql);
    }
  };
  std::unordered_map<std::string, std::unique_ptr<SqliteStatement>, SqlHash, std::equal_to<>>
      statements_;
};

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

// SQLite's memory statistics take a process-wide mutex on every malloc and
// free; nothing here reads them. Must precede SQLite's initialisation, so
// it is done before the first open (later it is refused, harmlessly).
void configure_sqlite_once() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

bool sqlite_code_is_busy(int code) {
  int primary = code & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

Result<std::unique_ptr<Database>> open_sqlite_database(const std::string& path, OpenMode mode,
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
  std::unique_ptr<Database> db = std::make_unique<SqliteDatabase>(handle);
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

}  // namespace etrn
