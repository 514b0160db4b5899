// postfix_time.hpp - Postfix time values ("5d", "3600s", "1w") in seconds.
//
// postconf(5) "time" parameters: a number with an optional unit s m h d w;
// a bare number takes the parameter's default unit (days for
// maximal_queue_lifetime and bounce_queue_lifetime). Postfix accepts only
// one number and one unit.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/mta/mta.hpp"
#include "common/util/result.hpp"

namespace etrn {

Result<std::int64_t> parse_postfix_time(std::string_view text, char default_unit);

// The output of `postconf -h maximal_queue_lifetime bounce_queue_lifetime`:
// two lines, in that order.
Result<QueueLifetimes> parse_queue_lifetimes(std::string_view postconf_output);

}  // namespace etrn
