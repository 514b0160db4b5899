// timeouts.hpp - when a recipient is warned and when it expires (pure).
//
// domain_policy (first matching pattern) over priority over the default.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/config/config.hpp"
#include "common/model/message.hpp"

namespace etrn {

struct Timeouts {
  Seconds expire_after{0};
  Seconds warn_after{0};  // 0: no delay warning
  // "domain_policy <pattern>", "expire_after_urgent", ... (an owned string,
  // so it outlives the Config it came from).
  std::string policy_source;
};

Timeouts timeouts_for(const Config& config, std::string_view domain, Priority priority);

struct Deadlines {
  std::optional<EpochSeconds> warn_at;  // none when warnings are off or warn >= expire
  EpochSeconds expires_at = 0;
};

Deadlines deadlines_for(const Timeouts& t, EpochSeconds arrival_time);

}  // namespace etrn
