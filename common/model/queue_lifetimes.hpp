// queue_lifetimes.hpp - how long the MTA itself keeps undeliverable mail
// before it bounces it with its own NDR.
#pragma once

#include <cstdint>
#include <optional>

namespace etrn {

struct QueueLifetimes {
  std::optional<std::int64_t> maximal_queue_lifetime;  // seconds
  std::optional<std::int64_t> bounce_queue_lifetime;   // seconds (null-sender mail)
};

}  // namespace etrn
