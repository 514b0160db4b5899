// posix_file.hpp - owned file descriptors and the few POSIX file operations
// the adapters share: whole reads and writes, a durable write, directory
// fsync, and flock with or without a wait.
//
// Every descriptor opened here is close-on-exec, so that a program spawned
// by another thread meanwhile does not inherit it.
//
// Diagnostics: an error reads "<call> <name>: <strerror text>", e.g.
// "open /var/spool/x: Permission denied"; callers prefix what they were
// doing. A lock that someone else holds is not an error but an outcome
// (LockOutcome::busy): callers treat it as "try again later".
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <string_view>

#include "common/util/result.hpp"

namespace etrn {

// The strerror text of `error` (by default, of errno now).
std::string errno_text(int error = errno);

// An owned file descriptor: closed when the object goes, movable, not copyable.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept;
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  void reset();  // closes it now

 private:
  int fd_ = -1;
};

// open(2) with O_CLOEXEC added.
Result<Fd> open_file(const std::string& path, int flags, mode_t mode = 0600);

// Writes every byte, through short writes and EINTR. `name` is for the message.
Status write_all(const Fd& fd, std::string_view bytes, std::string_view name);
// Reads from the current offset to the end.
Result<std::string> read_all(const Fd& fd, std::string_view name);
Result<std::string> read_file(const std::string& path);

// Creates (or truncates) `path` with mode 0600, writes `text` and fsyncs the
// file and then its directory: once this returns, a crash or power failure
// leaves the whole file under that name.
Status write_durably(const std::string& path, std::string_view text);
// Replaces `path` whole: writes `text` to a temporary name beside it
// (`path`.tmp.PID), fsyncs it, gives it `mode` and renames it over `path`.
// A reader sees the old file or the new one, never a part.
Status replace_file(const std::string& path, std::string_view text, mode_t mode);
// Makes the creation, renaming or removal of entries in `directory` durable.
Status fsync_directory(const std::string& directory);

// flock(2): advisory, per open file (not per process), released when the
// last descriptor of that open file is closed (a forked child's included).
enum class LockMode { shared, exclusive };
enum class LockOutcome { acquired, busy };

// Takes the lock if nobody else holds a conflicting one; never waits.
Result<LockOutcome> try_lock(const Fd& fd, LockMode mode, std::string_view name);
// Waits for the lock up to `limit`, polling rather than blocking, so that
// a holder that hangs cannot block us for ever: busy once `limit` has passed.
Result<LockOutcome> lock_within(const Fd& fd, LockMode mode, std::chrono::milliseconds limit,
                                std::string_view name);

}  // namespace etrn
