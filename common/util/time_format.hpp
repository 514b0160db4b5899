// time_format.hpp - dates and durations as mail and people read them.
//
// Pure functions of an epoch-seconds value: no clock, no locale, no time
// zone database (everything is UTC), so the same input always gives the
// same text in every thread.
#pragma once

#include <string>

#include "common/util/epoch_seconds.hpp"

namespace etrn {

// RFC 5322 date-time in UTC: "Sun, 29 Nov 2026 02:30:58 +0000".
std::string format_rfc5322_date(EpochSeconds t);

// ISO 8601 in UTC, as reports and --dry-run show times: "2026-12-01T09:00:00Z".
std::string format_iso8601(EpochSeconds t);

// to - from, saturated at the ends of the int64 range: a queue file's
// arrival time may be anything, the difference must not overflow.
EpochSeconds seconds_between(EpochSeconds from, EpochSeconds to);

// A span in plain words with its two largest units: "2 days 1 hour",
// "3 hours 5 minutes", "45 seconds". Negative spans count as zero.
std::string format_duration_words(EpochSeconds seconds);

}  // namespace etrn
