// config_holder.hpp - the configuration the milter currently runs with.
//
// A snapshot (the Config and the EtrnMatcher built from it) is immutable
// and shared: each connection takes the current one when it starts and
// keeps it, so a SIGHUP reload (replace()) never changes the rules in the
// middle of a session.
#pragma once

#include <memory>
#include <mutex>

#include "common/config/config.hpp"
#include "common/policy/etrn_match.hpp"

namespace etrn {

struct ConfigSnapshot {
  explicit ConfigSnapshot(Config c)
      : config(std::move(c)), matcher(config.etrn_domains, config.etrn_transports) {}
  const Config config;
  const EtrnMatcher matcher;
};

class ConfigHolder {
 public:
  explicit ConfigHolder(Config config)
      : current_(std::make_shared<const ConfigSnapshot>(std::move(config))) {}

  std::shared_ptr<const ConfigSnapshot> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void replace(Config config) {
    auto next = std::make_shared<const ConfigSnapshot>(std::move(config));
    std::lock_guard lock(mutex_);
    current_ = std::move(next);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const ConfigSnapshot> current_;
};

}  // namespace etrn
