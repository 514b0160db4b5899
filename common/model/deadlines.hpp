// deadlines.hpp - when a recorded recipient is warned and when it expires
// (policy/timeouts.hpp computes them from the configuration).
#pragma once

#include <optional>

#include "common/util/epoch_seconds.hpp"

namespace etrn {

struct Deadlines {
  std::optional<EpochSeconds> warn_at;  // none when warnings are off or warn >= expire
  EpochSeconds expires_at = 0;
  bool operator==(const Deadlines&) const = default;
};

}  // namespace etrn
