// store_access.cpp - see store_access.hpp.
#include "sweeper/store_access.hpp"

#include <filesystem>

#include "common/store/postgres_database.hpp"
#include "common/store/store_target.hpp"
#include "sweeper/sweep_command.hpp"

namespace etrn {

std::string store_of(const Config& config) {
  auto target = store_target(config.database, config.database_password_file);
  if (!target) throw FatalError(ExitCode::config, target.error().message);
  return *target;
}

std::unique_ptr<Database> open_store(const Config& config, OpenMode mode, ExitCode on_failure) {
  return open_store(store_of(config), config, mode, on_failure);
}

std::unique_ptr<Database> open_store(const std::string& target, const Config& config, OpenMode mode,
                                     ExitCode on_failure) {
  auto db = Database::open(target, mode);
  if (!db) throw FatalError(on_failure, db.error().message);  // it names the database
  (*db)->work_for_instance(config.instance);
  return std::move(db).value();
}

bool store_may_exist(const Config& config) {
  return is_postgres_uri(config.database) || std::filesystem::exists(config.database);
}

std::optional<std::string> audit_instance(const Config& config,
                                          const std::optional<std::string>& option,
                                          DefaultScope by_default) {
  if (option) return *option == "all" ? std::nullopt : option;
  if (by_default == DefaultScope::every_host || !is_postgres_uri(config.database))
    return std::nullopt;
  return with_own_instance(config, *make_mta(config)).instance;
}

std::string state_directory_of(const Config& config) {
  if (!config.state_directory.empty()) return config.state_directory;
  if (is_postgres_uri(config.database)) return kDefaultStateDirectory;
  const std::filesystem::path dir = std::filesystem::path(config.database).parent_path();
  return dir.empty() ? "." : dir.string();
}

}  // namespace etrn
