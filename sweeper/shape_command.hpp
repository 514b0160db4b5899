// shape_command.hpp - `shape`: waiting ETRN mail (states queued and
// warned) per domain by age, like Postfix's qshape, with a TOTAL row; as
// aligned text or (--json) one JSON object per row. The default age
// columns suit mail that waits days; -b N and -t MINUTES ask for qshape's
// doubling columns instead (the first MINUTES wide, each next one twice
// the one before, the last for everything older).
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/config/config.hpp"
#include "common/store/sweep_store.hpp"
#include "sweeper/options.hpp"

namespace etrn {

// Upper bounds of the age columns, in seconds, ascending; one more column
// counts everything older than the last bound.
struct ShapeBuckets {
  std::vector<EpochSeconds> bounds;
};

struct ShapeRow {
  std::string domain;
  int total = 0;
  std::vector<int> buckets;  // one per bound, plus the last "older" column
};

// 1h, 4h, 12h, 24h, 48h, 72h, 120h.
ShapeBuckets default_shape_buckets();
// `count` columns: bounds first, 2 first, 4 first, ... (the last is "older").
ShapeBuckets doubling_shape_buckets(int first_minutes, int count);
// The buckets the options ask for (default_shape_buckets when neither -b nor -t).
ShapeBuckets shape_buckets_for(const Options& options);
// "<1h", "<90m", ..., and "120h+" for the last column.
std::string bucket_label(const ShapeBuckets& buckets, std::size_t column);

// TOTAL first, then domains by count (most first), then name (pure).
std::vector<ShapeRow> shape_rows(const std::vector<WaitingRecipient>& waiting, EpochSeconds now,
                                 const ShapeBuckets& buckets = default_shape_buckets());
void print_shape(std::ostream& out, const std::vector<ShapeRow>& rows,
                 const ShapeBuckets& buckets = default_shape_buckets());
// {"domain":..., "total":..., "buckets":[{"label":"<1h","max_age":3600,"count":N},...]};
// the last bucket's max_age is null.
void print_shape_json(std::ostream& out, const std::vector<ShapeRow>& rows,
                      const ShapeBuckets& buckets);

int run_shape(const Config& config, const Options& options);

}  // namespace etrn
