// outbox.cpp - the DSN outbox: spool, submission child, recovery (see
// outbox.hpp for the protocol and what it guarantees).
#include "sweeper/outbox.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>
#include <unordered_set>

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

// Submits one spool file under its lock unless a .sent marker says it
// went already; renames it to .sent once the MTA accepted it.
bool submit_locked(DsnSubmitter& submitter, const OutboxRow& row) {
  int fd = ::open(row.spool_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return exists(sent_path(row.spool_path));
  const bool done = [&] {
    if (::flock(fd, LOCK_EX) != 0) return false;
    if (exists(sent_path(row.spool_path))) return true;  // another child got there first
    Status submitted = submitter.submit(row.spool_path, row.sender);
    if (!submitted) {
      spdlog::error("outbox {}: submitting {}: {}", row.id, row.spool_path,
                    submitted.error().message);
      return false;
    }
    kill_point("child-submitted");
    return ::rename(row.spool_path.c_str(), sent_path(row.spool_path).c_str()) == 0;
  }();
  ::close(fd);
  return done;
}

// The child: one submitter for the batch, each DSN under its lock, then
// the renames made durable. Never returns; touches no database.
[[noreturn]] void run_submission_child(Mta& mta, const std::vector<OutboxRow>& rows) {
  bool all = true;
  {
    auto submitter = mta.open_dsn_submitter();
    if (!submitter) {
      spdlog::error("outbox: cannot submit DSNs: {}", submitter.error().message);
      _exit(1);
    }
    for (const OutboxRow& row : rows) all = submit_locked(**submitter, row) && all;
  }  // the submitter ends its conversation here
  if (!rows.empty() && !fsync_directory(directory_of(rows.front().spool_path))) _exit(6);
  _exit(all ? 0 : 1);
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

Status write_file(const std::string& path, const std::string& text) {
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
  if (::close(fd) != 0) return make_error("close " + path + ": " + errno_text());
  return ok_status();
}

Status fsync_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("open " + path + ": " + errno_text());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return make_error("fsync " + path + ": " + errno_text());
  return ok_status();
}

Status write_durably(const std::string& path, const std::string& text) {
  ETRN_TRY(write_file(path, text));
  ETRN_TRY(fsync_file(path));
  return fsync_directory(directory_of(path));
}

Outbox::Outbox(Database& db, Mta& mta, std::string spool_directory)
    : db_(db), mta_(mta), spool_directory_(std::move(spool_directory)) {}

namespace {

OutboxRow row_for(const DsnRequest& request, std::int64_t id, const std::string& spool_directory,
                  EpochSeconds now) {
  OutboxRow row;
  row.id = id;
  row.message_id = request.message_id;
  row.kind = request.kind;
  row.recipient_ids = request.recipient_ids;
  row.dsn_message_id = "etrn-" + std::string(to_string(request.kind)) + "-" + std::to_string(id) +
                       "." + request.queue_id + "@" + request.reporting_mta;
  row.spool_path = spool_directory + "/" + std::to_string(id) + ".eml";
  row.created_at = now;
  row.queue_id = request.queue_id;
  row.sender = request.sender;
  return row;
}

// Every written file and the directory on disk before the rows commit:
// one syncfs(2) of the spool's file system (one journal commit, where an
// fsync per file costs one each: 250 fsyncs took a second under load),
// else an fsync per file.
Status sync_spool(const std::vector<Result<OutboxRow>>& rows, const std::string& directory) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error("open " + directory + ": " + errno_text());
  const bool synced = ::syncfs(fd) == 0;
  ::close(fd);
  if (synced) return ok_status();
  for (const auto& row : rows) {
    if (row) ETRN_TRY(fsync_file(row->spool_path));
  }
  return fsync_directory(directory);
}

void unlink_spool_files(const std::vector<Result<OutboxRow>>& rows) {
  for (const auto& row : rows) {
    if (row) ::unlink(row->spool_path.c_str());
  }
}

}  // namespace

Result<OutboxRow> Outbox::enqueue(const DsnRequest& request, const DsnBuilder& build,
                                  EpochSeconds now) {
  return std::move(enqueue_all({DsnJob{request, build}}, now).front());
}

