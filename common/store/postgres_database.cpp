// postgres_database.cpp - the PostgreSQL engine (see postgres_database.hpp).
#include "common/store/postgres_database.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <unordered_map>
#include <vector>

#include "common/store/postgres_text.hpp"
#include "common/store/schema.hpp"

namespace etrn {

namespace {

// SQLSTATE 08006 connection_failure: what a lost connection reports.
constexpr const char* kConnectionFailure = "08006";

std::string trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

// The error of `result` (or of the connection, when there is no result)
// as a DatabaseError naming the database and what was being done.
[[noreturn]] void throw_error(PGconn* conn, PGresult* result, const std::string& database,
                              std::string_view doing) {
  std::string sqlstate;
  std::string message;
  if (result != nullptr) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    sqlstate = state ? state : "";
    message = primary ? primary : PQresultErrorMessage(result);
    PQclear(result);
  }
  if (message.empty()) message = PQerrorMessage(conn);
  if (sqlstate.empty() && PQstatus(conn) == CONNECTION_BAD) sqlstate = kConnectionFailure;
  throw DatabaseError(sqlstate,
                      "database " + database + ": " + std::string(doing) + ": " + trimmed(message));
}

bool succeeded(PGresult* result) {
  const ExecStatusType status = PQresultStatus(result);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

void ignore_notice(void* /*arg*/, const char* /*message*/) {}

class PostgresDatabase;

class PostgresStatement final : public Statement {
 public:
  PostgresStatement(PostgresDatabase& db, std::string name, std::string_view sql);
  ~PostgresStatement() override {
    clear();
    PQclear(description_);
  }

  bool step() override;
  std::int64_t insert() override;
  std::int64_t column_int(int index) const override;
  std::string column_text(int index) const override;
  bool column_is_null(int index) const override { return PQgetisnull(result_, row_, index) == 1; }
  int column_count() override { return PQnfields(description()); }
  std::string column_name(int index) override { return PQfname(description(), index); }
  void reset() override {
    clear();
    std::fill(is_null_.begin(), is_null_.end(), true);
  }
  // Prepares it on the server, unless the connection has it already (a
  // lost connection is first opened again, as the header says).
  void prepare_on_server();

 protected:
  void bind_integer(int index, std::int64_t value) override { set(index, std::to_string(value)); }
  void bind_text(int index, std::string_view value) override {
    set(index, to_postgres_text(value));
  }
  void bind_no_value(int index) override { is_null_.at(checked(index)) = true; }

 private:
  std::size_t checked(int index) const;
  void set(int index, std::string value) {
    const std::size_t i = checked(index);
    values_[i] = std::move(value);
    is_null_[i] = false;
  }
  void execute();
  void clear() {
    PQclear(result_);
    result_ = nullptr;
    row_ = -1;
  }
  PGresult* description();

  PostgresDatabase& db_;
  std::string name_;
  std::string original_sql_;  // as the caller wrote it, for messages
  std::string sql_;           // with $N
  int parameters_ = 0;
  std::vector<std::string> values_;
  std::vector<bool> is_null_;
  std::vector<const char*> pointers_;
  std::uint64_t prepared_on_ = 0;  // the connection it was prepared on; 0: none
  PGresult* result_ = nullptr;
  int rows_ = 0;
  int row_ = -1;
  PGresult* description_ = nullptr;
};

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(PGconn* conn, std::string name, OpenMode mode, int busy_timeout_ms)
      : conn_(conn), name_(std::move(name)), mode_(mode), busy_timeout_ms_(busy_timeout_ms) {}
  ~PostgresDatabase() override {
    statements_.clear();
    PQfinish(conn_);
  }

  SqlEngine engine() const override { return SqlEngine::postgresql; }

  Statement& prepare(std::string_view sql) override {
    auto found = statements_.find(sql);
    if (found != statements_.end()) {
      found->second->reset();
      return *found->second;
    }
    // Prepared before it is cached: bad SQL fails here, as on SQLite.
    auto statement = std::make_unique<PostgresStatement>(
        *this, "etrn_" + std::to_string(statements_.size() + 1), sql);
    statement->prepare_on_server();
    return *statements_.emplace(std::string(sql), std::move(statement)).first->second;
  }

  Statement& prepare_insert(std::string_view sql) override {
    return prepare(std::string(sql) + " RETURNING id");
  }

  void exec(std::string_view sql) override {
    reconnect_if_lost();
    const std::string text(sql);
    PGresult* result = PQexec(conn_, text.c_str());
    if (!succeeded(result)) throw_error(conn_, result, name_, "executing \"" + text + "\"");
    note_changes(result);
    PQclear(result);
  }

  std::int64_t changes() const override { return changes_; }

  bool in_transaction() const override {
    const PGTransactionStatusType status = PQtransactionStatus(conn_);
    return transaction_open_ || status == PQTRANS_INTRANS || status == PQTRANS_INERROR ||
           status == PQTRANS_ACTIVE;
  }

  std::string path() const override { return name_; }

  int schema_version() override {
    Statement& exists = prepare("SELECT to_regclass('etrn_schema') IS NOT NULL");
    const bool there = exists.step() && exists.column_int(0) == 1;
    exists.reset();
    if (!there) return 0;
    Statement& read = prepare("SELECT version FROM etrn_schema");
    const int version = read.step() ? static_cast<int>(read.column_int(0)) : 0;
    read.reset();
    return version;
  }

  void set_schema_version(int version) override {
    exec("UPDATE etrn_schema SET version = " + std::to_string(version));
  }

  void set_busy_timeout(std::chrono::milliseconds timeout) override {
    busy_timeout_ms_ = static_cast<int>(timeout.count());
    exec("SET lock_timeout = " + std::to_string(busy_timeout_ms_));
  }

  void begin(bool nested) override {
    if (nested) return exec("SAVEPOINT etrn_nested");
    exec("BEGIN");
    transaction_open_ = true;
  }

  // COMMIT of a transaction that failed answers ROLLBACK, not an error:
  // said as one here, so no caller mistakes it for committed work.
  void commit(bool nested) override {
    if (nested) return exec("RELEASE SAVEPOINT etrn_nested");
    transaction_open_ = false;  // over, whatever COMMIT answers
    PGresult* result = PQexec(conn_, "COMMIT");
    if (!succeeded(result)) throw_error(conn_, result, name_, "COMMIT");
    const bool rolled_back = std::string_view(PQcmdStatus(result)) == "ROLLBACK";
    PQclear(result);
    if (rolled_back) {
      throw DatabaseError(
          std::string("25P02"),
          "database " + name_ + ": COMMIT: the transaction had failed; rolled back");
    }
  }

  void rollback(bool nested) override {
    if (nested) return exec("ROLLBACK TO SAVEPOINT etrn_nested; RELEASE SAVEPOINT etrn_nested");
    transaction_open_ = false;
    exec("ROLLBACK");
  }

  void on_wal_commit(WalCommitHook /*hook*/) override {}
  Status checkpoint() override { return ok_status(); }
  void leave_files_at_close() override {}
  void overwrite_deleted() override {}
  void forget_deleted() override {}

  // --- for PostgresStatement and open ---

  PGconn* connection() const { return conn_; }
  std::uint64_t connection_number() const { return connection_number_; }
  const std::string& name() const { return name_; }

  void note_changes(PGresult* result) {
    const std::string_view command = PQcmdStatus(result);
    if (command.starts_with("INSERT") || command.starts_with("UPDATE") ||
        command.starts_with("DELETE"))
      changes_ = std::atoll(PQcmdTuples(result));
  }

  // A connection lost between transactions is opened again: nothing was
  // pending on it. Inside a transaction the loss stands until the
  // transaction ends (see the header): a new connection under it would run
  // the transaction's remaining statements on their own.
  void reconnect_if_lost() {
    if (PQstatus(conn_) != CONNECTION_BAD || transaction_open_) return;
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) throw_error(conn_, nullptr, name_, "reconnecting");
    ++connection_number_;
    configure_session();
  }

