// posix_file_test.cpp - descriptors, whole reads and writes, durable writes
// and flock, on real files in a temporary directory; permission errors as
// an unprivileged user (the suite may run as root).
#include "common/util/posix_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/unit/support/temp_dir.hpp"
#include "tests/unit/support/unprivileged.hpp"

namespace etrn {
namespace {

using namespace std::chrono_literals;
using PosixFileTest = testing::TemporaryDirectoryTest;

bool descriptor_is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

std::string contents_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The error message when `got` failed, else a note that it did not.
template <typename T>
std::string error_of(const Result<T>& got) {
  return got ? std::string("(it succeeded)") : got.error().message;
}

TEST(ErrnoText, IsTheSystemsTextForTheCode) {
  EXPECT_EQ(errno_text(ENOENT), "No such file or directory");
  errno = EACCES;
  EXPECT_EQ(errno_text(), "Permission denied") << "by default, the text of errno";
}

TEST_F(PosixFileTest, AnFdClosesItsDescriptorWhenItGoes) {
  int raw = -1;
  {
    auto fd = open_file((dir_ / "f").string(), O_WRONLY | O_CREAT);
    ASSERT_TRUE(fd) << fd.error().message;
    raw = fd->get();
    EXPECT_TRUE(descriptor_is_open(raw));
  }
  EXPECT_FALSE(descriptor_is_open(raw));
}

TEST_F(PosixFileTest, MovingAnFdHandsOverTheDescriptor) {
  auto opened = open_file((dir_ / "f").string(), O_WRONLY | O_CREAT);
  ASSERT_TRUE(opened) << opened.error().message;
  Fd first = std::move(*opened);
  const int raw = first.get();
  Fd second = std::move(first);
  EXPECT_FALSE(first.is_open());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(second.get(), raw);
  Fd third;
  third = std::move(second);
  EXPECT_EQ(third.get(), raw);
  EXPECT_TRUE(descriptor_is_open(raw)) << "a move must not close the descriptor";
  third.reset();
  EXPECT_FALSE(third.is_open());
  EXPECT_FALSE(descriptor_is_open(raw));
}

TEST_F(PosixFileTest, OpenedDescriptorsAreCloseOnExec) {
  auto fd = open_file((dir_ / "f").string(), O_WRONLY | O_CREAT);
  ASSERT_TRUE(fd) << fd.error().message;
  EXPECT_NE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, 0)
      << "a program spawned by another thread would inherit it";
}

TEST_F(PosixFileTest, OpeningAMissingFileNamesTheCallThePathAndTheReason) {
  const std::string path = (dir_ / "missing").string();
  EXPECT_EQ(error_of(open_file(path, O_RDONLY)), "open " + path + ": No such file or directory");
}

TEST_F(PosixFileTest, OpeningAFileWithoutPermissionIsAnError) {
  const std::string path = (dir_ / "secret").string();
  write_file(path, "x");
  ::chmod(path.c_str(), 0);
  testing::give_to_unprivileged(dir_);
  EXPECT_TRUE(testing::as_unprivileged([&]() -> std::string {
    const std::string got = error_of(open_file(path, O_RDONLY));
    const std::string want = "open " + path + ": Permission denied";
    return got == want ? "" : "got \"" + got + "\", want \"" + want + "\"";
  }));
}

TEST_F(PosixFileTest, WriteAllAndReadAllMoveEveryByte) {
  const std::string path = (dir_ / "big").string();
  std::string text(300 * 1024, '\0');  // several reads' worth, NUL bytes included
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>(i % 251);
  {
    auto fd = open_file(path, O_WRONLY | O_CREAT);
    ASSERT_TRUE(fd) << fd.error().message;
    const Status written = write_all(*fd, text, path);
    ASSERT_TRUE(written) << written.error().message;
  }
  auto fd = open_file(path, O_RDONLY);
  ASSERT_TRUE(fd) << fd.error().message;
  auto got = read_all(*fd, path);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->size(), text.size());
  EXPECT_TRUE(*got == text) << "the bytes read differ from those written";
}

TEST_F(PosixFileTest, WritingToAReadOnlyDescriptorIsAnError) {
  const std::string path = (dir_ / "f").string();
  write_file(path, "x");
  auto fd = open_file(path, O_RDONLY);
  ASSERT_TRUE(fd) << fd.error().message;
  EXPECT_EQ(error_of(write_all(*fd, "more", "the log")), "write the log: Bad file descriptor");
}

TEST_F(PosixFileTest, ReadingFromAWriteOnlyDescriptorIsAnError) {
  auto fd = open_file((dir_ / "f").string(), O_WRONLY | O_CREAT);
  ASSERT_TRUE(fd) << fd.error().message;
  EXPECT_EQ(error_of(read_all(*fd, "the log")), "read the log: Bad file descriptor");
}

TEST_F(PosixFileTest, ReadFileReadsAWholeFile) {
  write_file(dir_ / "f", "line 1\nline 2\n");
  auto got = read_file((dir_ / "f").string());
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, "line 1\nline 2\n");
  auto empty = read_file("/dev/null");
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_EQ(*empty, "");
}

TEST_F(PosixFileTest, ReadFileSaysWhyAFileCannotBeRead) {
  const std::string missing = (dir_ / "missing").string();
  EXPECT_EQ(error_of(read_file(missing)), "open " + missing + ": No such file or directory");
  EXPECT_EQ(error_of(read_file(dir_.string())), "read " + dir_.string() + ": Is a directory");
}

