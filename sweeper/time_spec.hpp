// time_spec.hpp - the --now TIME argument (pure): epoch seconds, ISO 8601
// UTC or with an offset ("2026-12-01T09:00:00Z", "...+02:00"), or relative
// to the real clock ("+49h", "+3d", "-2h"; Postfix duration units).
#pragma once

#include <string_view>

#include "common/util/epoch_seconds.hpp"
#include "common/util/result.hpp"

namespace etrn {

// `real_now` is the clock's time, used only for relative specifications.
Result<EpochSeconds> parse_time_spec(std::string_view text, EpochSeconds real_now);

}  // namespace etrn