  void configure_session() {
    PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
    exec(
        "SET client_min_messages = warning; SET client_encoding = 'UTF8';"
        " SET default_transaction_isolation = 'serializable'; SET lock_timeout = " +
        std::to_string(busy_timeout_ms_) +
        "; SET default_transaction_read_only = " + (mode_ == OpenMode::read_only ? "on" : "off"));
  }

 private:
  PGconn* conn_;
  std::string name_;
  OpenMode mode_;
  int busy_timeout_ms_;
  std::uint64_t connection_number_ = 1;
  bool transaction_open_ = false;  // a Transaction's BEGIN, until its COMMIT or ROLLBACK
  std::int64_t changes_ = 0;
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const {
      return std::hash<std::string_view>{}(sql);
    }
  };
  std::unordered_map<std::string, std::unique_ptr<PostgresStatement>, SqlHash, std::equal_to<>>
      statements_;
};

// ---- PostgresStatement --------------------------------------------------------

PostgresStatement::PostgresStatement(PostgresDatabase& db, std::string name, std::string_view sql)
    : db_(db), name_(std::move(name)), original_sql_(sql) {
  sql_ = to_postgres_parameters(sql, parameters_);
  values_.resize(parameters_);
  is_null_.assign(parameters_, true);
  pointers_.resize(parameters_);
}

