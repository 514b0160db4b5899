// report_command.cpp - the `report` command (see report_command.hpp).
#include "sweeper/report_command.hpp"

#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/util/printable.hpp"
#include "common/util/sysexits.hpp"
#include "common/util/time_format.hpp"
#include "sweeper/lookup_key.hpp"
#include "sweeper/store_access.hpp"
#include "sweeper/time_spec.hpp"

namespace etrn {

namespace {

std::string shown_sender(const std::string& sender) {
  return sender.empty() ? "<>" : printable(sender);
}

}  // namespace

void print_columns(std::ostream& out, const std::vector<std::vector<std::string>>& lines,
                   std::size_t numbers_from) {
  std::vector<std::size_t> widths;
  for (const auto& line : lines) {
    widths.resize(std::max(widths.size(), line.size()), 0);
    for (std::size_t i = 0; i < line.size(); ++i)
      widths[i] = std::max(widths[i], display_width(line[i]));
  }
  for (const auto& line : lines) {
    std::string text;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const std::string padding(widths[i] - display_width(line[i]), ' ');
      if (i > 0) text += "  ";
      text += i >= numbers_from ? padding + line[i] : line[i] + padding;
    }
    out << text.substr(0, text.find_last_not_of(' ') + 1) << '\n';
  }
}

void print_report_text(std::ostream& out, const std::vector<AuditRow>& rows) {
  std::vector<std::vector<std::string>> lines = {{"queue_id", "arrival_time", "sender", "recipient",
                                                  "domain", "priority", "state", "expires_at",
                                                  "state_changed_at", "instance"}};
  for (const AuditRow& r : rows) {
    lines.push_back({printable(r.queue_id), format_iso8601(r.arrival_time), shown_sender(r.sender),
                     printable(r.recipient), printable(r.domain), printable(r.priority),
                     printable(r.state), format_iso8601(r.expires_at),
                     format_iso8601(r.state_changed_at), printable(r.instance)});
  }
  print_columns(out, lines);
}

void print_report_json(std::ostream& out, const std::vector<AuditRow>& rows) {
  for (const AuditRow& r : rows) {
    nlohmann::json line = {{"queue_id", r.queue_id},
                           {"arrival_time", r.arrival_time},
                           {"sender", r.sender},
                           {"recipient", r.recipient},
                           {"domain", r.domain},
                           {"priority", r.priority},
                           {"state", r.state},
                           {"expires_at", r.expires_at},
                           {"state_changed_at", r.state_changed_at},
                           {"instance", r.instance}};
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
}

AuditFilter audit_filter(const Options& options, MtaKind mta, EpochSeconds real_now) {
  AuditFilter filter;
  if (options.state) {
    filter.state = parse_recipient_state(*options.state);
    if (!filter.state) {
      throw FatalError(ExitCode::usage,
                       "unknown state '" + printable(*options.state) +
                           "' (want queued, warned, expired, departed or attention)");
    }
  }
  if (options.since) {
    auto since = parse_time_spec(*options.since, real_now);
    if (!since) throw FatalError(ExitCode::usage, "--since: " + since.error().message);
    filter.changed_since = *since;
  }
  if (options.queue_id) {
    auto queue_id = validate_queue_id(*options.queue_id, mta);
    if (!queue_id) throw FatalError(ExitCode::usage, "--queue-id: " + queue_id.error().message);
    filter.queue_id = *queue_id;
  }
  filter.domain = options.domain;
  filter.limit = options.limit;
  return filter;
}

int run_report(const Config& config, const Options& options) {
  AuditFilter filter = audit_filter(options, config.mta, std::time(nullptr));
  filter.instance = audit_instance(config, options.instance, DefaultScope::every_host);
  auto db = open_store(config, OpenMode::read_only, ExitCode::io_error);
  const auto rows = audit_rows(*db, filter);
  if (options.report_format == ReportFormat::json) {
    print_report_json(std::cout, rows);
  } else {
    print_report_text(std::cout, rows);
  }
  return 0;
}

}  // namespace etrn
