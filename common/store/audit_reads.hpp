// audit_reads.hpp - the reads behind the admin's look-ups: `report` with
// its filters and `history` (one message's story). Read-only; like the
// other store reads they throw DatabaseError (database.hpp, "Errors").
//
// How a story is found: a split re-injects a message's surviving
// recipients under a new queue ID and appends, under the old queue ID, a
// `reinjected` event with the detail "as NEWQID" (move_survivors). The
// story follows those links both ways until no new queue ID turns up.
// Postfix reuses queue IDs (the short ones are inode numbers), so an event
// belongs to the message row of its queue ID that started last before it
// (a re-injected copy starts at the split, not at the original's arrival),
// and only rows in the story, with their events, are shown; rows in the
// order they were written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/model/message_story.hpp"
#include "common/model/recipient_state.hpp"
#include "common/store/database.hpp"
#include "common/store/sweep_store.hpp"

namespace etrn {

struct AuditFilter {
  std::optional<RecipientState> state;
  std::optional<std::string> domain;  // compared without regard to ASCII case
  std::optional<EpochSeconds> changed_since;
  std::optional<std::string> queue_id;
  std::optional<std::int64_t> limit;
  // One host's rows and those that name none; nullopt: every host's.
  std::optional<std::string> instance;
};

// etrn_audit rows that pass every given filter, oldest first.
std::vector<AuditRow> audit_rows(Database& db, const AuditFilter& filter);

enum class LookupKind { queue_id, address, message_id };

// The story of every message the key names (an address may name the
// sender or a recipient of several); empty when nothing is recorded. With
// `instance`, only that host's messages and those that name none. Hosts
// reuse each other's queue IDs: a row, its events and its re-injected
// copies are those of one host.
MessageStory message_story(Database& db, LookupKind kind, const std::string& key,
                           const std::optional<std::string>& instance = std::nullopt);

// The queue ID named by a `reinjected` event's detail ("as NEWQID"), if any.
std::optional<std::string> reinjected_as(const std::string& detail);

// Of all the message rows with the events' queue IDs, which one each event
// belongs to: the row of its queue ID that started last at or before it
// (or the first such row). Pure; `rows` in any order.
std::vector<StoryEvent> events_of(const std::vector<StoryMessage>& story_rows,
                                  const std::vector<StoryMessage>& all_rows_of_those_ids,
                                  const std::vector<StoryEvent>& events);

}  // namespace etrn
