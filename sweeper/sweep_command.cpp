// sweep_command.cpp - the `sweep` command (see sweep_command.hpp).
//
// The recorded messages are read while the queue is listed (each is about
// half of a large reconcile). A message the milter records meanwhile is
// either in neither (the next run sees both), or listed without its record
// (adopted at worst, which checks for a row again), or recorded but not
// yet listed: the milter records at end of message, before the MTA has
// committed its queue file, and a record younger than kDepartureGrace that
// the listing does not show is not taken as departed.
// What else the planner needs from the MTA (a second look for absent
// messages, transports, envelopes) is read only where the review of
// records against the listing asks for it, in bulk: a quiet 100k-message
// queue costs one listing. Quiet messages (nothing due, listed as
// recorded) are not kept in memory at all (quiet_records.hpp): 1M queued
// messages need about 200 MB instead of 1.5 GB.
#include "sweeper/sweep_command.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <filesystem>
#include <future>
#include <iostream>
#include <mutex>
#include <optional>

#include "common/config/config_values.hpp"
#include "common/mta/postfix_mta.hpp"
#include "common/mta/sendmail_mta.hpp"
#include "common/store/database.hpp"
#include "common/store/postgres_database.hpp"
#include "common/store/sweep_store.hpp"
#include "common/util/printable.hpp"
#include "common/util/sysexits.hpp"
#include "sweeper/executor.hpp"
#include "sweeper/outbox.hpp"
#include "sweeper/plan_printer.hpp"
#include "sweeper/planner.hpp"
#include "sweeper/prune_command.hpp"
#include "sweeper/quiet_records.hpp"
#include "sweeper/refusal.hpp"
#include "sweeper/run_journal.hpp"
#include "sweeper/run_lock.hpp"
#include "sweeper/store_access.hpp"
#include "sweeper/time_spec.hpp"
#include "sweeper/unlisted_hook.hpp"

