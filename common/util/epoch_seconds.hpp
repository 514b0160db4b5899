// epoch_seconds.hpp - a point in time as the database, the MTAs' queue
// listings and the DSNs count it: seconds since 1970-01-01 00:00:00 UTC.
#pragma once

#include <cstdint>

namespace etrn {

using EpochSeconds = std::int64_t;

}  // namespace etrn
