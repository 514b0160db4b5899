// sweep_command.cpp - the `sweep` command (see sweep_command.hpp).
//
// The recorded messages are read before the queue is listed, so a message
// the milter records meanwhile is seen in the queue (and adopted at worst,
// which checks for a row again) rather than missing from it (departed).
#include "sweeper/sweep_command.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <iostream>

#include "common/config/config_values.hpp"
#include "common/mta/postfix_mta.hpp"
#include "common/mta/sendmail_mta.hpp"
#include "common/store/database.hpp"
#include "common/util/sysexits.hpp"
#include "sweeper/executor.hpp"
#include "sweeper/outbox.hpp"
#include "sweeper/plan_printer.hpp"
#include "sweeper/planner.hpp"
#include "sweeper/refusal.hpp"
#include "sweeper/run_lock.hpp"
#include "sweeper/time_spec.hpp"

namespace etrn {

namespace {

EpochSeconds act_time(const SweepOptions& options, EpochSeconds real_now) {
  if (!options.now) return real_now;
  auto t = parse_time_spec(*options.now, real_now);
  if (!t) throw FatalError(ExitCode::usage, "--now: " + t.error().message);
  return *t;
}

std::vector<QueuedMessage> list_queue(Mta& mta) {
  std::vector<QueuedMessage> queue;
  Status listed =
      mta.for_each_queued([&queue](QueuedMessage&& m) { queue.push_back(std::move(m)); });
  if (!listed) {
    throw FatalError(ExitCode::temp_fail,
                     "reading the mail queue failed, nothing changed: " + listed.error().message);
  }
  return queue;
}

PlanInput gather(const Config& config, Database* db, Mta& mta, EpochSeconds act_now,
                 EpochSeconds real_now) {
  PlanInput input;
  input.now = act_now;
  input.real_now = real_now;
  if (db != nullptr) {
    input.recorded = load_open_messages(*db);
    for (std::int64_t id : in_flight_recipient_ids(*db)) input.in_flight.insert(id);
  }
  input.queue = list_queue(mta);
  for (const QueuedMessage* q : adoption_candidates(config, input.recorded, input.queue)) {
    auto envelope = mta.read_envelope(q->queue_id);
    auto headers = mta.read_content(q->queue_id, ContentPart::headers_only);
    if (!envelope || !headers) {
      spdlog::warn("{}: not adopted this time: {}", q->queue_id,
                   (envelope ? headers.error() : envelope.error()).message);
      continue;
    }
    input.adoptions.push_back(
        {q, std::move(*envelope), priority_from_headers(*headers), reinjected_from(*headers)});
  }
  return input;  // moved or elided: the adoptions' pointers into the queue stay valid
}

void warn_about_lifetimes(const Config& config, Mta& mta) {
  auto lifetimes = mta.queue_lifetimes();
  if (!lifetimes) {
    spdlog::warn("cannot read the MTA's queue lifetimes: {}", lifetimes.error().message);
    return;
  }
  for (const std::string& warning : lifetime_warnings(config, *lifetimes))
    spdlog::warn("{}", warning);
}

std::unique_ptr<Database> open_for_writing(const std::string& path) {
  auto db = Database::open(path, OpenMode::read_write_create);
  if (!db)
    throw FatalError(ExitCode::cant_create,
                     "cannot open database " + path + ": " + db.error().message);
  return std::move(db).value();
}

std::string spool_directory_for(const std::string& database) {
  std::filesystem::path dir = std::filesystem::path(database).parent_path();
  return ((dir.empty() ? std::filesystem::path(".") : dir) / "outgoing").string();
}

int dry_run(const Config& config, Mta& mta, EpochSeconds act_now, EpochSeconds real_now) {
  std::unique_ptr<Database> db;
  if (std::filesystem::exists(config.database)) {
    auto opened = Database::open(config.database, OpenMode::read_only);
    if (!opened)
      throw FatalError(ExitCode::io_error, "cannot read database: " + opened.error().message);
    db = std::move(opened).value();
    const auto unsent = unsent_outbox(*db);
    if (!unsent.empty()) {
      std::cout << unsent.size()
                << " DSN(s) left in the outbox by an interrupted run would be finished first\n";
    }
  }
  warn_about_lifetimes(config, mta);
  const PlanInput input = gather(config, db.get(), mta, act_now, real_now);
  print_plan(std::cout, plan_sweep(config, input));
  return 0;
}

// 0: all done; 1: done, but messages need a person (attention); 75:
// something is left for the next run.
int exit_status_of(const RunSummary& summary) {
  if (!summary.need_a_person.empty()) {
    spdlog::error(
        "{} message(s) kept on hold need a person: {}", summary.need_a_person.size(),
        summary.need_a_person.front() + (summary.need_a_person.size() > 1 ? " and others" : ""));
    return kExitNeedsAPerson;
  }
  if (summary.errors.empty()) return 0;
  spdlog::error("{} message(s) not finished; the next run retries them", summary.errors.size());
  return to_int(ExitCode::temp_fail);
}

int sweep(const Config& config, Mta& mta, const SweepOptions& options, EpochSeconds act_now,
          EpochSeconds real_now) {
  RunLock lock(config.database + ".lock");
  auto db = open_for_writing(config.database);
  const std::string reporting_mta = reporting_mta_for(config, mta);
  RefusalHandler refusals(*db, mta, config.postmaster, reporting_mta);
  Outbox outbox(*db, mta, spool_directory_for(config.database), refusals);
  const Recovery recovered = outbox.recover(act_now);
  warn_about_lifetimes(config, mta);
  const PlanInput input =
      gather(config, db.get(), mta, act_now, real_now);  // the plan points into it
  Plan plan = plan_sweep(config, input);
  Executor executor(config, *db, mta, outbox, refusals, reporting_mta,
                    ExecutorClock{act_now, real_now});
  RunSummary summary = executor.execute(std::move(plan));
  outbox.remove_finished_files();
  summary.recovered = recovered.finished;
  for (const std::string& problem : recovered.problems) {
    spdlog::warn("{}", problem);
    summary.errors.push_back(problem);
  }
  if (options.verbose) std::cout << summary.to_string() << "\n";
  return exit_status_of(summary);
}

}  // namespace

std::unique_ptr<Mta> make_mta(const Config& config) {
  if (config.mta == MtaKind::sendmail) return std::make_unique<SendmailMta>(config);
  return std::make_unique<PostfixMta>(config);
}

std::string reporting_mta_for(const Config& config, Mta& mta) {
  if (!config.reporting_mta.empty()) return config.reporting_mta;
  auto own = mta.own_host_name();
  if (!own)
    throw FatalError(
        ExitCode::unavailable,
        "cannot ask the MTA for its host name (set reporting_mta): " + own.error().message);
  auto name = parse_host_name(*own);
  if (!name)
    throw FatalError(ExitCode::config, "the MTA's own host name will not do for Reporting-MTA " +
                                           std::string("(set reporting_mta): ") +
                                           name.error().message);
  return *name;
}

int run_sweep(const Config& config, Mta& mta, const SweepOptions& options) {
  const EpochSeconds real_now = std::time(nullptr);
  const EpochSeconds act_now = act_time(options, real_now);
  if (Status there = mta.available(); !there)
    throw FatalError(ExitCode::unavailable, there.error().message);
  if (options.dry_run) return dry_run(config, mta, act_now, real_now);
  return sweep(config, mta, options, act_now, real_now);
}

}  // namespace etrn