namespace etrn {

EpochSeconds act_time(const SweepOptions& options, EpochSeconds real_now) {
  if (!options.now) return real_now;
  auto t = parse_time_spec(*options.now, real_now);
  if (!t) throw FatalError(ExitCode::usage, "--now: " + t.error().message);
  if (*t > real_now && !options.dry_run && !options.future_now) {
    throw FatalError(ExitCode::usage,
                     "--now " + *options.now +
                         " is in the future: this sweep would warn, expire and bounce mail "
                         "early. Add --dry-run to only forecast, or --future-now to act anyway");
  }
  return *t;
}

namespace {

// The listing, one entry at a time.
void for_each_listed(Mta& mta, const std::function<void(QueuedMessage&&)>& each) {
  Status listed = mta.for_each_queued([&each](QueuedMessage&& m) {
    if (!unlisted_by_test_hook(m.queue_id, QueueLook::listing)) each(std::move(m));
  });
  if (!listed) {
    throw FatalError(ExitCode::temp_fail,
                     "reading the mail queue failed, nothing changed: " + listed.error().message);
  }
}

std::vector<QueuedMessage> list_queue(Mta& mta) {
  std::vector<QueuedMessage> queue;
  for_each_listed(mta, [&queue](QueuedMessage&& m) { queue.push_back(std::move(m)); });
  return queue;
}

// The absent messages the MTA still has, added to the queue: a listing
// can miss a message that moves between queues while it runs.
void look_again(Mta& mta, const std::vector<const RecordedMessage*>& absent,
                std::vector<QueuedMessage>& queue) {
  std::vector<std::string> ids;
  ids.reserve(absent.size());
  for (const RecordedMessage* r : absent) ids.push_back(r->queue_id);
  std::vector<QueuedMessage> looked;
  Status done = mta.look_again(ids, [&looked](QueuedMessage&& m) {
    if (!unlisted_by_test_hook(m.queue_id, QueueLook::second_look)) looked.push_back(std::move(m));
  });
  if (!done) {
    throw FatalError(ExitCode::temp_fail,
                     "looking again for messages missing from the queue listing failed, nothing "
                     "changed: " +
                         done.error().message);
  }
  for (QueuedMessage& m : found_again(absent, std::move(looked))) {
    spdlog::info("{}: missing from the queue listing, but still queued", m.queue_id);
    queue.push_back(std::move(m));
  }
}

// Fills in the transport the MTA routes each of `addresses` to.
void route(Mta& mta, const std::vector<std::string>& addresses, std::vector<QueuedMessage>& queue) {
  auto transports = mta.transports_for(addresses);
  if (!transports) {
    spdlog::warn("cannot ask the MTA for the recipients' transports: {}",
                 transports.error().message);
    return;
  }
  for (QueuedMessage& m : queue) {
    for (QueuedRecipient& r : m.recipients) {
      const auto found = r.mailer.empty() ? transports->find(r.address) : transports->end();
      if (found != transports->end()) r.mailer = found->second;
    }
  }
}

// Departed records of the unrecorded entries, to follow again; true if any.
bool reopen(Database& db, const std::vector<const QueuedMessage*>& unrecorded,
            std::vector<RecordedMessage>& recorded) {
  const std::size_t before = recorded.size();
  for (const QueuedMessage* q : unrecorded) {
    if (auto closed = load_reopenable(db, q->queue_id, q->arrival_time))
      recorded.push_back(std::move(*closed));
  }
  return recorded.size() != before;
}

std::vector<std::string> ids_of(const std::vector<const QueuedMessage*>& entries) {
  std::vector<std::string> ids;
  ids.reserve(entries.size());
  for (const QueuedMessage* q : entries) ids.push_back(q->queue_id);
  return ids;
}

// The envelopes that tie queued recipients to recorded ones.
void read_envelopes(Mta& mta, const std::vector<const QueuedMessage*>& mismatched,
                    PlanInput& input) {
  auto envelopes = mta.read_envelopes(ids_of(mismatched));
  for (std::size_t i = 0; i < mismatched.size(); ++i) {
    if (envelopes[i]) {
      input.envelopes.emplace(mismatched[i], std::move(*envelopes[i]));
    } else {
      spdlog::warn("{}: its recipients are matched at the next run: {}", mismatched[i]->queue_id,
                   envelopes[i].error().message);
    }
  }
}

void read_adoptions(Mta& mta, const std::vector<const QueuedMessage*>& unrecorded,
                    PlanInput& input) {
  const std::vector<std::string> ids = ids_of(unrecorded);
  // In bulk: after a milter outage there may be thousands.
  auto read = mta.read_headers(ids);
  for (std::size_t i = 0; i < unrecorded.size(); ++i) {
    if (!read[i]) {
      spdlog::warn("{}: not adopted this time: {}", ids[i], read[i].error().message);
      continue;
    }
    const std::string& headers = read[i]->content;
    input.adoptions.push_back({unrecorded[i], std::move(read[i]->envelope),
                               priority_from_headers(headers), reinjected_from(headers)});
  }
}

// The records and the listing, all of them: the records load while the
// MTA lists its queue (each is a third of a large reconcile, and they share
// nothing).
void read_everything(Database* db, Mta& mta, PlanInput& input) {
  std::future<std::vector<RecordedMessage>> recorded;
  if (db != nullptr)
    recorded = std::async(std::launch::async, [db] { return load_open_messages(*db); });
  input.queue = list_queue(mta);
  if (db != nullptr) input.recorded = recorded.get();
}

// The listing, read on a thread of its own while the records load: at
// most `room` entries ahead of the reader, so that a large queue overlaps
// the two without holding all of its entries (drain() takes them, and
// rethrows what the listing threw).
class ListingAhead {
 public:
  ListingAhead(Mta& mta, std::size_t room) : room_(room) {
    lister_ = std::async(std::launch::async, [this, &mta] {
      try {
        for_each_listed(mta, [this](QueuedMessage&& m) { put(std::move(m)); });
      } catch (...) {
        finish();
        throw;
      }
      finish();
    });
  }
  ~ListingAhead() {
    if (!lister_.valid()) return;
    {
      const std::lock_guard lock(mutex_);
      abandoned_ = true;  // the lister reads on to its end and keeps nothing
    }
    changed_.notify_all();
    lister_.wait();
  }
  ListingAhead(const ListingAhead&) = delete;
  ListingAhead& operator=(const ListingAhead&) = delete;

  void drain(const std::function<void(QueuedMessage&&)>& each) {
    for (;;) {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return !entries_.empty() || done_; });
      if (entries_.empty()) break;
      QueuedMessage m = std::move(entries_.front());
      entries_.pop_front();
      lock.unlock();
      changed_.notify_all();
      each(std::move(m));
    }
    lister_.get();  // the listing's failure, if any
  }

 private:
  void put(QueuedMessage&& m) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return entries_.size() < room_ || abandoned_; });
    if (abandoned_) return;
    entries_.push_back(std::move(m));
    lock.unlock();
    changed_.notify_all();
  }
  void finish() {
    {
      const std::lock_guard lock(mutex_);
      done_ = true;
    }
    changed_.notify_all();
  }

  const std::size_t room_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<QueuedMessage> entries_;
  bool done_ = false;
  bool abandoned_ = false;
  std::future<void> lister_;
};

