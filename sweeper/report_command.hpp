// report_command.hpp - `report`: the etrn_audit rows, one line each, as
// aligned text columns (envelope data made printable) or (--json) one
// JSON object per line with the view's column names. Filters: --state,
// --domain, --since TIME (state changed then or later), --queue-id (checked
// to be one), --limit N (the first N, oldest first) and --instance (whose
// rows: every host's unless one is named). The host is the last column.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "common/config/config.hpp"
#include "common/store/audit_reads.hpp"
#include "common/store/sweep_store.hpp"
#include "sweeper/options.hpp"

namespace etrn {

void print_report_text(std::ostream& out, const std::vector<AuditRow>& rows);
void print_report_json(std::ostream& out, const std::vector<AuditRow>& rows);

// The filter the options ask for; FatalError(usage) for a bad state, time or queue ID.
AuditFilter audit_filter(const Options& options, MtaKind mta, EpochSeconds real_now);

int run_report(const Config& config, const Options& options);

// Lines of cells as columns padded to the widest cell; no line ends in
// spaces. Cells are left-aligned; with `numbers_from`, the columns from
// that one on are right-aligned, as counts read best.
void print_columns(std::ostream& out, const std::vector<std::vector<std::string>>& lines,
                   std::size_t numbers_from = SIZE_MAX);

}  // namespace etrn
