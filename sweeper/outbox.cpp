// outbox.cpp - the DSN outbox: rows with the DSN text, submission children
// with their sent logs, recovery (see outbox.hpp for the protocol and what
// it guarantees).
#include "sweeper/outbox.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <sstream>

#include "common/util/posix_file.hpp"
#include "sweeper/kill_point.hpp"

namespace etrn {

namespace {

constexpr std::string_view kSentLogPrefix = "sent-";
constexpr std::string_view kSentLogSuffix = ".log";

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// The accepted-marker of a spool file written by schema v3 and earlier.
std::string sent_path(const std::string& spool_path) {
  return spool_path + ".sent";
}

bool is_sent_log(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  return name.starts_with(kSentLogPrefix) && name.ends_with(kSentLogSuffix);
}

// A new sent log, locked; a new file, so nobody else can hold its lock.
std::optional<Fd> create_locked_log(const std::string& path) {
  auto fd = open_file(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND);
  if (!fd) return std::nullopt;
  auto locked = try_lock(*fd, LockMode::exclusive, path);
  if (!locked || *locked != LockOutcome::acquired) return std::nullopt;
  return std::move(*fd);
}

// The ids in a sent log, one per line; a torn last line is ignored.
void add_logged_ids(const std::string& text, std::unordered_set<std::int64_t>& ids) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::int64_t id = 0;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), id);
    if (ec == std::errc() && end == line.data() + line.size() && !lines.eof()) ids.insert(id);
  }
}

// The child: one submitter for its share; each accepted DSN's id goes to
// the log (inherited, locked) before the next is submitted. Never
// returns; touches no database.
[[noreturn]] void run_submission_child(Mta& mta, const std::vector<const OutboxRow*>& share,
                                       const Fd& log) {
  bool all = true;
  {
    auto submitter = mta.open_dsn_submitter();
    if (!submitter) {
      spdlog::error("outbox: cannot submit DSNs: {}", submitter.error().message);
      _exit(1);
    }
    for (const OutboxRow* row : share) {
      Status submitted = (*submitter)->submit(row->dsn_text, row->sender);
      if (!submitted) {
        spdlog::error("outbox {}: submitting DSN {}: {}", row->id, row->dsn_message_id,
                      submitted.error().message);
        all = false;
        continue;
      }
      kill_point("child-submitted");
      if (!write_all(log, std::to_string(row->id) + "\n", "sent log")) _exit(5);
    }
  }  // the submitter ends its conversation here
  if (::fsync(log.get()) != 0) _exit(6);
  _exit(all ? 0 : 1);
}

OutboxRow row_for(const DsnRequest& request, std::int64_t id, EpochSeconds now) {
  OutboxRow row;
  row.id = id;
  row.message_id = request.message_id;
  row.kind = request.kind;
  row.recipient_ids = request.recipient_ids;
  row.dsn_message_id = "etrn-" + std::string(to_string(request.kind)) + "-" + std::to_string(id) +
                       "." + request.queue_id + "@" + request.reporting_mta;
  row.created_at = now;
  row.queue_id = request.queue_id;
  row.sender = request.sender;
  return row;
}

}  // namespace

Outbox::Outbox(Database& db, Mta& mta, std::string spool_directory)
    : db_(db), mta_(mta), spool_directory_(std::move(spool_directory)) {}

Result<OutboxRow> Outbox::enqueue(const DsnRequest& request, const DsnBuilder& build,
                                  EpochSeconds now) {
  return std::move(enqueue_all({DsnJob{request, build}}, now).front());
}

// The DSNs are built before the write transaction, which then only
// inserts: the milter, recording mail meanwhile, waits for our write lock
// for milliseconds, not for the building of a whole batch. Only the
// sweeper writes the outbox, under its run lock, so the ids read first
// are still free at the insert.
std::vector<Result<OutboxRow>> Outbox::enqueue_all(const std::vector<DsnJob>& jobs,
                                                   EpochSeconds now) {
  std::vector<Result<OutboxRow>> rows;
  try {
    std::int64_t next_id = next_outbox_id(db_);
    for (const DsnJob& job : jobs) {
      OutboxRow row = row_for(job.request, next_id, now);
      auto text = job.build(row.dsn_message_id);
      if (!text) {
        rows.emplace_back(text.error());
        continue;
      }
      row.dsn_text = std::move(*text);
      rows.emplace_back(std::move(row));
      ++next_id;
    }
    Transaction transaction(db_);
    for (const auto& row : rows) {
      if (row) insert_outbox(db_, *row);
    }
    transaction.commit();
  } catch (const DatabaseError& e) {
    const Error error = make_error(std::string("recording the DSN in the outbox: ") + e.what());
    return std::vector<Result<OutboxRow>>(jobs.size(), Result<OutboxRow>(error));
  }
  kill_point("outbox-written");
  return rows;
}

