// commands.hpp - from parsed options to a command's exit code: loads the
// configuration (with the command-line overrides), sets up logging, and
// runs sweep, report, shape, history or check-config; --help shows the
// overview, COMMAND --help that command's own help.
#pragma once

#include "sweeper/options.hpp"

namespace etrn {

int run_command(const Options& options);

}  // namespace etrn
