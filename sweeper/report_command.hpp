// report_command.hpp - `report`: the etrn_audit rows, one line each, as
// text or (--json) one JSON object per line with the view's column names;
// `--state S` keeps one state.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "common/config/config.hpp"
#include "common/store/sweep_store.hpp"
#include "sweeper/options.hpp"

namespace etrn {

void print_report_text(std::ostream& out, const std::vector<AuditRow>& rows);
void print_report_json(std::ostream& out, const std::vector<AuditRow>& rows);

int run_report(const Config& config, ReportFormat format, const std::optional<std::string>& state);

// Opens the database read-only for report and shape; FatalError(74) if it cannot.
std::unique_ptr<Database> open_database_for_reading(const std::string& path);

}  // namespace etrn
