// outbox.cpp - the DSN outbox: spool, submission child, recovery (see
// outbox.hpp for the protocol and what it guarantees).
#include "sweeper/outbox.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "sweeper/kill_point.hpp"

namespace etrn {

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string sent_path(const std::string& spool_path) {
  return spool_path + ".sent";
}

std::string directory_of(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

// flock(LOCK_EX), polling so that a stuck child cannot block us for ever.
bool lock_with_timeout(int fd, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) return false;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

// The child: lock, submit, mark sent. Never returns; touches no database.
[[noreturn]] void run_submission_child(Mta& mta, const OutboxRow& row) {
  int fd = ::open(row.spool_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) _exit(exists(sent_path(row.spool_path)) ? 0 : 3);
  if (::flock(fd, LOCK_EX) != 0) _exit(4);
  if (exists(sent_path(row.spool_path))) _exit(0);  // another child got there first
  Status submitted = mta.submit_dsn(row.spool_path, row.sender);
  if (!submitted) {
    spdlog::error("outbox {}: submitting {}: {}", row.id, row.spool_path,
                  submitted.error().message);
    _exit(1);
  }
  kill_point("child-submitted");
  if (::rename(row.spool_path.c_str(), sent_path(row.spool_path).c_str()) != 0) _exit(5);
  _exit(fsync_directory(directory_of(row.spool_path)) ? 0 : 6);
}

}  // namespace

Status fsync_directory(const std::string& directory) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error("open " + directory + ": " + errno_text());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return make_error("fsync " + directory + ": " + errno_text());
  return ok_status();
}

Status write_durably(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("create " + path + ": " + errno_text());
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return make_error("write " + path + ": " + errno_text());
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return make_error("fsync " + path + ": " + errno_text());
  return fsync_directory(directory_of(path));
}

Outbox::Outbox(Database& db, Mta& mta, std::string spool_directory)
    : db_(db), mta_(mta), spool_directory_(std::move(spool_directory)) {}

Result<OutboxRow> Outbox::enqueue(const DsnRequest& request, const DsnBuilder& build,
                                  EpochSeconds now) {
  std::error_code ec;
  std::filesystem::create_directories(spool_directory_, ec);
  if (ec) return make_error("create " + spool_directory_ + ": " + ec.message());
  OutboxRow row;
  try {
    Transaction transaction(db_);
    row.id = next_outbox_id(db_);
    row.message_id = request.message_id;
    row.kind = request.kind;
    row.recipient_ids = request.recipient_ids;
    row.dsn_message_id = "etrn-" + std::string(to_string(request.kind)) + "-" +
                         std::to_string(row.id) + "." + request.queue_id + "@" +
                         request.reporting_mta;
    row.spool_path = spool_directory_ + "/" + std::to_string(row.id) + ".eml";
    row.created_at = now;
    row.queue_id = request.queue_id;
    row.sender = request.sender;
    auto text = build(row.dsn_message_id);
    if (!text) return text.error();
    ETRN_TRY(write_durably(row.spool_path, *text));
    insert_outbox(db_, row);
    transaction.commit();
  } catch (const DatabaseError& e) {
    ::unlink(row.spool_path.c_str());
    return make_error(std::string("recording the DSN in the outbox: ") + e.what());
  }
  kill_point("outbox-written");
  return row;
}

Status Outbox::submit_in_child(const OutboxRow& row) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return make_error("fork: " + errno_text());
  if (pid == 0) run_submission_child(mta_, row);
  kill_point("submitting");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return make_error("waitpid: " + errno_text());
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ok_status();
  return make_error("DSN " + row.dsn_message_id +
                    " was not accepted by the MTA (submission child status " +
                    std::to_string(status) + "); it stays in the outbox for the next run");
}

void Outbox::finalize(const OutboxRow& row, EpochSeconds now) {
  finalize_outbox(db_, row, now);
  ::unlink(sent_path(row.spool_path).c_str());
  ::unlink(row.spool_path.c_str());
}

Status Outbox::deliver(const OutboxRow& row, EpochSeconds now) {
  ETRN_TRY(submit_in_child(row));
  kill_point("dsn-submitted");
  try {
    finalize(row, now);
  } catch (const DatabaseError& e) {
    return make_error("DSN " + row.dsn_message_id +
                      " sent, but recording that failed (the next run will): " + e.what());
  }
  kill_point("finalized");
  return ok_status();
}

Status Outbox::recover_one(const OutboxRow& row, EpochSeconds now) {
  int fd = ::open(row.spool_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    const bool locked = lock_with_timeout(fd, kRecoveryLockWait);
    ::close(fd);
    if (!locked)
      return make_error("spool file " + row.spool_path + " stays locked; is a submission hanging?");
  }
  if (exists(sent_path(row.spool_path))) {
    spdlog::info("outbox {}: DSN {} was accepted before a crash; recording it", row.id,
                 row.dsn_message_id);
    finalize(row, now);
    return ok_status();
  }
  if (!exists(row.spool_path)) {
    return make_error("outbox " + std::to_string(row.id) + ": spool file " + row.spool_path +
                      " is missing; the DSN cannot be sent (remove the outbox row once handled)");
  }
  spdlog::info("outbox {}: DSN {} was never accepted; submitting it again", row.id,
               row.dsn_message_id);
  return deliver(row, now);
}

Result<int> Outbox::recover(EpochSeconds now) {
  std::vector<OutboxRow> rows = unsent_outbox(db_);
  for (const OutboxRow& row : rows) ETRN_TRY(recover_one(row, now));
  return static_cast<int>(rows.size());
}

}  // namespace etrn
