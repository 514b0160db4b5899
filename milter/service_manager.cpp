// service_manager.cpp - sd_notify(3) from libsystemd (see service_manager.hpp).
#include "milter/service_manager.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstring>

namespace etrn {

namespace {

void notify(const std::string& state) {
  // < 0: an error; 0: not run by systemd. Neither stops the milter.
  const int sent = sd_notify(0, state.c_str());
  if (sent < 0) spdlog::warn("telling systemd '{}' failed: {}", state, std::strerror(-sent));
}

}  // namespace

void notify_ready(const std::string& status) {
  notify("READY=1\nSTATUS=" + status);
}

void notify_reloading() {
  notify("RELOADING=1\nSTATUS=reloading the configuration");
}

void notify_stopping(const std::string& status) {
  notify("STOPPING=1\nSTATUS=" + status);
}

}  // namespace etrn
