// unprivileged.hpp - runs a check as an ordinary user, so that tests of
// permission errors are real even when the suite runs as root (as CI
// does): root reads and writes any file, so such a test would otherwise
// have nothing to check.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

namespace etrn::testing {

inline constexpr uid_t kNobody = 65534;

// Hands `path` and everything below it to the unprivileged user (when root).
inline void give_to_unprivileged(const std::filesystem::path& path) {
  if (::geteuid() != 0) return;
  std::error_code ec;
  if (::chown(path.c_str(), kNobody, kNobody) != 0) return;
  if (std::filesystem::is_directory(path, ec)) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(path, ec)) {
      if (::lchown(entry.path().c_str(), kNobody, kNobody) != 0) return;
    }
  }
}

// Runs `check` (it returns "" on success, else what went wrong) as the
// unprivileged user in a child process when the tests run as root, and
// directly otherwise.
inline ::testing::AssertionResult as_unprivileged(const std::function<std::string()>& check) {
  if (::geteuid() != 0) {
    const std::string got = check();
    if (got.empty()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << got;
  }
  int fds[2];
  if (::pipe(fds) != 0) return ::testing::AssertionFailure() << "pipe failed";
  const pid_t pid = ::fork();
  if (pid < 0) return ::testing::AssertionFailure() << "fork failed";
  if (pid == 0) {
    ::close(fds[0]);
    std::string got = (::setgid(kNobody) == 0 && ::setuid(kNobody) == 0)
                          ? check()
                          : std::string("cannot become uid ") + std::to_string(kNobody);
    ssize_t ignored = ::write(fds[1], got.data(), got.size());
    (void)ignored;
    ::_exit(got.empty() ? 0 : 1);
  }
  ::close(fds[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) message.append(buffer, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "as uid " << kNobody << ": " << message;
}

}  // namespace etrn::testing
