// migrate_command.hpp - `etrn-sweeper migrate --to URI`: a host joins a
// shared PostgreSQL store with its history (store_copy.hpp).
#pragma once

#include <string>

#include "common/config/config.hpp"

namespace etrn {

// Copies the configured SQLite database into the PostgreSQL database `to`
// (with database_password_file's password, if set) under the SQLite run
// lock, so that no sweep runs meanwhile; prints per table what was copied
// and what was there already. 0 when done; FatalError: 64 (usage) unless
// it is SQLite to PostgreSQL, 75 when a sweep runs or the target is busy.
int run_migrate(const Config& config, const std::string& to);

}  // namespace etrn
