// xtext.hpp - RFC 3461 xtext ("+" followed by two upper-case hex digits).
#pragma once

#include <string>
#include <string_view>

#include "common/util/result.hpp"

namespace etrn {

// Decodes xtext; a malformed "+" sequence is an error.
Result<std::string> xtext_decode(std::string_view text);
// Encodes every byte outside "!".."~", and "+" and "=".
std::string xtext_encode(std::string_view text);

}  // namespace etrn
