// xtext.cpp - RFC 3461 section 4 xtext, used by ENVID and ORCPT.
//
// Decoding is strict about structure ("+" must be followed by two hex
// digits) but lenient about case: "+2b" is accepted like "+2B", because
// some clients send lower case and rejecting it would lose the ENVID for
// no benefit. Encoding always produces upper case.
#include "common/util/xtext.hpp"

namespace etrn {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool needs_encoding(unsigned char c) {
  return c < '!' || c > '~' || c == '+' || c == '=';
}

}  // namespace

Result<std::string> xtext_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '+') {
      out.push_back(c);
      continue;
    }
    const int high = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (high < 0 || low < 0) {
      return make_error("xtext: \"+\" at offset " + std::to_string(i) +
                        " is not followed by two hex digits");
    }
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

std::string xtext_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (needs_encoding(u)) {
      out.push_back('+');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0x0F]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace etrn
