// mime_parts.hpp - the small MIME tools a DSN needs: line-end
// normalisation, the header section of a message, quoted-printable, and
// the Content-Transfer-Encoding a part's content requires.
#pragma once

#include <string>
#include <string_view>

namespace etrn {

// CRLF and lone CR become LF; a non-empty result ends with LF.
std::string normalize_line_ends(std::string_view text);

// The header section of an LF-normalised message, without the blank line
// that ends it (the whole text when there is no blank line).
std::string header_section(std::string_view message);

std::size_t longest_line(std::string_view text);  // in octets, without the LF

// "7bit", "8bit" or "binary" (a NUL, or a line longer than 998 octets), for a part
// whose content is sent as is (RFC 2045 section 6.2).
std::string_view identity_transfer_encoding(std::string_view content);

// RFC 2045 quoted-printable of LF-separated text; output lines <= 76.
std::string quoted_printable_encode(std::string_view text);

}  // namespace etrn
