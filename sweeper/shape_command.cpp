// shape_command.cpp - the `shape` command (see shape_command.hpp).
#include "sweeper/shape_command.hpp"

#include <algorithm>
#include <ctime>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "common/util/printable.hpp"
#include "sweeper/report_command.hpp"
#include "sweeper/store_access.hpp"

namespace etrn {

namespace {

constexpr EpochSeconds kMinute = 60;
constexpr EpochSeconds kHour = 3600;
constexpr int kDefaultFirstBucketMinutes = 60;
constexpr int kDefaultBucketCount = 8;

std::size_t bucket_for(const ShapeBuckets& buckets, EpochSeconds age) {
  std::size_t i = 0;
  while (i < buckets.bounds.size() && age >= buckets.bounds[i]) ++i;
  return i;
}

std::string age_words(EpochSeconds seconds) {
  if (seconds % kHour == 0) return std::to_string(seconds / kHour) + "h";
  return std::to_string(seconds / kMinute) + "m";
}

}  // namespace

ShapeBuckets default_shape_buckets() {
  ShapeBuckets buckets;
  for (int hours : {1, 4, 12, 24, 48, 72, 120}) buckets.bounds.push_back(hours * kHour);
  return buckets;
}

ShapeBuckets doubling_shape_buckets(int first_minutes, int count) {
  ShapeBuckets buckets;
  EpochSeconds bound = first_minutes * kMinute;
  for (int i = 0; i + 1 < count; ++i, bound *= 2) buckets.bounds.push_back(bound);
  return buckets;
}

ShapeBuckets shape_buckets_for(const Options& options) {
  if (!options.buckets && !options.first_bucket_minutes) return default_shape_buckets();
  return doubling_shape_buckets(options.first_bucket_minutes.value_or(kDefaultFirstBucketMinutes),
                                options.buckets.value_or(kDefaultBucketCount));
}

std::string bucket_label(const ShapeBuckets& buckets, std::size_t column) {
  if (column >= buckets.bounds.size())
    return buckets.bounds.empty() ? "all" : age_words(buckets.bounds.back()) + "+";
  return "<" + age_words(buckets.bounds[column]);
}

std::vector<ShapeRow> shape_rows(const std::vector<WaitingRecipient>& waiting, EpochSeconds now,
                                 const ShapeBuckets& buckets) {
  const std::size_t columns = buckets.bounds.size() + 1;
  ShapeRow total{"TOTAL", 0, std::vector<int>(columns, 0)};
  std::map<std::string, ShapeRow> by_domain;
  for (const WaitingRecipient& w : waiting) {
    auto [it, inserted] =
        by_domain.try_emplace(w.domain, ShapeRow{w.domain, 0, std::vector<int>(columns, 0)});
    const std::size_t b = bucket_for(buckets, std::max<EpochSeconds>(0, now - w.arrival_time));
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

void print_shape(std::ostream& out, const std::vector<ShapeRow>& rows,
                 const ShapeBuckets& buckets) {
  std::vector<std::vector<std::string>> lines = {{"", "T"}};
  for (std::size_t i = 0; i <= buckets.bounds.size(); ++i)
    lines[0].push_back(bucket_label(buckets, i));
  for (const ShapeRow& row : rows) {
    std::vector<std::string> line = {printable(row.domain), std::to_string(row.total)};
    for (int n : row.buckets) line.push_back(std::to_string(n));
    lines.push_back(std::move(line));
  }
  print_columns(out, lines, 1);
}

void print_shape_json(std::ostream& out, const std::vector<ShapeRow>& rows,
                      const ShapeBuckets& buckets) {
  for (const ShapeRow& row : rows) {
    nlohmann::json columns = nlohmann::json::array();
    for (std::size_t i = 0; i < row.buckets.size(); ++i) {
      nlohmann::json max_age = nullptr;
      if (i < buckets.bounds.size()) max_age = buckets.bounds[i];
      columns.push_back(
          {{"label", bucket_label(buckets, i)}, {"max_age", max_age}, {"count", row.buckets[i]}});
    }
    nlohmann::json line = {{"domain", row.domain}, {"total", row.total}, {"buckets", columns}};
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
}

int run_shape(const Config& config, const Options& options) {
  const ShapeBuckets buckets = shape_buckets_for(options);
  auto db = open_store(config, OpenMode::read_only, ExitCode::io_error);
  const auto instance = audit_instance(config, options.instance, DefaultScope::this_host);
  const auto rows = shape_rows(waiting_recipients(*db, instance), std::time(nullptr), buckets);
  if (options.report_format == ReportFormat::json) {
    print_shape_json(std::cout, rows, buckets);
  } else {
    print_shape(std::cout, rows, buckets);
  }
  return 0;
}

}  // namespace etrn
