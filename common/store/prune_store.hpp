// prune_store.hpp - deleting closed history: by age (history_retention)
// and, on a privacy request, one address's (an erasure).
//
// Closed: a message done (done_at set) whose recipients all expired or
// departed and whose outbox rows were all sent or given up. Its last change
// is the latest of done_at, its recipients' state_changed_at and its
// outbox rows' sent_at / closed_at. Its events are those of its queue ID
// that no other recorded message of that ID (Postfix reuses short IDs)
// could own: none open, none arrived by then; events from before the cutoff whose
// queue ID no recorded message has any more go too (those a reused ID kept
// back, or written after the last change). Open records are never touched:
// they still protect mail in the queue.
//
// Each deleting transaction holds a permit in prune_permit, which the
// schema's triggers require (schema.cpp, version 9), and deletes it again
// before committing. These functions throw DatabaseError.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/store/database.hpp"
#include "common/util/epoch_seconds.hpp"

namespace etrn {

struct PruneCounts {
  std::int64_t messages = 0;
  std::int64_t recipients = 0;
  std::int64_t events = 0;
  std::int64_t outbox = 0;
  std::int64_t runs = 0;  // sweep runs (the runs table) that started before the cutoff
  bool empty() const { return messages + recipients + events + outbox + runs == 0; }
  PruneCounts& operator+=(const PruneCounts& more);
};

// "3 message(s), 5 recipient(s), 12 event(s), 1 outbox row(s), 96 run(s)".
std::string to_string(const PruneCounts& counts);

struct PruneLimits {
  std::int64_t batch = 1000;  // messages per transaction: the milter waits at most one
  // Stop starting batches after this long; the rest is left for the next run.
  std::optional<std::chrono::steady_clock::duration> time_budget;
};

struct PruneResult {
  PruneCounts deleted;
  bool finished = true;  // false: the time budget ran out with closed history left
};

// Deletes the closed history last changed before `cutoff`, one batch of
// messages (then of orphaned events) per transaction, then the sweep runs
// that started before it (monitoring data, not audit), and appends one
// `pruned` event saying how much (none when nothing was deleted).
PruneResult prune_closed_history(Database& db, EpochSeconds cutoff, const PruneLimits& limits,
                                 EpochSeconds now);
// What prune_closed_history would delete, with no limit, found by reading
// only: no write lock on the database (the milter is never held up).
PruneCounts count_closed_history(Database& db, EpochSeconds cutoff);

struct ErasureResult {
  PruneCounts deleted;
  // Recipient rows of the address (as recipient or as sender) on open
  // messages, kept: they still protect queued mail. Erase again once closed.
  std::int64_t kept_open = 0;
};

// Deletes, whatever their age, the closed messages sent by `address`, and
// the recipient rows of `address` on closed messages with their events
// (a message left with no recipient goes too); addresses compare without
// regard to ASCII case. Appends one `erased` event with the counts but not
// the address, and overwrites the deleted content (secure_delete). With
// `dry_run` the same is done and rolled back.
ErasureResult erase_address(Database& db, const std::string& address, EpochSeconds now,
                            bool dry_run);

}  // namespace etrn