// Up to kSubmissionChildren children, each with its share of the rows:
// the MTA's fsync of each accepted DSN is what a conversation waits for,
// and several conversations overlap those waits.
Result<std::unordered_set<std::int64_t>> Outbox::submit_in_children(
    const std::vector<OutboxRow>& rows) {
  std::error_code ec;
  std::filesystem::create_directories(spool_directory_, ec);
  if (ec) return make_error("create " + spool_directory_ + ": " + ec.message());
  const std::size_t children =
      std::clamp<std::size_t>(rows.size() / kRowsPerSubmissionChild, 1, kSubmissionChildren);
  std::fflush(nullptr);
  std::vector<pid_t> pids;
  std::vector<std::string> logs;
  for (std::size_t k = 0; k < children; ++k) {
    const std::string log = spool_directory_ + "/" + std::string(kSentLogPrefix) +
                            std::to_string(rows.front().id) + "-" + std::to_string(k) +
                            std::string(kSentLogSuffix);
    // Locked before the fork, so no child ever runs with its log unlocked.
    std::optional<Fd> fd = create_locked_log(log);
    if (!fd) break;  // the children started still do their share; the rest waits
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::vector<const OutboxRow*> share;
      for (std::size_t i = k; i < rows.size(); i += children) share.push_back(&rows[i]);
      run_submission_child(mta_, share, *fd);
    }
    fd->reset();  // the child's copy keeps the lock
    logs.push_back(log);
    if (pid < 0) break;
    pids.push_back(pid);
  }
  kill_point("submitting");
  for (const pid_t pid : pids) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  finished_.insert(finished_.end(), logs.begin(), logs.end());
  if (pids.empty()) return make_error("cannot start a submission child: " + errno_text());
  std::unordered_set<std::int64_t> accepted;
  for (const std::string& log : logs) {
    if (auto text = read_file(log)) add_logged_ids(*text, accepted);
  }
  return accepted;
}

void Outbox::finalize_all(const std::vector<const OutboxRow*>& rows, EpochSeconds now) {
  Transaction transaction(db_);
  for (const OutboxRow* row : rows) finalize_outbox(db_, *row, now);
  transaction.commit();
}

// Whatever the children's exit status, their logs say which DSNs the MTA took.
std::vector<Status> Outbox::deliver_all(const std::vector<OutboxRow>& rows, EpochSeconds now) {
  if (rows.empty()) return {};
  auto accepted = submit_in_children(rows);
  kill_point("dsn-submitted");
  std::vector<Status> statuses;
  std::vector<const OutboxRow*> sent;
  for (const OutboxRow& row : rows) {
    if (accepted && accepted->contains(row.id)) {
      sent.push_back(&row);
      statuses.push_back(ok_status());
      continue;
    }
    statuses.push_back(make_error("DSN " + row.dsn_message_id + " was not accepted by the MTA (" +
                                  (accepted ? "see the log" : accepted.error().message) +
                                  "); it stays in the outbox for the next run"));
  }
  try {
    finalize_all(sent, now);
  } catch (const DatabaseError& e) {
    for (Status& status : statuses) {
      if (status)
        status = make_error(
            std::string("DSN sent, but recording that failed (the next run will): ") + e.what());
    }
    return statuses;
  }
  kill_point("finalized");
  return statuses;
}

void Outbox::remove_finished_files() {
  for (const std::string& path : finished_) ::unlink(path.c_str());
  finished_.clear();
}

// Waits for each log's lock (a child of a killed run may still be at work).
Result<std::unordered_set<std::int64_t>> Outbox::read_sent_logs() {
  std::unordered_set<std::int64_t> accepted;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(spool_directory_, ec)) {
    if (!is_sent_log(entry.path())) continue;
    const std::string log = entry.path().string();
    auto fd = open_file(log, O_RDONLY);
    if (!fd) continue;
    auto locked = lock_within(*fd, LockMode::exclusive, kRecoveryLockWait, log);
    if (!locked) return locked.error();
    if (*locked == LockOutcome::busy)
      return make_error("sent log " + log + " stays locked; is a submission hanging?");
    if (auto text = read_all(*fd, log)) add_logged_ids(*text, accepted);
  }
  return accepted;
}

// A row from schema v3 or older: its text is in its spool file.
Status Outbox::load_legacy_text(OutboxRow& row) {
  auto text = read_file(row.spool_path);
  if (!text) {
    return make_error("outbox " + std::to_string(row.id) + ": spool file " + row.spool_path +
                      " is missing; the DSN cannot be sent (remove the outbox row once handled)");
  }
  row.dsn_text = std::move(*text);
  return ok_status();
}

// Files no unsent row names: logs of finished runs, and the spool files and
// markers of schema v3 rows already finished.
void Outbox::remove_orphans() {
  std::unordered_set<std::string> wanted;
  for (const OutboxRow& row : unsent_outbox(db_)) {
    if (row.spool_path.empty()) continue;
    wanted.insert(row.spool_path);
    wanted.insert(sent_path(row.spool_path));
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(spool_directory_, ec)) {
    const std::string path = entry.path().string();
    if (entry.is_regular_file(ec) && !wanted.contains(path)) ::unlink(path.c_str());
  }
}

Result<int> Outbox::recover(EpochSeconds now) {
  auto accepted = read_sent_logs();
  if (!accepted) return accepted.error();
  std::vector<OutboxRow> rows = unsent_outbox(db_);
  std::vector<const OutboxRow*> done;
  std::vector<OutboxRow> again;
  for (OutboxRow& row : rows) {
    const bool legacy = !row.spool_path.empty();
    if (accepted->contains(row.id) || (legacy && exists(sent_path(row.spool_path)))) {
      spdlog::info("outbox {}: DSN {} was accepted before a crash; recording it", row.id,
                   row.dsn_message_id);
      done.push_back(&row);
      continue;
    }
    if (legacy) ETRN_TRY(load_legacy_text(row));
    spdlog::info("outbox {}: DSN {} was never accepted; submitting it again", row.id,
                 row.dsn_message_id);
    again.push_back(row);
  }
  try {
    finalize_all(done, now);
  } catch (const DatabaseError& e) {
    return make_error(std::string("recording DSNs sent before a crash: ") + e.what());
  }
  remove_orphans();
  for (const Status& status : deliver_all(again, now)) ETRN_TRY(status);
  return static_cast<int>(rows.size());
}

}  // namespace etrn
