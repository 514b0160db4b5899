// shape_command.cpp - the `shape` command (see shape_command.hpp).
#include "sweeper/shape_command.hpp"

#include <algorithm>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <map>

#include "sweeper/report_command.hpp"

namespace etrn {

namespace {

std::size_t bucket_for(EpochSeconds age) {
  std::size_t i = 0;
  while (i < kShapeBucketHours.size() && age >= kShapeBucketHours[i] * EpochSeconds{3600}) ++i;
  return i;
}

std::string bucket_label(std::size_t i) {
  if (i == kShapeBucketHours.size()) return std::to_string(kShapeBucketHours.back()) + "h+";
  return "<" + std::to_string(kShapeBucketHours[i]) + "h";
}

}  // namespace

std::vector<ShapeRow> shape_rows(const std::vector<WaitingRecipient>& waiting, EpochSeconds now) {
  const std::size_t columns = kShapeBucketHours.size() + 1;
  ShapeRow total{"TOTAL", 0, std::vector<int>(columns, 0)};
  std::map<std::string, ShapeRow> by_domain;
  for (const WaitingRecipient& w : waiting) {
    auto [it, inserted] =
        by_domain.try_emplace(w.domain, ShapeRow{w.domain, 0, std::vector<int>(columns, 0)});
    const std::size_t b = bucket_for(std::max<EpochSeconds>(0, now - w.arrival_time));
    ++it->second.total, ++it->second.buckets[b];
    ++total.total, ++total.buckets[b];
  }
  std::vector<ShapeRow> rows;
  rows.reserve(by_domain.size());
  for (auto& [domain, row] : by_domain) rows.push_back(std::move(row));
  std::stable_sort(rows.begin(), rows.end(),
                   [](const ShapeRow& a, const ShapeRow& b) { return a.total > b.total; });
  rows.insert(rows.begin(), std::move(total));
  return rows;
}

void print_shape(std::ostream& out, const std::vector<ShapeRow>& rows) {
  std::size_t width = 5;
  for (const ShapeRow& row : rows) width = std::max(width, row.domain.size());
  out << std::left << std::setw(static_cast<int>(width)) << "" << std::right << std::setw(6) << "T";
  for (std::size_t i = 0; i <= kShapeBucketHours.size(); ++i)
    out << std::setw(6) << bucket_label(i);
  out << "\n";
  for (const ShapeRow& row : rows) {
    out << std::left << std::setw(static_cast<int>(width)) << row.domain << std::right
        << std::setw(6) << row.total;
    for (int n : row.buckets) out << std::setw(6) << n;
    out << "\n";
  }
}

int run_shape(const Config& config) {
  auto db = open_database_for_reading(config.database);
  print_shape(std::cout, shape_rows(waiting_recipients(*db), std::time(nullptr)));
  return 0;
}

}  // namespace etrn
