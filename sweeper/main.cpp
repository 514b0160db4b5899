// main.cpp - etrn-sweeper: parses the command line and maps a FatalError
// to its exit code (the one place exceptions are caught).
#include <spdlog/spdlog.h>

#include <iostream>
#include <string>
#include <vector>

#include "common/log/log.hpp"
#include "common/util/sysexits.hpp"
#include "sweeper/commands.hpp"
#include "sweeper/options.hpp"

int main(int argc, char** argv) {
  using namespace etrn;
  try {
    setup_logging("etrn-sweeper", LogTarget::stderr_and_syslog, "warning");
    return run_command(parse_options(std::vector<std::string>(argv + 1, argv + argc)));
  } catch (const FatalError& e) {
    spdlog::error("{}", e.what());
    if (e.code() == ExitCode::usage) std::cerr << "try etrn-sweeper --help\n";
    return to_int(e.code());
  } catch (const std::exception& e) {
    spdlog::error("internal error: {}", e.what());
    return to_int(ExitCode::software);
  }
}
