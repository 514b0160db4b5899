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
#include "common/model/reinjected_copy.hpp"
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
  // Still in the queue after this run (waiting for its site, or in
  // attention): it stays queued (on a split, in the re-injected copy).
  bool keeps_waiting() const;
  // Reported on or taken out of the queue this run: the message must be
  // taken out of delivery first.
  bool acted_on() const;
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
  // The sweeper put it on hold (now, or in a run that died before removing
  // or releasing it): a hold to finish or undo, never an admin's.
  bool held_by_sweeper = false;
  // Held by the sweeper with nothing left to do: put it back (postsuper -H).
  bool release = false;
  // Recorded as held by the sweeper but not held in the queue (released,
  // or a Sendmail lock that ended with its run): the mark goes.
  bool forget_hold = false;
  // Why nothing is reported or removed this run although something is
  // due: a DSN of its is still in the outbox, or a recipient is in attention.
  std::string left_alone_because;
  // A recipient in attention and the message still on hold: a person must act.
  bool needs_person = false;
  std::vector<RecipientPlan> recipients;
  Removal removal = Removal::none;
  std::vector<std::string> survivors;  // queued addresses re-injected on a split
  // On a split: queued messages that may be this message's copies from a
  // run killed after re-injecting (same sender, only survivors, not older);
  // the executor checks their X-ETRN-Sweeper-Reinjected header.
  std::vector<const QueuedMessage*> copy_candidates;  // entries of PlanInput::queue

  bool has(RecipientAction a) const;
  bool changes_something() const;
  // Some recipient keeps waiting for its site.
  bool keeps_waiting() const;
  // Something to report or remove: the expiry protocol takes it out of
  // delivery first.
  bool acts_on_queue() const;
  // Whole removal, a split or nothing, from the addresses the queue holds
  // for it (the listing's, or after the hold the held copy's): fills
  // survivors and removal.
  void decide_removal(const std::vector<std::string>& queued_addresses);
};

// Fits a message's plan to its held copy, read again after the hold (the
// expiry protocol): a recipient no longer in it is left alone (it left
// the queue meanwhile; the next run sees it gone), the DSNs go to the sender
// as the MTA queued it, and survivors and removal follow what the copy holds.
void fit_to_held(MessagePlan& m, const QueuedEnvelope& held);

// Two recorded rows for the same queued message (the milter recorded a
// re-injected message after the sweeper moved its recipients there).
struct Merge {
  std::int64_t keep = 0;  // the older clock
  std::int64_t drop = 0;
};

// A record matched for the first time by an entry the sweep left out
// (PlanInput::arrivals): the MTA's arrival time to store.
struct ArrivalToStore {
  std::int64_t id = 0;
  EpochSeconds mta_arrival_time = 0;
  bool operator==(const ArrivalToStore&) const = default;
};

struct Plan {
  EpochSeconds now = 0;
  std::vector<MessagePlan> messages;
  std::vector<Merge> merges;
  std::vector<ArrivalToStore> arrivals;

  // Does a message split (which looks for copies among all queue entries)?
  bool has_split() const;
};

// The original queue ID a re-injected copy names in its kReinjectedHeader
// (the first such header of the header section), "" for any other message.
std::string reinjected_from(std::string_view headers);

}  // namespace etrn
