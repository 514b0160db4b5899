// database_files.cpp - see database_files.hpp.
#include "milter/database_files.hpp"

#include <sys/stat.h>
#include <unistd.h>

namespace etrn {

std::optional<FileIdentity> identity_of(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileIdentity{st.st_dev, st.st_ino};
}

DatabaseFiles DatabaseFiles::remember(const std::string& database_path) {
  DatabaseFiles files;
  for (auto [remembered, path] :
       {std::pair{&files.database_, database_path}, std::pair{&files.wal_, database_path + "-wal"},
        std::pair{&files.shm_, database_path + "-shm"}}) {
    remembered->path = path;
    remembered->identity = identity_of(path);
  }
  return files;
}

bool DatabaseFiles::unchanged() const {
  return database_.identity && identity_of(database_.path) == database_.identity;
}

std::vector<std::string> DatabaseFiles::remove_orphaned_companions() const {
  std::vector<std::string> removed;
  for (const Remembered* companion : {&wal_, &shm_}) {
    if (!companion->identity || identity_of(companion->path) != companion->identity) continue;
    if (unlink(companion->path.c_str()) == 0) removed.push_back(companion->path);
  }
  return removed;
}

}  // namespace etrn
