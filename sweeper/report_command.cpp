// report_command.cpp - the `report` command (see report_command.hpp).
#include "sweeper/report_command.hpp"

#include <iostream>
#include <nlohmann/json.hpp>

#include "common/util/sysexits.hpp"
#include "common/util/time_format.hpp"

namespace etrn {

namespace {

std::string shown_sender(const std::string& sender) {
  return sender.empty() ? "<>" : sender;
}

}  // namespace

std::unique_ptr<Database> open_database_for_reading(const std::string& path) {
  auto db = Database::open(path, OpenMode::read_only);
  if (!db)
    throw FatalError(ExitCode::io_error,
                     "cannot read database " + path + ": " + db.error().message);
  return std::move(db).value();
}

void print_report_text(std::ostream& out, const std::vector<AuditRow>& rows) {
  out << "queue_id arrival_time sender recipient domain priority state expires_at "
         "state_changed_at\n";
  for (const AuditRow& r : rows) {
    out << r.queue_id << ' ' << format_iso8601(r.arrival_time) << ' ' << shown_sender(r.sender)
        << ' ' << r.recipient << ' ' << r.domain << ' ' << r.priority << ' ' << r.state << ' '
        << format_iso8601(r.expires_at) << ' ' << format_iso8601(r.state_changed_at) << '\n';
  }
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
                           {"state_changed_at", r.state_changed_at}};
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
}

int run_report(const Config& config, ReportFormat format, const std::optional<std::string>& state) {
  std::optional<RecipientState> wanted;
  if (state) {
    wanted = parse_recipient_state(*state);
    if (!wanted) {
      throw FatalError(
          ExitCode::usage,
          "unknown state '" + *state + "' (want queued, warned, expired, departed or attention)");
    }
  }
  auto db = open_database_for_reading(config.database);
  const auto rows = audit_rows(*db, wanted);
  if (format == ReportFormat::json) {
    print_report_json(std::cout, rows);
  } else {
    print_report_text(std::cout, rows);
  }
  return 0;
}

}  // namespace etrn
