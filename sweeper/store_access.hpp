// store_access.hpp - how the sweeper's commands reach their store: the
// configured database (an SQLite file, or a PostgreSQL URI with the
// password file's password: store_target.hpp), opened with a FatalError
// that names it (never its password), and the directory of the sweeper's
// own files.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/config/config.hpp"
#include "common/store/database.hpp"
#include "common/util/sysexits.hpp"

namespace etrn {

// What Database::open is given. Throws FatalError(config) for a
// database_password_file that cannot be used.
std::string store_of(const Config& config);

// Opens the store, working for config.instance (Database::instance);
// throws FatalError(on_failure, why, naming the database).
std::unique_ptr<Database> open_store(const Config& config, OpenMode mode, ExitCode on_failure);
// The same with the target store_of(config) gave already: a command that
// also takes the run lock or keeps a journal reads the password file once.
std::unique_ptr<Database> open_store(const std::string& target, const Config& config, OpenMode mode,
                                     ExitCode on_failure);

// Whether there may be a store to read: an SQLite file that exists; a
// PostgreSQL database always (opening it tells).
bool store_may_exist(const Config& config);

// Whose rows an audit command (report, history, shape, check) reads: a
// host's name (its rows and those that name none, as its sweeper) or
// nullopt for every host's. `option` is --instance (a name or "all");
// without it, every host's when `every_host_by_default` (report, history)
// or in an SQLite store (one host's file), else this host's: config.instance
// or the MTA's own name.
enum class DefaultScope { every_host, this_host };
std::optional<std::string> audit_instance(const Config& config,
                                          const std::optional<std::string>& option,
                                          DefaultScope by_default);

// state_directory, or its default: the SQLite database's directory,
// kDefaultStateDirectory for PostgreSQL.
std::string state_directory_of(const Config& config);

}  // namespace etrn
