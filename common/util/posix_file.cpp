// posix_file.cpp - file descriptors, whole reads and writes, durable
// writes and flock (see the header).
#include "common/util/posix_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <thread>
#include <utility>

namespace etrn {

namespace {

// How often lock_within() tries again.
constexpr std::chrono::milliseconds kLockPollInterval{100};

Error call_failed(std::string_view call, std::string_view name, int error = errno) {
  return make_error(std::string(call) + " " + std::string(name) + ": " + errno_text(error));
}

std::string directory_of(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

int flock_operation(LockMode mode) {
  return (mode == LockMode::shared ? LOCK_SH : LOCK_EX) | LOCK_NB;
}

}  // namespace

std::string errno_text(int error) {
  return std::strerror(error);
}

Fd::Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<Fd> open_file(const std::string& path, int flags, mode_t mode) {
  Fd fd(::open(path.c_str(), flags | O_CLOEXEC, mode));
  if (!fd.is_open()) return call_failed("open", path);
  return fd;
}

Status write_all(const Fd& fd, std::string_view bytes, std::string_view name) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return call_failed("write", name);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok_status();
}

Result<std::string> read_all(const Fd& fd, std::string_view name) {
  std::string text;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n == 0) return text;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return call_failed("read", name);
    text.append(buffer, static_cast<std::size_t>(n));
  }
}

Result<std::string> read_file(const std::string& path) {
  auto fd = open_file(path, O_RDONLY);
  if (!fd) return fd.error();
  return read_all(*fd, path);
}

Status fsync_directory(const std::string& directory) {
  auto fd = open_file(directory, O_RDONLY | O_DIRECTORY);
  if (!fd) return fd.error();
  if (::fsync(fd->get()) != 0) return call_failed("fsync", directory);
  return ok_status();
}

Status write_durably(const std::string& path, std::string_view text) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.is_open()) return call_failed("create", path);
  ETRN_TRY(write_all(fd, text, path));
  if (::fsync(fd.get()) != 0) return call_failed("fsync", path);
  return fsync_directory(directory_of(path));
}

Status replace_file(const std::string& path, std::string_view text, mode_t mode) {
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  Status written = [&]() -> Status {
    Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd.is_open()) return call_failed("create", temporary);
    ETRN_TRY(write_all(fd, text, temporary));
    if (::fchmod(fd.get(), mode) != 0) return call_failed("chmod", temporary);
    if (::fsync(fd.get()) != 0) return call_failed("fsync", temporary);
    if (::rename(temporary.c_str(), path.c_str()) != 0) return call_failed("rename", temporary);
    return ok_status();
  }();
  if (!written) ::unlink(temporary.c_str());
  return written;
}

Result<LockOutcome> try_lock(const Fd& fd, LockMode mode, std::string_view name) {
  return lock_within(fd, mode, std::chrono::milliseconds(0), name);
}

Result<LockOutcome> lock_within(const Fd& fd, LockMode mode, std::chrono::milliseconds limit,
                                std::string_view name) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (::flock(fd.get(), flock_operation(mode)) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return call_failed("flock", name);
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return LockOutcome::busy;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(left, kLockPollInterval));
  }
  return LockOutcome::acquired;
}

}  // namespace etrn
