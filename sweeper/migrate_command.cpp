// migrate_command.cpp - see migrate_command.hpp.
#include "sweeper/migrate_command.hpp"

#include <iostream>

#include "common/store/postgres_database.hpp"
#include "common/store/store_copy.hpp"
#include "common/store/store_target.hpp"
#include "common/util/sysexits.hpp"
#include "sweeper/run_lock.hpp"
#include "sweeper/store_access.hpp"

namespace etrn {

namespace {

constexpr const char* kTables[] = {"messages",     "recipients", "outbox",
                                   "mta_arrivals", "events",     "runs"};

void print_counts(std::ostream& out, const StoreCopy& counts) {
  for (const char* table : kTables) {
    const auto found = counts.find(table);
    const TableCopy c = found == counts.end() ? TableCopy{} : found->second;
    out << table << ": " << c.copied << " copied, " << c.present << " already there\n";
  }
}

}  // namespace

int run_migrate(const Config& config, const std::string& to) {
  if (is_postgres_uri(config.database))
    throw FatalError(ExitCode::usage, "migrate copies an SQLite database, and database is " +
                                          database_for_messages(config.database));
  if (!is_postgres_uri(to))
    throw FatalError(ExitCode::usage, "--to " + to + ": want a PostgreSQL URI (postgresql://...)");
  if (!store_may_exist(config))
    throw FatalError(ExitCode::io_error, "no database at " + config.database);
  RunLock lock(config.database, config.instance);
  auto from = open_store(config, OpenMode::read_write, ExitCode::io_error);
  const auto target = store_target(to, config.database_password_file);
  if (!target) throw FatalError(ExitCode::config, target.error().message);
  auto into = Database::open(*target, OpenMode::read_write_create);
  if (!into) throw FatalError(ExitCode::cant_create, into.error().message);
  std::cerr << "copying " << config.database << " into " << database_for_messages(to) << "\n";
  const StoreCopy counts = copy_store(*from, **into, config.instance);
  print_counts(std::cout, counts);
  return 0;
}

}  // namespace etrn
