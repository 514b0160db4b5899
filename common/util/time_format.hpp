// time_format.hpp - dates and durations as mail and people read them.
//
// Pure functions of an epoch-seconds value: no clock, no locale, no time
// zone database (everything is UTC), so the same input always gives the
// same text in every thread.
#pragma once

#include <string>

#include "common/model/message.hpp"

namespace etrn {

// RFC 5322 date-time in UTC: "Sun, 29 Nov 2026 02:30:58 +0000".
std::string format_rfc5322_date(EpochSeconds t);

// A span in plain words with its two largest units: "2 days 1 hour",
// "3 hours 5 minutes", "45 seconds". Negative spans count as zero.
std::string format_duration_words(EpochSeconds seconds);

}  // namespace etrn
