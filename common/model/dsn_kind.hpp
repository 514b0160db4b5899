// dsn_kind.hpp - the two DSNs the sweeper sends: a delay warning (RFC 3464
// Action: delayed) and a failure (Action: failed). The same word names the
// DSN's kind in the outbox and in its Message-ID.
#pragma once

#include <optional>
#include <string_view>

namespace etrn {

enum class DsnKind { delayed, failed };

// "delayed" or "failed".
std::string_view to_string(DsnKind kind);
std::optional<DsnKind> parse_dsn_kind(std::string_view name);

}  // namespace etrn