// Entries the listing may read ahead of the quiet check: a tenth of a
// million-message queue, some 30 MB.
constexpr std::size_t kListingAhead = 100'000;

// The records and the listing without the quiet ones (quiet_records.hpp);
// false when the listing made that impossible (nothing is kept then).
bool read_all_but_the_quiet(const Config& config, Database& db, Mta& mta, PlanInput& input) {
  QuietSources from;
  from.open_records = static_cast<std::size_t>(count_open_messages(db));
  ListingAhead listing(mta, kListingAhead);
  from.records = [&db](const auto& each) { for_each_open_message(db, each); };
  from.listing = [&listing](const auto& each) { listing.drain(each); };
  from.load = [&db](std::vector<std::int64_t> ids) { return load_messages(db, std::move(ids)); };
  if (read_all_but_the_quiet(config, input, from)) return true;
  spdlog::info("the listing showed a queue ID twice: reading every record and entry");
  return false;
}

// Everything the planner needs: the records, the queue, and what the
// review says must be read from the MTA (planner.hpp, QueueReview). Each
// answer changes the input, so the review is made again after it. With
// `leave_out_quiet`, the quiet records and their entries stay out.
std::unique_ptr<PlanInput> gather(const Config& config, Database* db, Mta& mta,
                                  EpochSeconds act_now, EpochSeconds real_now,
                                  bool leave_out_quiet) {
  // On the heap: the plan points into it, so it must never move.
  auto input = std::make_unique<PlanInput>();
  input->now = act_now;
  input->real_now = real_now;
  // First: a message with a DSN in the outbox is never quiet.
  if (db != nullptr) {
    for (std::int64_t id : in_flight_recipient_ids(*db)) input->in_flight.insert(id);
  }
  if (db == nullptr || !leave_out_quiet || !read_all_but_the_quiet(config, *db, mta, *input))
    read_everything(db, mta, *input);
  QueueReview review = review_queue(config, *input);
  if (!review.absent.empty()) {
    look_again(mta, review.absent, input->queue);
    review = review_queue(config, *input);
  }
  if (!review.unrouted.empty()) {
    route(mta, review.unrouted, input->queue);
    review = review_queue(config, *input);
  }
  if (db != nullptr && reopen(*db, review.unrecorded, input->recorded))
    review = review_queue(config, *input);
  read_envelopes(mta, review.mismatched, *input);
  read_adoptions(mta, review.unrecorded, *input);
  return input;
}

// What to do, and the input it points into. A split looks for copies
// among every entry, so a plan with one is made again from everything.
struct Planned {
  std::unique_ptr<PlanInput> input;
  Plan plan;
};