std::size_t PostgresStatement::checked(int index) const {
  if (index < 1 || index > parameters_) {
    throw DatabaseError(std::string(), "database " + db_.name() + ": bind: parameter " +
                                           std::to_string(index) + " is not in \"" + original_sql_ +
                                           "\"");
  }
  return static_cast<std::size_t>(index - 1);
}

void PostgresStatement::prepare_on_server() {
  db_.reconnect_if_lost();
  if (prepared_on_ == db_.connection_number()) return;
  PQclear(description_);
  description_ = nullptr;
  PGresult* result = PQprepare(db_.connection(), name_.c_str(), sql_.c_str(), parameters_, nullptr);
  if (!succeeded(result))
    throw_error(db_.connection(), result, db_.name(), "preparing \"" + original_sql_ + "\"");
  PQclear(result);
  prepared_on_ = db_.connection_number();
}

PGresult* PostgresStatement::description() {
  if (result_ != nullptr) return result_;
  prepare_on_server();
  if (description_ == nullptr) {
    description_ = PQdescribePrepared(db_.connection(), name_.c_str());
    if (!succeeded(description_)) {
      PGresult* failed = description_;
      description_ = nullptr;
      throw_error(db_.connection(), failed, db_.name(), "describing \"" + original_sql_ + "\"");
    }
  }
  return description_;
}

void PostgresStatement::execute() {
  prepare_on_server();
  for (int i = 0; i < parameters_; ++i) pointers_[i] = is_null_[i] ? nullptr : values_[i].c_str();
  PGresult* result = PQexecPrepared(db_.connection(), name_.c_str(), parameters_, pointers_.data(),
                                    nullptr, nullptr, 0);
  if (!succeeded(result))
    throw_error(db_.connection(), result, db_.name(), "executing \"" + original_sql_ + "\"");
  db_.note_changes(result);
  result_ = result;
  rows_ = PQntuples(result);
  row_ = -1;
}

bool PostgresStatement::step() {
  if (result_ == nullptr) execute();
  if (++row_ < rows_) return true;
  clear();  // the next step runs it again, as SQLite's does after the end
  return false;
}

std::int64_t PostgresStatement::insert() {
  if (!step()) {
    throw DatabaseError(std::string(), "database " + db_.name() + ": \"" + original_sql_ +
                                           "\" returned no id (not prepared with prepare_insert?)");
  }
  const std::int64_t id = column_int(0);
  clear();
  return id;
}

// Integers arrive as text; booleans as t or f.
std::int64_t PostgresStatement::column_int(int index) const {
  const char* value = PQgetvalue(result_, row_, index);
  if (value[0] == 't' && value[1] == '\0') return 1;
  if (value[0] == 'f' && value[1] == '\0') return 0;
  return std::strtoll(value, nullptr, 10);
}

std::string PostgresStatement::column_text(int index) const {
  return from_postgres_text(
      std::string_view(PQgetvalue(result_, row_, index),
                       static_cast<std::size_t>(PQgetlength(result_, row_, index))));
}

}  // namespace

bool is_postgres_uri(std::string_view target) {
  return target.starts_with("postgresql://") || target.starts_with("postgres://");
}

std::string redacted_uri(std::string_view uri) {
  const std::size_t scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return std::string(uri);
  const std::string_view scheme = uri.substr(0, scheme_end + 3);
  std::string_view rest = uri.substr(scheme_end + 3);
  const std::size_t query_start = rest.find('?');
  const std::string_view query =
      query_start == std::string_view::npos ? std::string_view() : rest.substr(query_start + 1);
  rest = rest.substr(0, query_start);
  std::string out(scheme);
  const std::size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view user_info = rest.substr(0, at);
    out += user_info.substr(0, user_info.find(':'));
    out += '@';
    rest = rest.substr(at + 1);
  }
  out += rest;
  for (std::size_t start = 0; start < query.size();) {
    const std::size_t end = std::min(query.find('&', start), query.size());
    const std::string_view parameter = query.substr(start, end - start);
    if (parameter.starts_with("host=")) out += "?" + std::string(parameter);
    start = end + 1;
  }
  return out;
}

