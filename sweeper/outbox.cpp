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
#include <csignal>
#include <filesystem>
#include <sstream>
#include <unordered_map>

#include "common/dsn/dsn.hpp"
#include "common/util/posix_file.hpp"
#include "common/util/time_format.hpp"
#include "sweeper/kill_point.hpp"
#include "sweeper/refusal.hpp"

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

constexpr std::string_view kRefusedMark = "refused ";
constexpr std::string_view kFailedMark = "failed ";
constexpr std::size_t kLoggedReasonBytes = 500;

// "refused 17 SMTP end of data: 550 ..." on one line.
std::string log_line(std::string_view mark, std::int64_t id, std::string reason) {
  for (char& c : reason) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (reason.size() > kLoggedReasonBytes) reason.resize(kLoggedReasonBytes);
  return std::string(mark) + std::to_string(id) + " " + reason + "\n";
}

constexpr std::string_view kStoppedReason = "not submitted: the sweeper was stopped";

// The signals that ask a program to stop (systemctl stop and shutdown,
// Ctrl-C, a hangup), unlike SIGKILL.
constexpr int kStopSignals[] = {SIGTERM, SIGINT, SIGHUP};

// Blocks the stop signals: they wait, pending, until stop_requested() looks.
void hold_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (const int sig : kStopSignals) sigaddset(&set, sig);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

bool stop_requested() {
  sigset_t pending;
  if (::sigpending(&pending) != 0) return false;
  for (const int sig : kStopSignals) {
    if (sigismember(&pending, sig)) return true;
  }
  return false;
}

// The child: one submitter for its share; each accepted DSN's id goes to
// the log (inherited, locked) before the next is submitted, and so does
// each refusal or failure, with why. Never returns; touches no database.
// A stop signal waits (blocked) until the DSN in hand is submitted and
// logged; the rest of the share is then logged as not submitted, so only
// SIGKILL can end a child between the MTA's acceptance and its log line.
[[noreturn]] void run_submission_child(Mta& mta, const std::vector<const OutboxRow*>& share,
                                       const Fd& log) {
  hold_stop_signals();
  bool all = true;
  {
    auto submitter = mta.open_dsn_submitter();
    if (!submitter) {
      spdlog::error("outbox: cannot submit DSNs: {}", submitter.error().message);
      for (const OutboxRow* row : share)
        (void)write_all(log, log_line(kFailedMark, row->id, submitter.error().message), "sent log");
      _exit(1);
    }
    for (const OutboxRow* row : share) {
      if (stop_requested()) {
        (void)write_all(log, log_line(kFailedMark, row->id, std::string(kStoppedReason)),
                        "sent log");
        all = false;
        continue;
      }
      Status submitted = (*submitter)->submit(row->dsn_text, row->sender);
      if (!submitted) {
        spdlog::error("{}: submitting DSN {} (outbox {}): {}", row->queue_id, row->dsn_message_id,
                      row->id, submitted.error().message);
        const bool refused = submitted.error().kind == ErrorKind::refused;
        (void)write_all(
            log, log_line(refused ? kRefusedMark : kFailedMark, row->id, submitted.error().message),
            "sent log");
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

// The "refused"/"failed" lines of a sent log: id -> why.
void add_logged_reasons(const std::string& text, std::string_view mark,
                        std::unordered_map<std::int64_t, std::string>& reasons) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(mark) || lines.eof()) continue;
    const std::string_view rest = std::string_view(line).substr(mark.size());
    std::int64_t id = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), id);
    if (ec != std::errc()) continue;
    const std::size_t after = static_cast<std::size_t>(end - rest.data());
    reasons[id] = std::string(rest.substr(std::min(after + 1, rest.size())));
  }
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

EpochSeconds retry_delay(int failed_attempts) {
  EpochSeconds delay = kDsnRetryFirst;
  for (int i = 1; i < failed_attempts && delay < kDsnRetryLongest; ++i) delay *= 2;
  return std::min(delay, kDsnRetryLongest);
}

