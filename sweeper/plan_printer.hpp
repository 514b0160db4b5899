// plan_printer.hpp - the text of a sweep plan, for --dry-run (pure).
#pragma once

#include <ostream>

#include "sweeper/plan.hpp"

namespace etrn {

// Only what would change; "nothing to do" when nothing would.
void print_plan(std::ostream& out, const Plan& plan);

}  // namespace etrn