std::vector<Result<OutboxRow>> Outbox::enqueue_all(const std::vector<DsnJob>& jobs,
                                                   EpochSeconds now) {
  std::vector<Result<OutboxRow>> rows;
  auto fail_all = [&](const std::string& why) {
    unlink_spool_files(rows);
    return std::vector<Result<OutboxRow>>(jobs.size(), Result<OutboxRow>(make_error(why)));
  };
  std::error_code ec;
  std::filesystem::create_directories(spool_directory_, ec);
  if (ec) return fail_all("create " + spool_directory_ + ": " + ec.message());
  try {
    Transaction transaction(db_);
    for (const DsnJob& job : jobs) {
      OutboxRow row = row_for(job.request, next_outbox_id(db_), spool_directory_, now);
      auto text = job.build(row.dsn_message_id);
      Status written = text ? write_file(row.spool_path, *text) : Status(text.error());
      if (!written) {
        rows.emplace_back(written.error());
        continue;
      }
      insert_outbox(db_, row);
      rows.emplace_back(std::move(row));
    }
    if (Status synced = sync_spool(rows, spool_directory_); !synced)
      return fail_all(synced.error().message);
    transaction.commit();
  } catch (const DatabaseError& e) {
    return fail_all(std::string("recording the DSN in the outbox: ") + e.what());
  }
  kill_point("outbox-written");
  return rows;
}

// Up to kSubmissionChildren children, each with its share of the rows:
// the MTA's fsync of each accepted DSN is what a conversation waits for,
// and several conversations overlap those waits.
Status Outbox::submit_in_children(const std::vector<OutboxRow>& rows) {
  const std::size_t children =
      std::clamp<std::size_t>(rows.size() / kRowsPerSubmissionChild, 1, kSubmissionChildren);
  std::fflush(nullptr);
  std::vector<pid_t> pids;
  for (std::size_t k = 0; k < children; ++k) {
    const pid_t pid = ::fork();
    if (pid < 0) break;  // the children started still do their share; the rest waits
    if (pid == 0) {
      std::vector<OutboxRow> share;
      for (std::size_t i = k; i < rows.size(); i += children) share.push_back(rows[i]);
      run_submission_child(mta_, share);
    }
    pids.push_back(pid);
  }
  kill_point("submitting");
  bool all = pids.size() == children;
  for (const pid_t pid : pids) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) return make_error("waitpid: " + errno_text());
    }
    all = all && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  if (pids.empty()) return make_error("fork: " + errno_text());
  return all ? ok_status() : make_error("a submission child failed");
}

void Outbox::finalize(const OutboxRow& row, EpochSeconds now) {
  finalize_outbox(db_, row, now);
  finished_.push_back(row.spool_path);
}

void Outbox::remove_finished_files() {
  for (const std::string& path : finished_) {
    ::unlink(sent_path(path).c_str());
    ::unlink(path.c_str());
  }
  finished_.clear();
}

// Files no unsent row names: finished by a run that died before
// remove_finished_files(), or written by one that died before its commit.
void Outbox::remove_orphans() {
  std::unordered_set<std::string> wanted;
  for (const OutboxRow& row : unsent_outbox(db_)) {
    wanted.insert(row.spool_path);
    wanted.insert(sent_path(row.spool_path));
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(spool_directory_, ec)) {
    const std::string path = entry.path().string();
    if (entry.is_regular_file(ec) && !wanted.contains(path)) ::unlink(path.c_str());
  }
}

Status Outbox::deliver(const OutboxRow& row, EpochSeconds now) {
  return deliver_all({row}, now).front();
}

// Whatever the child's status, the .sent markers say which DSNs the MTA took.
std::vector<Status> Outbox::deliver_all(const std::vector<OutboxRow>& rows, EpochSeconds now) {
  const Status child = submit_in_children(rows);
  kill_point("dsn-submitted");
  std::vector<Status> statuses;
  std::vector<const OutboxRow*> accepted;
  for (const OutboxRow& row : rows) {
    if (exists(sent_path(row.spool_path))) {
      accepted.push_back(&row);
      statuses.push_back(ok_status());
      continue;
    }
    statuses.push_back(make_error("DSN " + row.dsn_message_id + " was not accepted by the MTA (" +
                                  (child ? "see the log" : child.error().message) +
                                  "); it stays in the outbox for the next run"));
  }
  try {
    Transaction transaction(db_);
    for (const OutboxRow* row : accepted) finalize_outbox(db_, *row, now);
    transaction.commit();
  } catch (const DatabaseError& e) {
    for (Status& status : statuses) {
      if (status)
        status = make_error(std::string("DSN sent, but recording that failed (the next "
                                        "run will): ") +
                            e.what());
    }
    return statuses;
  }
  for (const OutboxRow* row : accepted) finished_.push_back(row->spool_path);
  kill_point("finalized");
  return statuses;
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
  remove_finished_files();
  remove_orphans();
  return static_cast<int>(rows.size());
}

}  // namespace etrn
