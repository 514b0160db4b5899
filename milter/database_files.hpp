// database_files.hpp - whether a database path still names the file a
// connection has open.
//
// A database deleted (rm etrn.db*) or replaced (mv backup etrn.db) under a
// running milter leaves its connection writing into a file no one else
// will ever read. One stat() of the path, compared with the device and
// inode remembered when the connection was opened, tells; the writer
// thread asks before and after each commit and once a second when idle,
// never per message.
//
// If only the main file went, its -wal and -shm files are still the ones
// the old connection used: left at the path, they would be taken for the
// journal of whatever database is created there next (the sweeper then
// fails with "disk I/O error"), so they are removed.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace etrn {

struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  bool operator==(const FileIdentity&) const = default;
};

// The file `path` names now; nothing when there is none (or it cannot be stat'ed).
std::optional<FileIdentity> identity_of(const std::string& path);

// The database file and its -wal and -shm files, as they were when remembered.
class DatabaseFiles {
 public:
  DatabaseFiles() = default;
  // Call right after opening the connection (the -wal and -shm exist then).
  static DatabaseFiles remember(const std::string& database_path);

  // True when the path still names the remembered database file.
  bool unchanged() const;
  // Removes the -wal and -shm files that are still the remembered ones
  // (call after the main file changed and the old connection was closed);
  // returns their names.
  std::vector<std::string> remove_orphaned_companions() const;

 private:
  struct Remembered {
    std::string path;
    std::optional<FileIdentity> identity;
  };
  Remembered database_, wal_, shm_;
};

}  // namespace etrn
