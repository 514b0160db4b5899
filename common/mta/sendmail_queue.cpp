// sendmail_queue.cpp - Sendmail's queue files on disk (see the header).
#include "common/mta/sendmail_queue.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <memory>

#include "common/util/posix_file.hpp"
#include "common/util/strings.hpp"

namespace etrn {

namespace {

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Where one queue directory keeps each kind of file (queue.c: qf/, df/, xf/).
struct QueueLayout {
  std::string control_dir;
  std::string data_dir;
  std::string transcript_dir;
};

QueueLayout layout_of(const std::string& dir) {
  const auto sub = [&dir](const char* name) {
    const std::string path = dir + "/" + name;
    return is_directory(path) ? path : dir;
  };
  return {sub("qf"), sub("df"), sub("xf")};
}

SendmailQueueFile file_for(const QueueLayout& layout, const std::string& id, bool quarantined) {
  SendmailQueueFile file;
  file.queue_id = id;
  file.quarantined = quarantined;
  file.control_path = layout.control_dir + (quarantined ? "/hf" : "/qf") + id;
  file.data_path = layout.data_dir + "/df" + id;
  file.transcript_path = layout.transcript_dir + "/xf" + id;
  return file;
}

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

Status unlink_if_present(const std::string& path) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return ok_status();
  return make_error("unlink " + path + ": " + errno_text());
}

}  // namespace

std::vector<std::string> sendmail_queue_directories(const std::string& setting) {
  std::vector<std::string> out;
  std::string normalized = setting;
  std::replace(normalized.begin(), normalized.end(), ',', ' ');
  for (const std::string& item : split_list(normalized, ' ')) {
    const std::string entry(trim(item));
    if (entry.empty()) continue;
    if (entry.find('*') == std::string::npos) {
      out.push_back(entry);
      continue;
    }
    glob_t matches{};
    if (::glob(entry.c_str(), 0, nullptr, &matches) == 0) {
      for (std::size_t i = 0; i < matches.gl_pathc; ++i) {
        if (is_directory(matches.gl_pathv[i])) out.emplace_back(matches.gl_pathv[i]);
      }
    }
    ::globfree(&matches);
  }
  return out;
}

Result<std::string> validate_sendmail_queue_id(std::string_view id) {
  const bool ok =
      id.size() >= 6 && id.size() <= 40 &&
      std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c); });
  if (!ok) return make_error("not a Sendmail queue ID: \"" + std::string(id) + "\"");
  return std::string(id);
}

SendmailQueue::SendmailQueue(std::vector<std::string> directories)
    : directories_(std::move(directories)) {}

Status SendmailQueue::for_each_file(const std::function<void(SendmailQueueFile&&)>& visit) const {
  if (directories_.empty()) return make_error("no Sendmail queue directory found");
  for (const std::string& dir : directories_) {
    const QueueLayout layout = layout_of(dir);
    std::unique_ptr<DIR, DirCloser> listing(::opendir(layout.control_dir.c_str()));
    if (!listing) return make_error("cannot list " + layout.control_dir + ": " + errno_text());
    errno = 0;
    while (const dirent* entry = ::readdir(listing.get())) {
      const std::string_view name(entry->d_name);
      if (name.size() < 3) continue;
      const std::string_view prefix = name.substr(0, 2);
      const std::string id(name.substr(2));
      if (prefix == "Qf") {
        spdlog::warn("{}/{}: set aside by Sendmail as damaged; left alone", layout.control_dir,
                     name);
      } else if ((prefix == "qf" || prefix == "hf") && validate_sendmail_queue_id(id)) {
        visit(file_for(layout, id, prefix == "hf"));
      }
      errno = 0;  // tf (being written), xf, df and anything else: not a message
    }
    if (errno != 0) return make_error("listing " + layout.control_dir + ": " + errno_text());
  }
  return ok_status();
}

Result<SendmailQueueFile> SendmailQueue::find(const std::string& queue_id) const {
  auto id = validate_sendmail_queue_id(queue_id);
  if (!id) return id.error();
  for (const std::string& dir : directories_) {
    const QueueLayout layout = layout_of(dir);
    for (bool quarantined : {false, true}) {
      SendmailQueueFile file = file_for(layout, *id, quarantined);
      if (::access(file.control_path.c_str(), F_OK) == 0) return file;
    }
  }
  return make_error(*id + ": not in the Sendmail queue");
}

Result<SendmailControlText> SendmailQueue::read_control(const SendmailQueueFile& file) {
  auto fd = open_file(file.control_path, O_RDONLY | O_NOFOLLOW);
  if (!fd) return fd.error();
  // A shared lock only to learn whether Sendmail is working on the file; it
  // rewrites a qf by renaming a new one over it, so what we read through
  // this descriptor is a whole file either way.
  auto lock = try_lock(*fd, LockMode::shared, file.control_path);
  if (!lock) return lock.error();
  auto text = read_all(*fd, file.control_path);
  if (!text) return text.error();
  // Closing the descriptor on return releases the lock.
  return SendmailControlText{std::move(*text), *lock == LockOutcome::busy};
}

Result<LockedQueueFile> SendmailQueue::lock(const SendmailQueueFile& file) {
  auto fd = open_file(file.control_path, O_RDWR | O_NOFOLLOW);
  if (!fd) {
    const bool gone = fd.error().message.find(errno_text(ENOENT)) != std::string::npos;
    return make_error(fd.error().message, gone ? ErrorKind::gone : ErrorKind::other);
  }
  auto lock = try_lock(*fd, LockMode::exclusive, file.control_path);
  if (!lock) return lock.error();
  if (*lock == LockOutcome::busy) {
    return make_error(file.queue_id + ": busy (Sendmail holds its lock); left for the next run",
                      ErrorKind::busy);
  }
  struct stat locked {};
  struct stat at_path {};
  if (::fstat(fd->get(), &locked) != 0 || ::lstat(file.control_path.c_str(), &at_path) != 0 ||
      locked.st_dev != at_path.st_dev || locked.st_ino != at_path.st_ino || locked.st_nlink == 0) {
    return make_error(
        file.queue_id + ": the queue file changed while it was being locked; left for the next run",
        ErrorKind::gone);
  }
  return LockedQueueFile{file, std::move(*fd)};
}

Result<std::string> SendmailQueue::read_locked(const LockedQueueFile& locked) {
  if (::lseek(locked.fd.get(), 0, SEEK_SET) != 0)
    return make_error("lseek " + locked.file.control_path + ": " + errno_text());
  return read_all(locked.fd, locked.file.control_path);
}

Status SendmailQueue::remove_locked(const LockedQueueFile& locked) {
  const SendmailQueueFile& file = locked.file;
  ETRN_TRY(unlink_if_present(file.data_path));
  ETRN_TRY(unlink_if_present(file.transcript_path));
  if (::unlink(file.control_path.c_str()) != 0) {
    return make_error("unlink " + file.control_path + ": " + errno_text());
  }
  return ok_status();
}

Status SendmailQueue::remove(const SendmailQueueFile& file) {
  auto locked = lock(file);
  if (!locked) return locked.error();
  return remove_locked(*locked);
}

}  // namespace etrn