struct Outbox::SubmissionLog {
  std::unordered_set<std::int64_t> accepted;
  std::unordered_map<std::int64_t, std::string> refused;
  std::unordered_map<std::int64_t, std::string> failed;

  void add(const std::string& text) {
    add_logged_ids(text, accepted);
    add_logged_reasons(text, kRefusedMark, refused);
    add_logged_reasons(text, kFailedMark, failed);
  }
  // The child's last word on it was that the MTA did not take it.
  bool not_taken(std::int64_t id) const { return refused.contains(id) || failed.contains(id); }
};

Outbox::Outbox(Database& db, Mta& mta, std::string spool_directory, RefusalHandler& refusals)
    : db_(db), mta_(mta), spool_directory_(std::move(spool_directory)), refusals_(refusals) {}

Result<OutboxRow> Outbox::enqueue(const DsnRequest& request, const DsnBuilder& build,
                                  EpochSeconds now) {
  return std::move(enqueue_all({DsnJob{request, build}}, now).front());
}

// The DSNs are built before the write transaction, which then only
// inserts: the milter, recording mail meanwhile, waits for our write lock
// for milliseconds, not for the building of a whole batch. The ids taken
// first are still free at the insert (next_outbox_ids).
std::vector<Result<OutboxRow>> Outbox::enqueue_all(const std::vector<DsnJob>& jobs,
                                                   EpochSeconds now) {
  std::vector<Result<OutboxRow>> rows;
  try {
    const std::vector<std::int64_t> ids =
        next_outbox_ids(db_, static_cast<std::int64_t>(jobs.size()));
    auto next_id = ids.begin();
    for (const DsnJob& job : jobs) {
      OutboxRow row = row_for(job.request, *next_id, now);
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
Result<Outbox::SubmissionLog> Outbox::submit_in_children(const std::vector<const OutboxRow*>& rows,
                                                         int round) {
  std::error_code ec;
  std::filesystem::create_directories(spool_directory_, ec);
  if (ec) return make_error("create " + spool_directory_ + ": " + ec.message());
  const std::size_t children =
      std::clamp<std::size_t>(rows.size() / kRowsPerSubmissionChild, 1, kSubmissionChildren);
  mta_.prepare_dsn_submission();
  std::fflush(nullptr);
  std::vector<pid_t> pids;
  std::vector<std::string> logs;
  for (std::size_t k = 0; k < children; ++k) {
    const std::string log = spool_directory_ + "/" + std::string(kSentLogPrefix) +
                            std::to_string(rows.front()->id) + "-" + std::to_string(round) + "-" +
                            std::to_string(k) + std::string(kSentLogSuffix);
    // Locked before the fork, so no child ever runs with its log unlocked.
    std::optional<Fd> fd = create_locked_log(log);
    if (!fd) break;  // the children started still do their share; the rest waits
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::vector<const OutboxRow*> share;
      for (std::size_t i = k; i < rows.size(); i += children) share.push_back(rows[i]);
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
  SubmissionLog report;
  for (const std::string& log : logs) {
    if (auto text = read_file(log)) report.add(*text);
  }
  return report;
}

void Outbox::finalize_all(const std::vector<const OutboxRow*>& rows, EpochSeconds now) {
  Transaction transaction(db_);
  for (const OutboxRow* row : rows) finalize_outbox(db_, *row, now);
  transaction.commit();
}

// Whatever the children's exit status, their logs say which DSNs the MTA
// took. A second round submits the refused ones cut down to headers.
std::vector<DsnDelivery> Outbox::deliver_all(std::vector<OutboxRow> rows, EpochSeconds now) {
  std::vector<DsnDelivery> fates(rows.size());
  std::vector<std::size_t> pending(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) pending[i] = i;
  for (int round = 0; !pending.empty(); ++round)
    pending = deliver_round(rows, pending, fates, round, now);
  return fates;
}

std::vector<std::size_t> Outbox::deliver_round(std::vector<OutboxRow>& rows,
                                               const std::vector<std::size_t>& pending,
                                               std::vector<DsnDelivery>& fates, int round,
                                               EpochSeconds now) {
  std::vector<const OutboxRow*> batch;
  batch.reserve(pending.size());
  for (std::size_t i : pending) batch.push_back(&rows[i]);
  auto log = submit_in_children(batch, round);
  kill_point("dsn-submitted");
  std::vector<const OutboxRow*> sent;
  for (std::size_t i : pending) {
    if (log && log->accepted.contains(rows[i].id)) sent.push_back(&rows[i]);
  }
  try {
    finalize_all(sent, now);
  } catch (const DatabaseError& e) {
    for (std::size_t i : pending)
      fates[i] = {DsnFate::unrecorded, std::string("recording the DSNs failed: ") + e.what()};
    return {};
  }
  kill_point("finalized");
  std::vector<std::size_t> again;
  for (std::size_t i : pending) {
    OutboxRow& row = rows[i];
    if (log && log->accepted.contains(row.id)) {
      fates[i] = {DsnFate::sent, ""};
      continue;
    }
    // A child that ended without a word about this DSN may have died after
    // the MTA took it: the retry can be a duplicate, and the history says so.
    std::string why = log ? std::string(
                                "its submission child ended before it logged whether the "
                                "MTA took it (if it did, the retry is a duplicate)")
                          : "not submitted: " + log.error().message;
    const bool refused = log && log->refused.contains(row.id);
    if (refused) why = log->refused.at(row.id);
    if (log && log->failed.contains(row.id)) why = log->failed.at(row.id);
    const bool was_headers_only = row.headers_only;
    try {
      fates[i] = handle_unaccepted(row, why, refused, now);
    } catch (const DatabaseError& e) {
      fates[i] = {DsnFate::unrecorded, why + "; recording that failed: " + e.what()};
      continue;
    }
    if (row.headers_only && !was_headers_only) again.push_back(i);
  }
  return again;
}

// Refused, or failed once too often: once more as headers only, else given
// up. Otherwise: tried again later.
DsnDelivery Outbox::handle_unaccepted(OutboxRow& row, const std::string& why, bool refused,
                                      EpochSeconds now) {
  spdlog::warn("{}: DSN {} not accepted: {}", row.queue_id, row.dsn_message_id, why);
  if (!refused && row.attempts + 1 < kMaxDsnAttempts) {
    reschedule(row, why, now);
    return {DsnFate::retrying, why};
  }
  const std::string reason =
      refused ? why : "not accepted " + std::to_string(kMaxDsnAttempts) + " times: " + why;
  if (!row.headers_only) {
    auto shorter = headers_only_dsn(row.dsn_text);
    if (shorter) {
      shorten_outbox_text(db_, row.id, *shorter);
      row.dsn_text = std::move(*shorter);
      row.headers_only = true;
      return {DsnFate::retrying, reason + "; trying again with the headers only"};
    }
  }
  const DsnRequest dsn{row.message_id, row.queue_id, row.sender, row.kind, row.recipient_ids, ""};
  refusals_.give_up(UndeliverableDsn{dsn, reason, row.dsn_text, row.id}, now);
  return {DsnFate::given_up, reason};
}

void Outbox::reschedule(const OutboxRow& row, const std::string& why, EpochSeconds now) {
  const int attempt = row.attempts + 1;
  const EpochSeconds next = now + retry_delay(attempt);
  Transaction transaction(db_);
  reschedule_outbox(db_, row, next, why);
  append_outbox_events(db_, row, now, "dsn_deferred",
                       "DSN <" + row.dsn_message_id + "> not accepted (attempt " +
                           std::to_string(attempt) + "): " + why + "; next attempt " +
                           format_iso8601(next));
  transaction.commit();
}

void Outbox::remove_finished_files() {
  for (const std::string& path : finished_) ::unlink(path.c_str());
  finished_.clear();
}

// Waits for each log's lock (a child of a killed run may still be at work).
Result<Outbox::SubmissionLog> Outbox::read_sent_logs() {
  SubmissionLog logged;
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
    if (auto text = read_all(*fd, log)) logged.add(*text);
  }
  return logged;
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

Status Outbox::still_queued(const OutboxRow& row) {
  auto queued = mta_.read_envelope(row.queue_id);
  if (!queued) return queued.error();
  if (row.mta_arrival_time && queued->arrival_time &&
      *queued->arrival_time != *row.mta_arrival_time)
    return make_error("its queue ID now names another message", ErrorKind::gone);
  if (queued->in_delivery) return make_error("the MTA is delivering it now", ErrorKind::busy);
  return ok_status();
}

void Outbox::note_resubmission(const OutboxRow& row, bool logged_not_taken, EpochSeconds now) {
  Transaction transaction(db_);
  append_outbox_events(
      db_, row, now, "dsn_resubmitted",
      dsn_label(row) + " of an interrupted run submitted again " +
          (logged_not_taken ? "(its submission child logged that the MTA had not taken it)"
                            : "(a copy may have been accepted already if the run was killed "
                              "while submitting it: then the sender gets two)"));
  transaction.commit();
}

void Outbox::drop(const OutboxRow& row, const std::string& why, EpochSeconds now) {
  const std::string detail =
      dsn_label(row) + " not sent: the message left the queue first (" + why + ")";
  spdlog::info("{}: {}", row.queue_id, detail);
  Transaction transaction(db_);
  close_outbox(db_, row.id, now, detail);
  append_outbox_events(db_, row, now, "dsn_dropped", detail);
  transaction.commit();
}

Recovery Outbox::recover(EpochSeconds now) {
  Recovery report;
  auto logged = read_sent_logs();
  if (!logged) {
    report.problems.push_back("DSNs of an interrupted run wait for the next run: " +
                              logged.error().message);
    return report;
  }
  std::vector<OutboxRow> rows = unsent_outbox(db_);
  std::vector<const OutboxRow*> done;
  std::vector<OutboxRow> again;
  for (OutboxRow& row : rows) {
    const bool legacy = !row.spool_path.empty();
    if (logged->accepted.contains(row.id) || (legacy && exists(sent_path(row.spool_path)))) {
      spdlog::info("{}: DSN {} (outbox {}) was accepted before a crash; recording it", row.queue_id,
                   row.dsn_message_id, row.id);
      done.push_back(&row);
      continue;
    }
    if (row.next_attempt_at && *row.next_attempt_at > now) continue;  // in flight, not due
    Status ready = legacy ? load_legacy_text(row) : ok_status();
    if (ready) ready = still_queued(row);
    if (!ready && ready.error().kind == ErrorKind::gone) {
      drop(row, ready.error().message, now);
      ++report.dropped;
      continue;
    }
    if (!ready) {
      report.problems.push_back(row.queue_id + ": its DSN waits: " + ready.error().message);
      continue;
    }
    spdlog::info("{}: DSN {} (outbox {}) was never accepted; submitting it again", row.queue_id,
                 row.dsn_message_id, row.id);
    // Not retried after a refusal: its run died while it waited or while a
    // child submitted it. In the second case the MTA may have taken it
    // before the child could log that (unless the child logged otherwise):
    // the history says so.
    if (!row.next_attempt_at) note_resubmission(row, logged->not_taken(row.id), now);
    again.push_back(row);
  }
  finalize_all(done, now);
  report.finished = static_cast<int>(done.size());
  remove_orphans();
  for (const DsnDelivery& delivery : deliver_all(std::move(again), now)) {
    if (delivery.fate == DsnFate::sent) ++report.finished;
    if (delivery.fate == DsnFate::retrying || delivery.fate == DsnFate::unrecorded)
      report.problems.push_back("a DSN of an interrupted run waits: " + delivery.detail);
  }
  return report;
}

}  // namespace etrn
