// printable.hpp - text from envelopes and headers made safe for a
// terminal: what a sender wrote must not move the cursor, clear the screen
// or forge a line of output. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace etrn {

// `text` with every control character (C0, DEL, and C1 written in UTF-8),
// every byte that is not part of valid UTF-8, and the backslash itself
// written as \xHH (the backslash as \\). Printable ASCII and other UTF-8
// characters are kept.
std::string printable(std::string_view text);

// How many columns `text` (valid UTF-8, as printable() returns) takes:
// one per character.
std::size_t display_width(std::string_view text);

}  // namespace etrn
