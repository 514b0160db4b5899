// config_man.hpp - etrn-sweeper.conf(5) and the installed configuration
// file, both generated from the key table (common/config/config_keys.hpp),
// so the manual and the file can never drift from what the programs parse.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/util/result.hpp"

namespace etrn {

// Escapes text for roff: backslashes, and a leading '.' or '\'' that would
// otherwise start a request.
std::string roff_escape(std::string_view text);

// The whole etrn-sweeper.conf(5) page; `date` and `version` go in .TH.
std::string render_config_man_page(std::string_view version, std::string_view date);

// The configuration file to install: every key with its description and
// value, the built-in defaults except for `overrides` ("milter.socket",
// "unix:/..."), each of which is named in the header with `reason`.
// An override that does not parse is an error.
Result<std::string> render_installed_config(
    const std::vector<std::pair<std::string, std::string>>& overrides, std::string_view reason);

}  // namespace etrn
