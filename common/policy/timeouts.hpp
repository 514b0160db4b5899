// timeouts.hpp - when a recipient is warned and when it expires (pure).
//
// domain_policy (first matching pattern) over priority over the default.
#pragma once

#include <string>
#include <string_view>

#include "common/config/config.hpp"
#include "common/model/deadlines.hpp"
#include "common/model/priority.hpp"
#include "common/util/epoch_seconds.hpp"

namespace etrn {

struct Timeouts {
  Seconds expire_after{0};
  Seconds warn_after{0};  // 0: no delay warning
  // "domain_policy <pattern>", "expire_after_urgent", ... (an owned string,
  // so it outlives the Config it came from).
  std::string policy_source;
};

Timeouts timeouts_for(const Config& config, std::string_view domain, Priority priority);

Deadlines deadlines_for(const Timeouts& t, EpochSeconds arrival_time);

}  // namespace etrn
