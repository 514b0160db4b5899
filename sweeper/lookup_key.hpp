// lookup_key.hpp - what an admin's look-up argument names (pure): a queue
// ID, an address (it has an @) or a Message-ID (<...>). A queue ID is
// checked with the configured MTA's own validator before anything uses it,
// so a mistyped word is a usage error, never a query or an MTA argument.
#pragma once

#include <string>
#include <string_view>

#include "common/config/config.hpp"
#include "common/store/audit_reads.hpp"
#include "common/util/result.hpp"

namespace etrn {

struct LookupKey {
  LookupKind kind = LookupKind::queue_id;
  std::string text;
};

Result<LookupKey> classify_lookup(std::string_view text, MtaKind mta);

// The queue ID itself, or an error that says which MTA's form it lacks.
Result<std::string> validate_queue_id(std::string_view text, MtaKind mta);

}  // namespace etrn
