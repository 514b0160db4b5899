// milter_glue.hpp - the libmilter adapter: the only code that includes
// libmilter/mfapi.h.
//
// It registers the callbacks, opens the socket and runs smfi_main(). The
// callbacks own one ConnectionState per connection (smfi_setpriv), feed a
// MessageCollector, and at end of message hand the record to the
// RecordWriter, which never makes them wait. They never change, reject or
// delay mail: every callback answers continue or accept (or nothing, where
// the MTA agreed to need no reply), except end of message with on_error =
// tempfail when the record could not be queued. No exception leaves a
// callback.
//
// What the MTA is asked to send: no body (SMFIP_NOBODY), no reply to
// connect, HELO, MAIL, RCPT, each header and end of headers (SMFIP_NR_*,
// which libmilter fakes towards an MTA that lacks them); a message without
// an ETRN-only recipient is accepted at DATA (after the last RCPT: only
// then is that known), so the MTA sends nothing more of it.
//
// Stopping: libmilter is never asked to (smfi_stop()). Its stop path
// races by design in Debian's 8.17 (mi_stop_milters() holds M_Mutex and
// waits for L_Mutex, which mi_listener() holds in its select() and
// destroys as soon as it sees the stop flag that mi_stop_milters() set
// before locking; the worker pool's controller likewise destroys its
// mutex and condition under idle workers). Instead the daemon removes the
// socket, waits for the messages in flight, and close_callbacks() turns
// every later callback into a plain "continue" that touches nothing of
// ours; libmilter's threads then end with the process.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/util/epoch_seconds.hpp"
#include "common/util/result.hpp"
#include "milter/config_holder.hpp"
#include "milter/record_writer.hpp"

namespace etrn {

// What the callbacks use; it must outlive close_callbacks().
struct MilterServices {
  ConfigHolder& configs;
  RecordWriter& writer;
  std::function<EpochSeconds()> clock;  // arrival time (taken at MAIL)
};

// smfi_register + smfi_setconn + smfi_opensocket(remove a stale socket).
// Call once, before any thread that libmilter should not own exists.
Status open_milter_socket(MilterServices& services, const std::string& socket_spec);
// smfi_main(): serves until the process exits (or libmilter fails: false).
bool run_milter();
// Removes a unix socket's file, so that the MTA stops connecting (what
// libmilter's own stop would do); inet sockets keep listening.
void stop_listening(const std::string& socket_spec);

// Waits until no message is between MAIL and end of message (or abort)
// on any connection; false on timeout.
bool wait_for_messages_in_progress(std::chrono::milliseconds timeout);
int messages_in_progress();
// From now on callbacks use nothing of ours: returns once the last one
// that had begun has ended.
void close_callbacks();

// The file system path of a "unix:/path" or "local:/path" spec; "" for inet.
std::string unix_socket_path(const std::string& socket_spec);

}  // namespace etrn
