// sqlite_database.hpp - the SQLite engine behind Database: a file (or
// ":memory:") opened with the pragmas the product relies on (WAL,
// synchronous=FULL, foreign keys, busy timeout), cached prepared
// statements, and IMMEDIATE transactions. The embedded default.
//
// Threads: a connection is opened SQLITE_OPEN_NOMUTEX, so it must be used
// by one thread at a time. Give each thread its own Database (the milter's
// writer thread has one, its checkpoint thread another); SQLite's file
// locking coordinates them.
//
// Durability: synchronous=FULL in WAL mode makes a COMMIT durable (the WAL
// is fsync'ed) before it returns: what the milter's writer thread logs as
// recorded, and what a sweep commits, survives a crash.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "common/store/database.hpp"

struct sqlite3;

namespace etrn {

// Opens `path` as database.hpp's Database::open says.
Result<std::unique_ptr<Database>> open_sqlite_database(const std::string& path, OpenMode mode,
                                                       int busy_timeout_ms);

// SQLITE_BUSY or SQLITE_LOCKED, with or without an extended code.
bool sqlite_code_is_busy(int code);

}  // namespace etrn
