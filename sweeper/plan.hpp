// plan.hpp - what one sweep should do: the Plan the planner makes, the
// executor carries out and --dry-run prints. The rules that read a plan
// (which recipients leave the queue, which keep waiting, which DSN reports
// whom) are methods here, so the planner and the executor share one
// definition of each.
//
// Per message: whether it was found in the queue (and its arrival time
// there), which recipients departed, which deadlines changed, which
// recipients get a delay warning, which expire (with or without a DSN),
// and whether the message is removed from the queue whole or split (the
// expired recipients bounced, the others re-injected).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/deadlines.hpp"
#include "common/model/dsn_kind.hpp"
#include "common/model/envelope.hpp"
#include "common/model/priority.hpp"
#include "common/model/queued_message.hpp"
#include "common/model/recipient_state.hpp"
#include "common/util/epoch_seconds.hpp"

namespace etrn {

enum class RecipientAction {
  none,            // keep waiting
  depart,          // no longer in the queue: departed
  warn,            // delay DSN, state warned
  expire_dsn,      // failed DSN, state expired
  expire_silent,   // expired without a DSN (null sender, NOTIFY)
  already_expired  // expired earlier (DSN sent), still in the queue: remove it
};
std::string_view to_string(RecipientAction a);

// The recipients a DSN of `kind` reports: those warned (delayed) or those
// expiring with a DSN (failed).
RecipientAction action_reported_by(DsnKind kind);

// Where a recipient of the plan comes from: a recorded row, or the queue.
enum class RecipientOrigin {
  recorded,  // a recorded row, at its recorded address
  followed,  // a recorded row the MTA rewrote (canonical maps, an alias): it takes the queued
             // address
  expanded,  // a new row: another ETRN recipient the recorded one was expanded into
  adopted    // a new row: an ETRN recipient the message gained after the milter saw it
};
std::string_view to_string(RecipientOrigin o);

struct RecipientPlan {
  std::int64_t id = 0;  // 0 for a recipient being adopted (until the executor records it)
  std::string address;  // as queued
  std::string domain;
  RecipientDsnParams dsn;
  RecipientState state = RecipientState::queued;  // as recorded (before this plan)
  RecipientAction action = RecipientAction::none;
  Deadlines deadlines;             // from the current configuration
  bool deadlines_changed = false;  // differ from the recorded ones
  std::string policy;              // where the deadlines came from, for DSN text
  std::string why;                 // e.g. "no DSN: null sender"
  RecipientOrigin origin = RecipientOrigin::recorded;
  std::string recorded_address;  // followed, expanded: the address the milter recorded
  bool reopened = false;         // see RecordedRecipient::reopened

  // Expired (now or in an earlier run): taken out of the queue, with the
  // whole message or split off it.
  bool leaves_queue() const;
  // Still waiting for its site after this run: it stays queued (on a
  // split, in the re-injected copy).
  bool keeps_waiting() const;
  // Something to do or to write for it: an action, or new deadlines.
  bool changes_something() const;
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
  Envelope envelope;
  Priority priority = Priority::normal;
  // Its entry in PlanInput::queue, which must outlive the plan (a pointer,
  // not a copy: a 100k-message sweep holds 100k plans); null: gone.
  const QueuedMessage* queued = nullptr;
  bool record_mta_arrival = false;  // first match: store queued->arrival_time
  bool adopt = false;
  bool reopen = false;  // see RecordedMessage::reopened
  bool done = false;    // the sweeper has nothing left to do with this row
  std::vector<RecipientPlan> recipients;
  Removal removal = Removal::none;
  std::vector<std::string> survivors;  // queued addresses re-injected on a split
  // On a split: queued messages that may be this message's copy from a run
  // killed after re-injecting (same sender, exactly the survivors, not
  // older); the executor checks their X-ETRN-Sweeper-Reinjected header.
  std::vector<std::string> copy_candidates;

  bool has(RecipientAction a) const;
  bool changes_something() const;
  // Some recipient keeps waiting for its site.
  bool keeps_waiting() const;
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

}  // namespace etrn
