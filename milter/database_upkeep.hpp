// database_upkeep.hpp - what the milter's writer does around its
// connection that depends on where the database lives, decided once from
// the target (for_target) so that the writer itself has no engine cases.
//
// - An SQLite file (sqlite_file_upkeep): the path is watched for the file
//   being deleted or replaced under the open connection
//   (database_files.hpp), and WAL checkpoints run in a thread of their own
//   with a connection of their own, opened for each checkpoint (every
//   kCheckpointFrames WAL pages), so that copying the log into the
//   database and its fsync never delay a commit.
// - A PostgreSQL server: nothing. The server keeps its own files and log;
//   a lost connection is the connection's business (postgres_database.hpp
//   opens it again) and a failed batch is retried like any other.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/store/database.hpp"

namespace etrn {

class DatabaseUpkeep {
 public:
  // WAL size (frames = pages, 16 MiB) that starts a checkpoint.
  static constexpr int kCheckpointFrames = 4000;

  // The upkeep `target` (Database::open's) needs; a thread it starts runs
  // at nice `thread_nice`.
  static std::unique_ptr<DatabaseUpkeep> for_target(const std::string& target, int thread_nice);
  virtual ~DatabaseUpkeep() = default;

  // Right after the writer opened `db` on the target.
  virtual void opened(Database& db) = 0;
  // Whether the target still names the database the writer has open.
  virtual bool unchanged() const = 0;
  // Closes the writer's connection to a database that was deleted or
  // replaced, leaving what is at the path now alone, and removes what the
  // old database left there. Returns the names of the files it removed.
  virtual std::vector<std::string> forget(std::unique_ptr<Database> db) = 0;
  // Ends any thread of its own (after the writer's last commit).
  virtual void stop() = 0;

 protected:
  DatabaseUpkeep() = default;
};

}  // namespace etrn
