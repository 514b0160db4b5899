// planner.hpp - what one sweep should do (pure: data in, a Plan out).
//
// Inputs are the recorded messages the sweeper still follows (with their
// recipients and states), the MTA's queue listing, the queue entries to
// adopt with their DSN envelopes, the configuration and the time to act
// as. The Plan (plan.hpp) is what the executor does and --dry-run prints.
//
// Matching a recorded message to a queue entry: same queue ID, and the
// queue's arrival time equal to the recorded mta_arrival_time once known;
// before that, within kArrivalTolerance of the recorded arrival time
// (Postfix reuses short queue IDs, so the ID alone is not enough).
//
// A busy entry (the MTA may be delivering it) is neither acted on, nor
// departed, nor adopted. A message with a DSN in flight or a recipient in
// attention is left alone (departures and new deadlines aside). A message
// the sweeper held in a run that died, with nothing left to do, is
// released.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/config/config.hpp"
#include "common/model/priority.hpp"
#include "common/model/queue_lifetimes.hpp"
#include "common/model/queued_message.hpp"
#include "common/model/recorded_message.hpp"
#include "common/util/epoch_seconds.hpp"
#include "sweeper/plan.hpp"

namespace etrn {

inline constexpr EpochSeconds kArrivalTolerance = 3600;
// A message recorded this recently (real clock) and not (yet) in the queue
// listing is not taken as departed: the milter records it at end of message,
// a moment before the MTA commits the queue file.
inline constexpr EpochSeconds kDepartureGrace = 5;

// A queue entry to adopt, with what was read from its queue file.
struct Adoption {
  const QueuedMessage* queued = nullptr;  // its entry in PlanInput::queue
  QueuedEnvelope envelope;
  Priority priority = Priority::normal;  // from its headers (priority_from_headers)
  std::string reinjected_from;           // a split's copy: the original's queue ID
};

struct PlanInput {
  EpochSeconds now = 0;       // the time to act as (--now)
  EpochSeconds real_now = 0;  // the clock, for kDepartureGrace
  std::vector<RecordedMessage> recorded;
  std::vector<QueuedMessage> queue;
  // The adoption candidates whose queue files could be read.
  std::vector<Adoption> adoptions;
  // Recipients whose DSN is still in the outbox (not sent, not given up):
  // no other DSN is planned for them, and their message is left as it is
  // until it went out.
  std::unordered_set<std::int64_t> in_flight;
};

// Queue entries with ETRN-only recipients that no recorded message
// matches, in queue order (pointers into `queue`): their envelopes and
// headers must be read (postcat -e) to make the Adoptions of PlanInput.
std::vector<const QueuedMessage*> adoption_candidates(const Config& config,
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
