// sweep_command.hpp - `sweep`: lock, recover the outbox, read the queue,
// plan, then execute (or, with --dry-run, print the plan and change
// nothing: the database is opened read-only and no lock file is made).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/config/config.hpp"
#include "common/mta/mta.hpp"

namespace etrn {

struct SweepOptions {
  bool dry_run = false;
  bool verbose = false;
  std::optional<std::string> now;           // --now TIME
  bool future_now = false;                  // --future-now: a future --now may act
  std::optional<std::string> metrics_file;  // --metrics-file PATH (over the configuration's)
};

// The time the run acts as: the clock, or --now. A --now in the future
// without --dry-run would warn, expire and bounce mail early, so it needs
// --future-now too; FatalError(usage) says which flag to add.
EpochSeconds act_time(const SweepOptions& options, EpochSeconds real_now);

// The MTA adapter the configuration names; FatalError(69) when it is not available.
std::unique_ptr<Mta> make_mta(const Config& config);

// The host name for Reporting-MTA: reporting_mta, else the MTA's own
// (Postfix myhostname, Sendmail $j), never this machine's short name.
// FatalError when the MTA cannot say (69) or says something that is no
// host name (78).
std::string reporting_mta_for(const Config& config, Mta& mta);

// The configuration with `instance` resolved: as given, else the MTA's own
// host name (as for Reporting-MTA), which is also the milter's default
// (the MTA's j macro). When it asks the MTA, an empty reporting_mta takes
// the same answer, so that a run asks at most once (it runs a command).
// The same FatalErrors as reporting_mta_for.
Config with_own_instance(const Config& config, Mta& mta);

// A sweep that finished what it could but kept messages on hold that need a
// person (attention): neither success (0) nor "try again" (75).
inline constexpr int kExitNeedsAPerson = 1;

// Throws FatalError, and DatabaseError for the store's failures (the
// command dispatcher maps those to exit codes). The sweep reads and changes
// only its own instance's rows (and those that name none).
int run_sweep(const Config& config, Mta& mta, const SweepOptions& options);

}  // namespace etrn
