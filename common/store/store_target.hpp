// store_target.hpp - what Database::open is given for the configured store.
//
// `database` is an SQLite path or a PostgreSQL URI. A PostgreSQL password
// never appears on a command line or in the main configuration: libpq's
// own PGPASSFILE / ~/.pgpass work as they always do, or the configuration
// names a `database_password_file` whose first line is the password. That
// file is read once at start-up (before the milter drops its privileges,
// so it may be root's alone) and must be a regular file without group or
// other permissions, as libpq demands of ~/.pgpass. Its password travels
// in memory only, as the URI's `password` parameter, which redacted_uri()
// (every message that names the store) never shows.
#pragma once

#include <string>
#include <string_view>

#include "common/util/result.hpp"

namespace etrn {

// `database`, or the URI with the password file's password added, and
// `user` (when not empty) as the role to connect as instead of the URI's.
// Errors: a password file or user with an SQLite path; a password file
// that cannot be read, is not a regular file, is open to group or others,
// or is empty.
Result<std::string> store_target(const std::string& database, const std::string& password_file,
                                 const std::string& user = "");

// `text` percent-encoded for a URI's query value (RFC 3986 unreserved kept).
std::string percent_encoded(std::string_view text);

}  // namespace etrn
