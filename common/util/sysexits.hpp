// sysexits.hpp - the exit codes of both programs (interface.md), and the
// one exception type that carries a code from deep inside to main.
#pragma once

#include <stdexcept>
#include <string>

namespace etrn {

enum class ExitCode : int {
  ok = 0,
  usage = 64,        // EX_USAGE
  data_error = 65,   // EX_DATAERR
  unavailable = 69,  // EX_UNAVAILABLE: the MTA is not there
  software = 70,     // EX_SOFTWARE: internal error
  cant_create = 73,  // EX_CANTCREAT
  io_error = 74,     // EX_IOERR
  temp_fail = 75,    // EX_TEMPFAIL: safe to rerun
  config = 78,       // EX_CONFIG
};

inline int to_int(ExitCode code) {
  return static_cast<int>(code);
}

// Thrown for fatal errors; main catches it once, logs what(), exits code().
class FatalError : public std::runtime_error {
 public:
  FatalError(ExitCode code, const std::string& what) : std::runtime_error(what), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

}  // namespace etrn
