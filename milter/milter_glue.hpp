// milter_glue.hpp - the libmilter adapter: the only code that includes
// libmilter/mfapi.h.
//
// It registers the callbacks, opens the socket and runs smfi_main(). The
// callbacks own one ConnectionState per connection (smfi_setpriv), feed a
// MessageCollector, and at end of message hand the record to the
// RecordWriter. They never change, reject or delay mail: every callback
// answers continue/accept, except end of message with on_error = tempfail
// when the record failed. No exception leaves a callback.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/util/epoch_seconds.hpp"
#include "common/util/result.hpp"
#include "milter/config_holder.hpp"
#include "milter/record_writer.hpp"

namespace etrn {

// What the callbacks use; it must outlive run_milter().
struct MilterServices {
  ConfigHolder& configs;
  RecordWriter& writer;
  std::function<EpochSeconds()> clock;  // arrival time (taken at MAIL)
};

// smfi_register + smfi_setconn + smfi_opensocket(remove a stale socket).
// Call once, before any thread that libmilter should not own exists.
Status open_milter_socket(MilterServices& services, const std::string& socket_spec);
// smfi_main(): serves until stop_milter(); returns true on a clean stop.
bool run_milter();
// smfi_stop(): asks run_milter() to return (from any thread), and wakes
// libmilter's listener on `socket_spec` so that it returns at once.
void stop_milter(const std::string& socket_spec);

// Waits until no message is between MAIL and end of message (or abort)
// on any connection; false on timeout. Call before stop_milter().
bool wait_for_messages_in_progress(std::chrono::milliseconds timeout);
int messages_in_progress();

// The file system path of a "unix:/path" or "local:/path" spec; "" for inet.
std::string unix_socket_path(const std::string& socket_spec);

}  // namespace etrn
