// config_keys.hpp - the table of every configuration key, defined once.
//
// Each entry gives the key's name, section, default (as written in the
// file), a one-line description, and how to parse a value into a Config
// and render it back. The parser uses it to know valid keys; --help, the
// default configuration file and the man page are generated from it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.hpp"
#include "common/util/result.hpp"

namespace etrn {

enum class ConfigSection { top, milter, sweeper };

// "milter", "sweeper", or "" for the top level.
std::string_view section_name(ConfigSection section);
// "[milter]", "[sweeper]" or "the top level", for messages.
std::string section_label(ConfigSection section);

enum class Repeat { once, many };  // may the key appear more than once?

struct ConfigKey {
  std::string_view name;
  ConfigSection section;
  std::string_view default_text;  // as written in the file; "" = empty
  std::string_view description;   // one line
  Repeat repeat = Repeat::once;
  // Parses and validates one value and stores it (a repeatable key appends).
  Status (*apply)(Config& config, std::string_view value) = nullptr;
  // The current values as text, one per line a file would hold.
  std::vector<std::string> (*render)(const Config& config) = nullptr;
  // A sample value, shown commented out when the key has no default.
  std::string_view example = "";
};

const std::vector<ConfigKey>& config_keys();

// The key named `name` in `section`, or nullptr.
const ConfigKey* find_config_key(ConfigSection section, std::string_view name);
// "database", "milter.socket": the name used for command-line overrides.
std::string qualified_name(const ConfigKey& key);

enum class ConfigRender {
  // A configuration file: every key after a comment with its description,
  // those at their built-in default commented out (the installed file).
  file,
  // Every key as `key = value` under its section (show-config, postconf).
  effective,
  // Only the keys not at their default (show-config -n, postconf -n).
  changed,
};
// `config` as configuration text that parses back to it.
std::string render_config(const Config& config, ConfigRender how);
// The built-in defaults as a commented configuration file (parses cleanly).
std::string render_default_config();

}  // namespace etrn
