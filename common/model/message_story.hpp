// message_story.hpp - one message's whole recorded story as `history`
// shows it: its message rows (the original and every copy a split
// re-injected under a new queue ID), their recipients and the events of
// their queue IDs. Plain data, read by common/store/audit_reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/util/epoch_seconds.hpp"

namespace etrn {

struct StoryRecipient {
  std::string address;
  std::string state;
  EpochSeconds expires_at = 0;
  EpochSeconds state_changed_at = 0;
};

struct StoryMessage {
  std::int64_t id = 0;
  std::string instance;  // the host whose queue held it ('': not named)
  std::string queue_id;
  EpochSeconds arrival_time = 0;
  std::optional<EpochSeconds> mta_arrival_time;
  EpochSeconds recorded_at = 0;
  std::optional<EpochSeconds> done_at;
  std::string sender;
  std::string message_id;
  std::string subject;
  std::string priority;
  std::string source;  // milter, adopted or reinjected
  std::vector<StoryRecipient> recipients;
};

struct StoryEvent {
  std::int64_t id = 0;
  EpochSeconds at = 0;
  std::string queue_id;
  std::string recipient;
  std::string kind;
  std::string detail;
  std::string instance;  // the host ('': not named)
};

struct MessageStory {
  std::vector<StoryMessage> messages;  // oldest first
  std::vector<StoryEvent> events;      // in time order
};

}  // namespace etrn
