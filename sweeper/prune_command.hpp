// prune_command.hpp - `prune`: deletes closed history older than
// history_retention (or --before TIME), or with --address one address's
// closed history whatever its age (a privacy request); and the bounded
// prune at the end of every sweep.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/config/config.hpp"
#include "common/store/database.hpp"
#include "common/util/epoch_seconds.hpp"

namespace etrn {

struct PruneOptions {
  bool dry_run = false;                // count, delete nothing
  std::optional<std::string> before;   // a time_spec: prune what was last changed before it
  std::optional<std::string> address;  // erase this address's closed history
};

// Prints what was (or would be) deleted; 0. Throws FatalError (64 for a
// bad option, 75 while a sweep runs, 74 when the database cannot be
// opened) and DatabaseError.
int run_prune(const Config& config, const PruneOptions& options);

// At most this long at the end of a sweep; what is left waits for the next run.
inline constexpr std::chrono::seconds kSweepPruneBudget{5};

// The end-of-sweep prune: bounded by kSweepPruneBudget, and a failure is
// logged as a warning, never thrown: the sweep's mail work is done by then
// and its exit status stays that work's.
void prune_after_sweep(const Config& config, Database& db, EpochSeconds now);

}  // namespace etrn
