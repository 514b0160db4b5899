// postgres_database.hpp - the PostgreSQL engine behind Database, over
// libpq: a store that several hosts share (issue 16).
//
// The target is a libpq connection URI (postgresql://etrn@db.example/etrn
// ?sslmode=verify-full); the password comes from libpq's own PGPASSFILE or
// ~/.pgpass, never from the URI on a command line. Connecting gives up
// after 10 seconds unless the URI sets connect_timeout. The database must
// exist; the programs create and migrate the schema in it (schema.cpp), in
// the connection's current schema (search_path; e.g. ?options=-csearch_path%3Detrn).
//
// Each connection's session is set up once (and again after a reconnect):
// - default_transaction_isolation = serializable: every transaction runs as
//   if alone, which is what the store's code, written for SQLite's one
//   writer at a time, relies on (an id read then written, a record looked
//   for then inserted). A transaction that loses a race fails with 40001,
//   which is_busy(): the milter retries its batch, the sweeper exits 75.
// - lock_timeout = the busy timeout: a lock held elsewhere fails as busy
//   (55P03) after that long, as SQLite's busy timeout does.
// - default_transaction_read_only for OpenMode::read_only.
// - client_encoding UTF8, and notices (e.g. "already exists, skipping")
//   are dropped instead of printed on stderr.
//
// Statements are prepared on the server once per connection (named
// etrn_1, etrn_2, ...), with ?N turned into $N (to_postgres_parameters) and
// the parameter types inferred by the server; values travel as text.
// A statement's whole result is read at its first step(), so a caller may
// run other statements while it reads one (for_each_open_message does).
//
// A connection lost outside a transaction is opened again at the next
// statement or transaction (its prepared statements with it); one lost
// inside a transaction fails that transaction as busy (class 08).
//
// Threads: a connection is used by one thread at a time, like SQLite's.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/store/database.hpp"

typedef struct pg_conn PGconn;

namespace etrn {

// True for a target that names a PostgreSQL database (postgresql:// or postgres://).
bool is_postgres_uri(std::string_view target);

// Opens `uri` as database.hpp's Database::open says.
Result<std::unique_ptr<Database>> open_postgres_database(const std::string& uri, OpenMode mode,
                                                         int busy_timeout_ms);

// The URI for messages: no password, no parameters but the host (a socket
// directory).
std::string redacted_uri(std::string_view uri);

// `sql` with every ?N outside quotes and comments written $N, and the
// highest N (0: none) in `count`.
std::string to_postgres_parameters(std::string_view sql, int& count);

// The SQLSTATEs database.hpp calls busy.
bool sqlstate_is_busy(std::string_view sqlstate);

// A session-level advisory lock, on a connection of its own, held until the
// object goes (closing the connection releases it; so does the server when
// the connection dies). Its connection never reconnects: a lost connection
// is a lost lock, which held() reports.
class PostgresAdvisoryLock {
 public:
  // The lock `name` in the URI's database and schema (advisory locks are
  // per database; the schema is added to the name the server hashes to a
  // key), taken without waiting: nullptr when another session holds it.
  static Result<std::unique_ptr<PostgresAdvisoryLock>> try_take(const std::string& uri,
                                                                const std::string& name);
  ~PostgresAdvisoryLock();
  PostgresAdvisoryLock(const PostgresAdvisoryLock&) = delete;
  PostgresAdvisoryLock& operator=(const PostgresAdvisoryLock&) = delete;

  // A round trip on the lock's connection: an error when it is gone.
  Status held();

 private:
  PostgresAdvisoryLock(PGconn* conn, std::string name) : conn_(conn), name_(std::move(name)) {}
  PGconn* conn_;
  std::string name_;  // the database as messages show it
};

}  // namespace etrn
