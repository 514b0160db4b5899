// postfix_time.hpp - Postfix time values ("5d", "3600s", "1w") in seconds.
//
// Also postcat's dates ("message_arrival_time: Tue Dec  1 17:24:41 2026",
// C's asctime() in the command's time zone; the adapter runs postcat with
// TZ=UTC, so they are read as UTC).
//
// postconf(5) "time" parameters: a number with an optional unit s m h d w;
// a bare number takes the parameter's default unit (days for
// maximal_queue_lifetime and bounce_queue_lifetime). Postfix accepts only
// one number and one unit.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/mta/mta.hpp"
#include "common/util/epoch_seconds.hpp"
#include "common/util/result.hpp"

namespace etrn {

Result<std::int64_t> parse_postfix_time(std::string_view text, char default_unit);

// "Tue Dec  1 17:24:41 2026" (asctime) as UTC epoch seconds; none if it is
// not that form.
std::optional<EpochSeconds> parse_asctime_utc(std::string_view text);

// The output of `postconf -h maximal_queue_lifetime bounce_queue_lifetime`:
// two lines, in that order.
Result<QueueLifetimes> parse_queue_lifetimes(std::string_view postconf_output);

}  // namespace etrn
