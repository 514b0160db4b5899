// planner.hpp - what one sweep should do (pure: data in, a Plan out).
//
// Inputs are the recorded messages the sweeper still follows (with their
// recipients and states), the MTA's queue listing, the DSN envelopes of
// queued messages that are candidates for adoption, the configuration and
// the time to act as. The Plan says, per message: whether it was found in
// the queue (and its arrival time there), which recipients departed, which
// deadlines changed, which recipients get a delay warning, which expire
// (with or without a DSN), and whether the message is removed from the
// queue whole or split (the expired recipients bounced, the others
// re-injected). The executor does it; --dry-run prints it.
//
// Matching a recorded message to a queue entry: same queue ID, and the
// queue's arrival time equal to the recorded mta_arrival_time once known;
// before that, within kArrivalTolerance of the recorded arrival time
// (Postfix reuses short queue IDs, so the ID alone is not enough).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/config/config.hpp"
#include "common/model/message.hpp"
#include "common/mta/mta.hpp"
#include "common/policy/timeouts.hpp"
#include "common/store/sweep_store.hpp"

namespace etrn {

inline constexpr EpochSeconds kArrivalTolerance = 3600;
// A message recorded this recently (real clock) and not (yet) in the queue
// listing is not taken as departed: the milter records it at end of message,
// a moment before the MTA commits the queue file.
inline constexpr EpochSeconds kDepartureGrace = 5;

struct PlanInput {
  EpochSeconds now = 0;       // the time to act as (--now)
  EpochSeconds real_now = 0;  // the clock, for kDepartureGrace
  std::vector<RecordedMessage> recorded;
  std::vector<QueuedMessage> queue;
  std::map<std::string, QueuedEnvelope> envelopes;  // by queue ID, for adoption candidates
  std::map<std::string, Priority>
      priorities;  // by queue ID, for adoption candidates (default normal)
};

enum class RecipientAction {
  none,            // keep waiting
  depart,          // no longer in the queue: departed
  warn,            // delay DSN, state warned
  expire_dsn,      // failed DSN, state expired
  expire_silent,   // expired without a DSN (null sender, NOTIFY)
  already_expired  // expired earlier (DSN sent), still in the queue: remove it
};
std::string_view to_string(RecipientAction a);

struct RecipientPlan {
  std::int64_t id = 0;  // 0 for a recipient being adopted
  std::string address;
  std::string domain;
  Notify notify;
  std::string orcpt;
  RecipientState state = RecipientState::queued;  // as recorded (before this plan)
  RecipientAction action = RecipientAction::none;
  Deadlines deadlines;             // from the current configuration
  bool deadlines_changed = false;  // differ from the recorded ones
  std::string policy;              // where the deadlines came from, for DSN text
  std::string why;                 // e.g. "no DSN: null sender"
};

enum class Removal {
  none,
  whole,  // every queued recipient is expired: remove the message
  split   // hold, bounce the expired, re-inject the survivors, remove the original
};
std::string_view to_string(Removal r);

struct MessagePlan {
  std::int64_t id = 0;  // 0: adopted in this run
  std::string queue_id;
  EpochSeconds arrival_time = 0;
  std::string sender;
  ReturnContent ret = ReturnContent::unspecified;
  std::string envid;
  bool smtputf8 = false;
  Priority priority = Priority::normal;
  // Its entry in PlanInput::queue, which must outlive the plan (a pointer,
  // not a copy: a 100k-message sweep holds 100k plans); null: gone.
  const QueuedMessage* queued = nullptr;
  bool record_mta_arrival = false;  // first match: store queued->arrival_time
  bool adopt = false;
  bool done = false;  // the sweeper has nothing left to do with this row
  std::vector<RecipientPlan> recipients;
  Removal removal = Removal::none;
  std::vector<std::string> survivors;  // queued addresses re-injected on a split
  // On a split: queued messages that may be this message's copy from a run
  // killed after re-injecting (same sender, exactly the survivors, not
  // older); the executor checks their X-ETRN-Sweeper-Reinjected header.
  std::vector<std::string> copy_candidates;

  bool has(RecipientAction a) const;
  bool changes_something() const;
};

// Two recorded rows for the same queued message (the milter recorded a
// re-injected message after the sweeper moved its recipients there).
struct Merge {
  std::int64_t keep = 0;  // the older clock
  std::int64_t drop = 0;
};

struct Plan {
  EpochSeconds now = 0;
  std::vector<MessagePlan> messages;
  std::vector<Merge> merges;
};

// Queue entries with ETRN-only recipients that no recorded message
// matches: their envelopes must be read (postcat -e) before planning.
std::vector<std::string> adoption_candidates(const Config& config,
                                             const std::vector<RecordedMessage>& recorded,
                                             const std::vector<QueuedMessage>& queue);

Plan plan_sweep(const Config& config, const PlanInput& input);

// A message's priority from its header section (folded lines allowed), as
// the milter computes it for the mail it records.
Priority priority_from_headers(std::string_view headers);

// Warnings for a Postfix whose own queue lifetime would expire ETRN mail
// before the policy does (it would send its own misleading NDR).
std::vector<std::string> lifetime_warnings(const Config& config, const QueueLifetimes& lifetimes);

}  // namespace etrn
