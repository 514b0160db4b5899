// prune_command.cpp - the `prune` command and the end-of-sweep prune (see
// prune_command.hpp).
#include "sweeper/prune_command.hpp"

#include <spdlog/spdlog.h>

#include <ctime>
#include <iostream>

#include "common/config/config_values.hpp"
#include "common/store/prune_store.hpp"
#include "common/util/sysexits.hpp"
#include "common/util/time_format.hpp"
#include "sweeper/run_lock.hpp"
#include "sweeper/store_access.hpp"
#include "sweeper/time_spec.hpp"

namespace etrn {

namespace {

// --before, or history_retention ago; none when the history is kept forever.
std::optional<EpochSeconds> cutoff_for(const Config& config, const PruneOptions& options,
                                       EpochSeconds now) {
  if (!options.before) {
    if (config.history_retention.count() == 0) return std::nullopt;
    return now - config.history_retention.count();
  }
  auto before = parse_time_spec(*options.before, now);
  if (!before) throw FatalError(ExitCode::usage, "--before: " + before.error().message);
  if (*before > now - kShortestRetention.count())
    throw FatalError(ExitCode::usage,
                     "--before must be at least " + format_duration(kShortestRetention) + " ago");
  return *before;
}

int prune_by_age(Database& db, const Config& config, const PruneOptions& options,
                 EpochSeconds now) {
  const std::optional<EpochSeconds> cutoff = cutoff_for(config, options, now);
  if (!cutoff) {
    std::cout << "history_retention is 0: the history is kept; nothing pruned\n";
    return 0;
  }
  const std::string what = "closed history last changed before " + format_iso8601(*cutoff);
  if (options.dry_run) {
    std::cout << "would delete " << what << ": " << to_string(count_closed_history(db, *cutoff))
              << "\n";
    return 0;
  }
  const PruneResult result = prune_closed_history(db, *cutoff, PruneLimits{}, now);
  std::cout << "deleted " << what << ": " << to_string(result.deleted) << "\n";
  if (!result.deleted.empty()) spdlog::info("pruned {}: {}", what, to_string(result.deleted));
  return 0;
}

int erase_history(Database& db, const std::string& address, bool dry_run, EpochSeconds now) {
  const ErasureResult result = erase_address(db, address, now, dry_run);
  std::cout << (dry_run ? "would erase " : "erased ") << "the closed history of " << address << ": "
            << to_string(result.deleted) << "\n";
  if (result.kept_open > 0) {
    std::cout << result.kept_open
              << " recipient record(s) of open messages kept: they still protect queued mail; "
                 "erase again once they are closed\n";
  }
  if (!dry_run)
    spdlog::info("erased the closed history of one address: {}", to_string(result.deleted));
  return 0;
}

}  // namespace

int run_prune(const Config& config, const PruneOptions& options) {
  if (options.address && options.before)
    throw FatalError(ExitCode::usage, "--address erases whatever the age: no --before with it");
  if (options.address && options.address->empty())
    throw FatalError(ExitCode::usage, "--address needs an address");
  const std::string store = store_of(config);
  RunLock lock(store, config.instance);
  auto db = open_store(store, config, OpenMode::read_write, ExitCode::io_error);
  const EpochSeconds now = std::time(nullptr);
  if (options.address) return erase_history(*db, *options.address, options.dry_run, now);
  return prune_by_age(*db, config, options, now);
}

void prune_after_sweep(const Config& config, Database& db, EpochSeconds now) {
  if (config.history_retention.count() == 0) return;
  const EpochSeconds cutoff = now - config.history_retention.count();
  try {
    const PruneResult result =
        prune_closed_history(db, cutoff, PruneLimits{.time_budget = kSweepPruneBudget}, now);
    if (!result.deleted.empty())
      spdlog::info("pruned closed history last changed before {}: {}{}", format_iso8601(cutoff),
                   to_string(result.deleted), result.finished ? "" : " (more next run)");
  } catch (const DatabaseError& e) {
    spdlog::warn("pruning the closed history failed (the next run tries again): {}", e.what());
  }
}

}  // namespace etrn