TEST_F(PosixFileTest, WriteDurablyWritesTheWholeTextReadableOnlyByItsOwner) {
  const std::string path = (dir_ / "x.eml").string();
  const Status got = write_durably(path, "Subject: x\n\nbody\n");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(contents_of(path), "Subject: x\n\nbody\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(PosixFileTest, WriteDurablyReplacesWhatWasThere) {
  const std::string path = (dir_ / "x.eml").string();
  write_file(path, "an older and much longer text than the new one\n");
  ASSERT_TRUE(write_durably(path, "new\n"));
  EXPECT_EQ(contents_of(path), "new\n");
}

TEST_F(PosixFileTest, WriteDurablyIntoAMissingDirectoryIsAnError) {
  const std::string path = (dir_ / "missing" / "x.eml").string();
  EXPECT_EQ(error_of(write_durably(path, "x")), "create " + path + ": No such file or directory");
}

TEST_F(PosixFileTest, WriteDurablyIntoADirectoryWithoutPermissionIsAnError) {
  std::filesystem::create_directory(dir_ / "locked");
  ::chmod((dir_ / "locked").c_str(), 0555);
  testing::give_to_unprivileged(dir_);
  const std::string path = (dir_ / "locked" / "x.eml").string();
  EXPECT_TRUE(testing::as_unprivileged([&]() -> std::string {
    const std::string got = error_of(write_durably(path, "x"));
    const std::string want = "create " + path + ": Permission denied";
    return got == want ? "" : "got \"" + got + "\", want \"" + want + "\"";
  }));
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(PosixFileTest, FsyncDirectoryNeedsADirectory) {
  EXPECT_TRUE(fsync_directory(dir_.string()));
  const std::string missing = (dir_ / "missing").string();
  EXPECT_EQ(error_of(fsync_directory(missing)), "open " + missing + ": No such file or directory");
  write_file(dir_ / "f", "x");
  const std::string file = (dir_ / "f").string();
  EXPECT_EQ(error_of(fsync_directory(file)), "open " + file + ": Not a directory");
}

// Locks belong to open files, so two opens of one path compete even in
// one process.
class LockTest : public PosixFileTest {
 protected:
  Fd open_lock_file() {
    auto fd = open_file((dir_ / "lock").string(), O_RDWR | O_CREAT);
    EXPECT_TRUE(fd) << fd.error().message;
    return fd ? std::move(*fd) : Fd();
  }
  LockOutcome locked(const Fd& fd, LockMode mode) {
    auto got = try_lock(fd, mode, "lock");
    EXPECT_TRUE(got) << got.error().message;
    return got ? *got : LockOutcome::busy;
  }
};

TEST_F(LockTest, AnExclusiveLockMakesOthersBusy) {
  Fd first = open_lock_file();
  Fd second = open_lock_file();
  EXPECT_EQ(locked(first, LockMode::exclusive), LockOutcome::acquired);
  EXPECT_EQ(locked(second, LockMode::exclusive), LockOutcome::busy);
  EXPECT_EQ(locked(second, LockMode::shared), LockOutcome::busy);
}

TEST_F(LockTest, SharedLocksCoexistButKeepAnExclusiveOneOut) {
  Fd first = open_lock_file();
  Fd second = open_lock_file();
  Fd third = open_lock_file();
  EXPECT_EQ(locked(first, LockMode::shared), LockOutcome::acquired);
  EXPECT_EQ(locked(second, LockMode::shared), LockOutcome::acquired);
  EXPECT_EQ(locked(third, LockMode::exclusive), LockOutcome::busy);
}

TEST_F(LockTest, ClosingTheDescriptorReleasesTheLock) {
  Fd first = open_lock_file();
  Fd second = open_lock_file();
  ASSERT_EQ(locked(first, LockMode::exclusive), LockOutcome::acquired);
  first.reset();
  EXPECT_EQ(locked(second, LockMode::exclusive), LockOutcome::acquired);
}

TEST_F(LockTest, LockingAClosedDescriptorIsAnError) {
  const Fd closed;
  EXPECT_EQ(error_of(try_lock(closed, LockMode::exclusive, "the log")),
            "flock the log: Bad file descriptor");
  EXPECT_EQ(error_of(lock_within(closed, LockMode::shared, 1s, "the log")),
            "flock the log: Bad file descriptor")
      << "an error must not be waited out like a busy lock";
}

TEST_F(LockTest, LockWithinWaitsForTheHolderToLetGo) {
  Fd holder = open_lock_file();
  Fd waiter = open_lock_file();
  ASSERT_EQ(locked(holder, LockMode::exclusive), LockOutcome::acquired);
  std::thread release([&holder] {
    std::this_thread::sleep_for(300ms);
    holder.reset();
  });
  const auto started = std::chrono::steady_clock::now();
  auto got = lock_within(waiter, LockMode::exclusive, 10s, "lock");
  const auto took = std::chrono::steady_clock::now() - started;
  release.join();
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, LockOutcome::acquired);
  EXPECT_GE(took, 250ms) << "acquired while the holder still had it";
  EXPECT_LT(took, 5s) << "kept waiting after the holder let go";
}

TEST_F(LockTest, LockWithinGivesUpAfterItsLimit) {
  Fd holder = open_lock_file();
  Fd waiter = open_lock_file();
  ASSERT_EQ(locked(holder, LockMode::exclusive), LockOutcome::acquired);
  const auto started = std::chrono::steady_clock::now();
  auto got = lock_within(waiter, LockMode::exclusive, 250ms, "lock");
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, LockOutcome::busy);
  EXPECT_GE(took, 250ms) << "gave up before its limit";
  EXPECT_LT(took, 5s) << "waited far past its limit";
}

}  // namespace
}  // namespace etrn
