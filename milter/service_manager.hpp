// service_manager.hpp - telling systemd how the milter is (Type=notify):
// READY=1 once the socket takes connections, RELOADING=1 around a SIGHUP,
// STOPPING=1 when it stops, each with a STATUS= line for systemctl status.
// Outside systemd ($NOTIFY_SOCKET unset) every call does nothing.
#pragma once

#include <string>

namespace etrn {

void notify_ready(const std::string& status);
void notify_reloading();
void notify_stopping(const std::string& status);

}  // namespace etrn
