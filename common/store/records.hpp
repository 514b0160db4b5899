// records.hpp - writing what the milter saw: one message, its ETRN-only
// recipients with their deadlines, and a `recorded` event per recipient,
// in one transaction.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "common/model/message.hpp"
#include "common/store/database.hpp"

namespace etrn {

enum class RecordSource { milter, adopted, reinjected };
std::string_view to_string(RecordSource s);

// Records a batch in one transaction (group commit: the milter's writer
// thread passes whatever has queued up). Returns the
// messages' row ids. A message already recorded with the same (queue_id,
// arrival_time) is not duplicated: only recipients not yet recorded for it
// are added, and its existing row id is returned. On any error nothing of
// the batch is kept, and the error is a value (database.hpp, "Errors").
Result<std::vector<std::int64_t>> record_messages(Database& db,
                                                  std::span<const MessageToRecord> batch,
                                                  RecordSource source, EpochSeconds now);
// The same as a step of a transaction the caller owns (the sweeper's
// adoption): throws DatabaseError, or std::invalid_argument for a record
// whose deadlines do not match its recipients.
std::vector<std::int64_t> insert_messages(Database& db, std::span<const MessageToRecord> batch,
                                          RecordSource source, EpochSeconds now);

}  // namespace etrn