Planned gather_and_plan(const Config& config, Database* db, Mta& mta, EpochSeconds act_now,
                        EpochSeconds real_now) {
  Planned p;
  p.input = gather(config, db, mta, act_now, real_now, /*leave_out_quiet=*/true);
  p.plan = plan_sweep(config, *p.input);
  if (p.input->left_out > 0 && p.plan.has_split()) {
    spdlog::info("a message splits: planning again with every record and entry");
    p.plan = Plan{};
    p.input = gather(config, db, mta, act_now, real_now, /*leave_out_quiet=*/false);
    p.plan = plan_sweep(config, *p.input);
  }
  return p;
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

std::string spool_directory_of(const Config& config) {
  return (std::filesystem::path(state_directory_of(config)) / "outgoing").string();
}

int dry_run(const Config& config, Mta& mta, EpochSeconds act_now, EpochSeconds real_now) {
  std::unique_ptr<Database> db;
  if (store_may_exist(config)) {
    db = open_store(config, OpenMode::read_only, ExitCode::io_error);
    const auto unsent = unsent_outbox(*db);
    if (!unsent.empty()) {
      std::cout << unsent.size()
                << " DSN(s) left in the outbox by an interrupted run would be finished first\n";
    }
  }
  warn_about_lifetimes(config, mta);
  print_plan(std::cout, gather_and_plan(config, db.get(), mta, act_now, real_now).plan);
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

struct Swept {
  int exit_status = 0;
  RunCounts counts;
};

// An SQLite store holds one host's records: those written under this
// host's earlier name (instance unset, myhostname changed) are taken over,
// or its sweeps would no longer see them and adopt the mail anew.
void take_over_earlier_names(Database& db, const std::string& instance) {
  for (const auto& [old_name, count] : take_over_renamed_host(db)) {
    spdlog::warn(
        "{} open message(s) recorded as host {} are now this host's ({}): an SQLite database "
        "holds one host's records (set instance to keep a name)",
        count, printable(old_name), printable(instance));
  }
}

// `store`: store_of(config).
Swept sweep(const Config& config, const std::string& store, Mta& mta, const SweepOptions& options,
            EpochSeconds act_now, EpochSeconds real_now) {
  RunLock lock(store, config.instance);
  auto db = open_store(store, config, OpenMode::read_write_create, ExitCode::cant_create);
  if (!is_postgres_uri(config.database)) take_over_earlier_names(*db, config.instance);
  const std::string reporting_mta = reporting_mta_for(config, mta);
  RefusalHandler refusals(*db, mta, config.postmaster, reporting_mta);
  Outbox outbox(*db, mta, spool_directory_of(config), refusals);
  const Recovery recovered = outbox.recover(act_now);
  warn_about_lifetimes(config, mta);
  Planned planned = gather_and_plan(config, db.get(), mta, act_now, real_now);
  Executor executor(config, *db, mta, outbox, refusals, reporting_mta,
                    ExecutorClock{act_now, real_now});
  lock.check_held();
  RunSummary summary = executor.execute(std::move(planned.plan));
  outbox.remove_finished_files();
  prune_after_sweep(config, *db, real_now);
  summary.recovered = recovered.finished;
  for (const std::string& problem : recovered.problems) {
    spdlog::warn("{}", problem);
    summary.errors.push_back(problem);
  }
  if (options.verbose) std::cout << summary.to_string() << "\n";
  return {exit_status_of(summary), summary.counts};
}

// The sweep, recorded in the runs table whatever its outcome (the
// exceptions go on to the command dispatcher, which maps them to exit codes).
// A run whose MTA cannot even say its name is recorded too, as no host's.
int recorded_sweep(const Config& configured, Mta& mta, const SweepOptions& options,
                   EpochSeconds act_now, EpochSeconds real_now) {
  Config config = configured;
  std::optional<FatalError> nameless;
  try {
    config = with_own_instance(configured, mta);
  } catch (const FatalError& e) {
    nameless = e;
  }
  const std::string store = store_of(config);
  RunJournal journal(store, config.instance, options.metrics_file.value_or(config.metrics_file),
                     real_now, act_now);
  try {
    if (Status there = mta.available(); !there)
      throw FatalError(ExitCode::unavailable, there.error().message);
    if (nameless) throw *nameless;
    const Swept swept = sweep(config, store, mta, options, act_now, real_now);
    journal.finish(swept.exit_status, swept.counts, "");
    return swept.exit_status;
  } catch (const FatalError& e) {
    journal.finish(to_int(e.code()), {}, e.what());
    throw;
  } catch (const DatabaseError& e) {
    journal.finish(to_int(e.is_busy() ? ExitCode::temp_fail : ExitCode::io_error), {}, e.what());
    throw;
  }
}

}  // namespace

std::unique_ptr<Mta> make_mta(const Config& config) {
  if (config.mta == MtaKind::sendmail) return std::make_unique<SendmailMta>(config);
  return std::make_unique<PostfixMta>(config);
}

namespace {

// The MTA's own host name, for a key left empty (`key` and `use` for messages).
std::string own_host_name(Mta& mta, const std::string& key, const std::string& use) {
  auto own = mta.own_host_name();
  if (!own)
    throw FatalError(ExitCode::unavailable, "cannot ask the MTA for its host name (set " + key +
                                                "): " + own.error().message);
  auto name = parse_host_name(*own);
  if (!name)
    throw FatalError(ExitCode::config, "the MTA's own host name will not do for " + use + " (set " +
                                           key + "): " + name.error().message);
  return *name;
}

}  // namespace

std::string reporting_mta_for(const Config& config, Mta& mta) {
  if (!config.reporting_mta.empty()) return config.reporting_mta;
  return own_host_name(mta, "reporting_mta", "Reporting-MTA");
}

Config with_own_instance(const Config& config, Mta& mta) {
  Config resolved = config;
  if (!resolved.instance.empty()) return resolved;
  resolved.instance = own_host_name(mta, "instance", "instance");
  if (resolved.reporting_mta.empty()) resolved.reporting_mta = resolved.instance;
  return resolved;
}

int run_sweep(const Config& config, Mta& mta, const SweepOptions& options) {
  const EpochSeconds real_now = std::time(nullptr);
  const EpochSeconds act_now = act_time(options, real_now);
  if (!options.dry_run) return recorded_sweep(config, mta, options, act_now, real_now);
  if (Status there = mta.available(); !there)
    throw FatalError(ExitCode::unavailable, there.error().message);
  return dry_run(with_own_instance(config, mta), mta, act_now, real_now);
}

}  // namespace etrn
