// planner.hpp - what one sweep should do (pure: data in, a Plan out).
//
// Inputs are the recorded messages the sweeper still follows (with their
// recipients and states), the MTA's queue listing, the queue entries to
// adopt with their DSN envelopes, the envelopes of the entries whose
// recipients differ from their record, the configuration and the time to
// act as. The Plan (plan.hpp) is what the executor does and --dry-run
// prints. What must be read from the MTA first is review_queue()'s answer;
// sweep_command's gather() reads it, so the planner itself does no I/O.
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
//
// Matching recorded recipients to queued ones, the way the MTA sees them:
// by address, and where they differ (the MTA rewrote or expanded an
// address after the milter saw it, or added recipients) through the
// original recipient the queue file keeps for each (Postfix's
// original_recipient, Sendmail's ORCPT). A recorded recipient the MTA
// expanded into ETRN recipients (virtual_alias_maps team@ -> a@, b@) is
// followed as those: its row takes the first queued address, the others
// get rows of their own with its state and deadlines, and all keep its
// ORCPT (or "rfc822;" + its address) for the DSN's Original-Recipient.
// An ETRN recipient the message gained (always_bcc, another milter) is
// adopted into the message's row. A recorded recipient that the envelope
// shows is no longer queued departs; without the envelope (it could not
// be read) it waits for the next run.
//
// Waiting for ETRN (for adoption and for recipients the record does not
// follow): the domain matches etrn_domains, or the transport the MTA
// resolves for the address (QueuedRecipient::mailer; Postfix: its
// transport_maps, Sendmail: `sendmail -bv`) is in etrn_transports. The
// delay reason ("deferred transport") decides nothing: any transport in
// defer_transports gives it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
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
// listing is not taken as departed: the milter records it at end of
// message, before the MTA's cleanup has committed the queue file, which
// can take a while after a slow milter or a slow disk.
inline constexpr EpochSeconds kDepartureGrace = 60;

// A queue entry to adopt, with what was read from its queue file.
struct Adoption {
  const QueuedMessage* queued = nullptr;  // its entry in PlanInput::queue
  QueuedEnvelope envelope;
  Priority priority = Priority::normal;  // from its headers (priority_from_headers)
  std::string reinjected_from = {};      // a split's copy: the original's queue ID
};

struct PlanInput {
  EpochSeconds now = 0;       // the time to act as (--now)
  EpochSeconds real_now = 0;  // the clock, for kDepartureGrace
  // The open recorded messages, and closed ones to reopen (RecordedMessage::reopened).
  std::vector<RecordedMessage> recorded;
  // The listing, and the entries a second look found of QueueReview::absent.
  // A recorded message that no entry matches has been looked for twice.
  std::vector<QueuedMessage> queue;
  // The adoption candidates whose queue files could be read.
  std::vector<Adoption> adoptions;
  // Recipients whose DSN is still in the outbox (not sent, not given up):
  // no other DSN is planned for them, and their message is left as it is
  // until it went out.
  std::unordered_set<std::int64_t> in_flight;
  // The envelopes of QueueReview::mismatched that could be read.
  std::unordered_map<const QueuedMessage*, QueuedEnvelope> envelopes;
  // Quiet records (quiet_if_listed_as_recorded) whose entry the listing
  // showed as recorded: neither they nor their entries are above, since
  // the plan would change nothing for them but their MTA arrival time.
  std::vector<ArrivalToStore> arrivals;  // of those whose MTA arrival time is not stored yet
  std::size_t left_out = 0;              // how many entries were left out
};

// What the sweep must learn from the MTA before it can plan (pointers into
// the PlanInput reviewed; each list in queue or record order). gather()
// asks the MTA, adds the answers to the PlanInput and reviews it again.
struct QueueReview {
  // Recorded messages no entry matches, recorded before kDepartureGrace:
  // a second look (Mta::look_again) decides whether they are gone.
  std::vector<const RecordedMessage*> absent;
  // Addresses whose transport decides whether they wait for ETRN
  // (etrn_transports is set, the domain is not in etrn_domains, the
  // listing named no mailer), in entries that no record matches or whose
  // recipients the record does not follow. Each address once.
  std::vector<std::string> unrouted;
  // Entries no record matches with recipients that wait for ETRN: a
  // departed record to reopen, or mail to adopt. Busy entries wait.
  std::vector<const QueuedMessage*> unrecorded;
  // Matched entries whose recipients differ from the record's (a waiting
  // recorded recipient not listed, a listed ETRN recipient not recorded):
  // their envelopes (original_recipient) tie them together.
  std::vector<const QueuedMessage*> mismatched;
};

QueueReview review_queue(const Config& config, const PlanInput& input);

// Does a queue entry's arrival time match a record's (planner.hpp's first rule)?
bool arrival_matches(const std::optional<EpochSeconds>& mta_arrival_time,
                     EpochSeconds match_reference, EpochSeconds queued_arrival_time);

// Would plan_sweep change nothing for `r` but its MTA arrival time, if the
// listing showed exactly one entry for it, with its queue ID, a matching
// arrival time and the record's recipient addresses in the record's order,
// neither busy nor held? Such a record and its entry can be left out of
// the PlanInput (quiet_records.hpp): a quiet queue costs little memory.
bool quiet_if_listed_as_recorded(const Config& config, const PlanInput& input,
                                 const RecordedMessage& r);

// The entries of a second look that are the absent messages (same queue
// ID and arrival time); any other entry is another message.
std::vector<QueuedMessage> found_again(const std::vector<const RecordedMessage*>& absent,
                                       std::vector<QueuedMessage> looked);

Plan plan_sweep(const Config& config, const PlanInput& input);

// A message's priority from its header section (folded lines allowed), as
// the milter computes it for the mail it records.
Priority priority_from_headers(std::string_view headers);

// Warnings for a Postfix whose own queue lifetime would expire ETRN mail
// before the policy does (it would send its own misleading NDR).
std::vector<std::string> lifetime_warnings(const Config& config, const QueueLifetimes& lifetimes);

}  // namespace etrn
