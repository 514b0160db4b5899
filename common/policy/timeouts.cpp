// timeouts.cpp - when a recipient is warned and when it expires (pure).
//
// The first domain_policy whose pattern matches supplies expire_after
// and/or warn_after; whatever it leaves out falls back separately to the
// priority's expire_after_* and the global warn_after.
#include "common/policy/timeouts.hpp"

#include <limits>

#include "common/policy/etrn_match.hpp"

namespace etrn {

namespace {

struct Source {
  Seconds value;
  const char* name;
};

Source expire_for_priority(const Config& config, Priority priority) {
  switch (priority) {
    case Priority::urgent:
      return {config.expire_after_urgent, "expire_after_urgent"};
    case Priority::non_urgent:
      return {config.expire_after_non_urgent, "expire_after_non_urgent"};
    case Priority::normal:
      break;
  }
  return {config.expire_after, "expire_after"};
}

const DomainPolicy* policy_for(const Config& config, std::string_view domain) {
  const auto d = normalize_domain(domain);
  for (const auto& policy : config.domain_policies) {
    if (domain_matches(d, policy.pattern)) return &policy;
  }
  return nullptr;
}

}  // namespace

Timeouts timeouts_for(const Config& config, std::string_view domain, Priority priority) {
  const auto by_priority = expire_for_priority(config, priority);
  Timeouts t{by_priority.value, config.warn_after, by_priority.name};
  const DomainPolicy* policy = policy_for(config, domain);
  if (policy == nullptr) return t;
  if (!policy->expire_after && !policy->warn_after) return t;
  if (policy->expire_after) t.expire_after = *policy->expire_after;
  if (policy->warn_after) t.warn_after = *policy->warn_after;
  // Say where each half came from when the policy gave only one of them.
  t.policy_source = "domain_policy " + policy->pattern;
  if (!policy->expire_after) t.policy_source += std::string(", ") + by_priority.name;
  if (!policy->warn_after) t.policy_source += ", warn_after";
  return t;
}

namespace {

// arrival + duration, saturating: the configuration keeps durations within
// ten years (kLongestDuration), but an arrival time comes from a queue file
// and must not make the sum overflow.
EpochSeconds later_by(EpochSeconds arrival_time, Seconds duration) {
  EpochSeconds sum = 0;
  if (__builtin_add_overflow(arrival_time, duration.count(), &sum))
    return duration.count() > 0 ? std::numeric_limits<EpochSeconds>::max()
                                : std::numeric_limits<EpochSeconds>::min();
  return sum;
}

}  // namespace

Deadlines deadlines_for(const Timeouts& t, EpochSeconds arrival_time) {
  Deadlines d;
  d.expires_at = later_by(arrival_time, t.expire_after);
  if (t.warn_after.count() > 0 && t.warn_after < t.expire_after) {
    d.warn_at = later_by(arrival_time, t.warn_after);
  }
  return d;
}

}  // namespace etrn
