// recorded_message.hpp - a message the sweeper still follows, as the store
// has it: its envelope, its policy clock and its recorded recipients with
// their states and deadlines. Plain data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/model/deadlines.hpp"
#include "common/model/envelope.hpp"
#include "common/model/priority.hpp"
#include "common/model/recipient_state.hpp"
#include "common/util/epoch_seconds.hpp"

namespace etrn {

struct RecordedRecipient {
  std::int64_t id = 0;
  std::string address;
  std::string domain;
  RecipientDsnParams dsn;
  RecipientState state = RecipientState::queued;
  Deadlines deadlines;  // as recorded (the configuration may have changed since)
  // Departed when its message looked gone, and that message is queued
  // again: `state` is the one it had before (queued or warned).
  bool reopened = false;
};

struct RecordedMessage {
  std::int64_t id = 0;
  std::string queue_id;
  EpochSeconds arrival_time = 0;  // the policy clock
  std::optional<EpochSeconds> mta_arrival_time;
  // Compared with the queue's arrival time while mta_arrival_time is
  // unknown: arrival_time, or for a re-injected message (which keeps the
  // original's clock) the time it was re-injected.
  EpochSeconds match_reference = 0;
  EpochSeconds recorded_at = 0;
  Envelope envelope;  // as the milter saw it at MAIL FROM
  // The sweeper put it on hold (its expiry protocol) and has not yet removed
  // or released it: a hold found in the queue is the sweeper's, not an admin's.
  bool held_by_sweeper = false;
  Priority priority = Priority::normal;
  std::vector<RecordedRecipient> recipients;
  // Closed because it looked gone from the queue, and its queue ID is
  // listed again with the same arrival time: the sweeper follows it again.
  bool reopened = false;
};

}  // namespace etrn
