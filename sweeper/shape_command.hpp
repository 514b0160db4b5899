// shape_command.hpp - `shape`: waiting ETRN mail (states queued and
// warned) per domain by age, like Postfix's qshape, with a TOTAL row.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "common/config/config.hpp"
#include "common/store/sweep_store.hpp"

namespace etrn {

struct ShapeRow {
  std::string domain;
  int total = 0;
  std::vector<int> buckets;  // one per kShapeBucketHours entry, plus the last "older" bucket
};

// Upper bounds of the age buckets, in hours; the last column is older than all.
inline const std::vector<int> kShapeBucketHours = {1, 4, 12, 24, 48, 72, 120};

// TOTAL first, then domains by count (most first), then name (pure).
std::vector<ShapeRow> shape_rows(const std::vector<WaitingRecipient>& waiting, EpochSeconds now);
void print_shape(std::ostream& out, const std::vector<ShapeRow>& rows);

int run_shape(const Config& config);

}  // namespace etrn