std::string to_postgres_parameters(std::string_view sql, int& count) {
  std::string out;
  out.reserve(sql.size() + 4);
  count = 0;
  // Copies sql[i..end) as it is and returns where to go on.
  auto copy_through = [&](std::size_t i, std::size_t end) {
    end = std::min(end, sql.size());
    out.append(sql.substr(i, end - i));
    return end;
  };
  for (std::size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    if (c == '\'' || c == '"') {  // a string or quoted name; '' is two of them
      const std::size_t close = sql.find(c, i + 1);
      i = copy_through(i, close == std::string_view::npos ? close : close + 1);
    } else if (c == '-' && next == '-') {
      i = copy_through(i, sql.find('\n', i));
    } else if (c == '/' && next == '*') {
      const std::size_t close = sql.find("*/", i + 2);
      i = copy_through(i, close == std::string_view::npos ? close : close + 2);
    } else if (c == '?' && std::isdigit(static_cast<unsigned char>(next))) {
      std::size_t end = i + 1;
      while (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end]))) ++end;
      const std::string_view number = sql.substr(i + 1, end - i - 1);
      count = std::max(count, std::atoi(std::string(number).c_str()));
      out += '$';
      out.append(number);
      i = end;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

bool sqlstate_is_busy(std::string_view sqlstate) {
  return sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" ||
         sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03" || sqlstate == "53300";
}

namespace {

// A new connection to `uri` (`name`: as messages show it).
Result<PGconn*> connect(const std::string& uri, const std::string& name) {
  // The URI as dbname (expand_dbname): libpq parses it, password file and
  // all, and what it says wins over the defaults given before it.
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"10", "etrn-sweeper", uri.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  if (conn == nullptr) return make_error("cannot open database " + name + ": out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = "cannot open database " + name + ": " + trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return make_error(message);
  }
  return conn;
}

}  // namespace

Result<std::unique_ptr<Database>> open_postgres_database(const std::string& uri, OpenMode mode,
                                                         int busy_timeout_ms) {
  const std::string name = redacted_uri(uri);
  auto conn = connect(uri, name);
  if (!conn) return conn.error();
  auto db = std::make_unique<PostgresDatabase>(*conn, name, mode, busy_timeout_ms);
  try {
    db->configure_session();
  } catch (const DatabaseError& e) {
    return make_error(e.what());
  }
  ETRN_TRY(mode == OpenMode::read_only ? check_schema(*db) : migrate_schema(*db));
  return std::unique_ptr<Database>(std::move(db));
}

PostgresAdvisoryLock::~PostgresAdvisoryLock() {
  PQfinish(conn_);
}

Result<std::unique_ptr<PostgresAdvisoryLock>> PostgresAdvisoryLock::try_take(
    const std::string& uri, const std::string& name) {
  const std::string shown = redacted_uri(uri);
  auto conn = connect(uri, shown);
  if (!conn) return conn.error();
  std::unique_ptr<PostgresAdvisoryLock> lock(new PostgresAdvisoryLock(*conn, shown));
  const char* parameters[] = {name.c_str()};
  PGresult* result = PQexecParams(
      *conn, "SELECT pg_try_advisory_lock(hashtextextended($1 || ' ' || current_schema(), 0))", 1,
      nullptr, parameters, nullptr, nullptr, 0);
  if (!succeeded(result) || PQntuples(result) != 1) {
    std::string message = "database " + shown + ": taking the lock '" + name +
                          "': " + trimmed(PQresultErrorMessage(result));
    PQclear(result);
    return make_error(message);
  }
  const bool taken = std::string_view(PQgetvalue(result, 0, 0)) == "t";
  PQclear(result);
  if (!taken) return std::unique_ptr<PostgresAdvisoryLock>();
  return lock;
}

Status PostgresAdvisoryLock::held() {
  PGresult* result = PQexec(conn_, "SELECT 1");
  const bool up = succeeded(result);
  PQclear(result);
  if (up) return ok_status();
  return make_error("database " + name_ + ": the connection holding the run lock was lost (" +
                    trimmed(PQerrorMessage(conn_)) + ")");
}

}  // namespace etrn
