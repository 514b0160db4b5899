// store_copy.hpp - copying a host's SQLite store into a shared PostgreSQL
// store (`etrn-sweeper migrate --to URI`).
//
// Idempotent and resumable: a row is copied only if the target does not
// hold it yet, and the copy commits in transactions of a few hundred
// messages, so a copy that stops half way (killed, the network gone) is
// finished by running it again, and a second full run copies nothing.
// What identifies a row across stores, whose ids differ:
// - a message: (instance, queue_id, arrival_time, sender); it is copied whole in one
//   transaction with its recipients, outbox rows (recipient ids mapped to
//   the new ones) and MTA arrival time, so a message present in the
//   target is present with all of them;
// - an event: all its columns; a row that occurs n times in the source
//   occurs n times in the target afterwards;
// - a run: (started_at, acted_as, finished_at).
// New ids come from the target (its identity columns; the outbox's as the
// sweeper takes them, next_outbox_id). The schema of both is the current one.
// Rows of the source that name no host (instance '', all of a store written
// before schema 11) are copied as `instance`'s: in the shared store every
// row names its host.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "common/store/database.hpp"

namespace etrn {

struct TableCopy {
  std::int64_t copied = 0;   // rows written to the target
  std::int64_t present = 0;  // rows the target already held
};

// Per table: messages, recipients, outbox, mta_arrivals, events, runs.
using StoreCopy = std::map<std::string, TableCopy>;

// Copies what `to` lacks of `from`; `progress` (may be empty) hears the
// counts after each committed transaction. Throws DatabaseError (nothing
// of the transaction in progress is kept).
StoreCopy copy_store(Database& from, Database& to, const std::string& instance,
                     const std::function<void(const StoreCopy&)>& progress = {});

}  // namespace etrn
