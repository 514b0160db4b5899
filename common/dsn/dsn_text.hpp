// dsn_text.hpp - the human-readable first part of a DSN: in plain words,
// which recipients, which ETRN site never asked for its mail, how long the
// message waited, under which policy, and (for a delay) until when the
// mail system keeps trying.
#pragma once

#include <string>
#include <string_view>

#include "common/dsn/dsn.hpp"

namespace etrn {

// The explanation as UTF-8 text with LF line ends, wrapped at about 72
// columns where words allow. Untrusted values are made printable (control
// bytes and invalid UTF-8 shown as \xHH) but may be long or non-ASCII:
// the caller picks the transfer encoding.
std::string describe_dsn_in_words(const DsnInput& input);

// `text` with every control byte and every byte that is not part of valid
// UTF-8 replaced by "\xHH", so it can be shown to a person.
std::string printable_text(std::string_view text);

}  // namespace etrn
