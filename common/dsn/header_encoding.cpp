// header_encoding.cpp - validation and encoding of hostile values for DSN
// headers and delivery-status fields (RFC 5322, 3461, 3464, 6531, 6533).
//
// Where RFC 3464 says a generic-address that cannot be represented as is
// must be encoded, we use xtext for ASCII address types and the RFC 6533
// "\x{HEX}" unitext form for the utf-8 type. Encoding happens only when
// needed, so an ordinary "bob+tag@example.com" stays readable.
#include "common/dsn/header_encoding.hpp"

#include <cstdio>

#include "common/util/strings.hpp"
#include "common/util/xtext.hpp"

namespace etrn {

namespace {

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

bool is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 atext, plus UTF-8 bytes when allowed (RFC 6532).
bool is_atext(unsigned char c, bool allow_utf8) {
  if (is_alnum(c)) return true;
  if (c >= 0x80) return allow_utf8;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

bool is_dot_atom(std::string_view text, bool allow_utf8) {
  if (text.empty() || text.front() == '.' || text.back() == '.') return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '.') {
      if (text[i + 1] == '.') return false;
      continue;
    }
    if (!is_atext(c, allow_utf8)) return false;
  }
  return true;
}

// Already an RFC 5322 quoted-string ("john doe", "a\"b"): the external
// form some queues show. Control characters were rejected before.
bool is_quoted_string(std::string_view text) {
  if (text.size() < 2 || text.front() != '"' || text.back() != '"') return false;
  for (std::size_t i = 1; i + 1 < text.size(); ++i) {
    if (text[i] == '"') return false;
    if (text[i] == '\\' && ++i + 1 >= text.size()) return false;  // escapes the closing quote
  }
  return true;
}

std::string quote_local_part(std::string_view local) {
  std::string out = "\"";
  for (const char c : local) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

bool is_field_safe_ascii(std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < '!' || u > '~') return false;
  }
  return true;
}

// Decodes one UTF-8 sequence at text[i]; returns its length, 0 if invalid.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i, char32_t* code_point) {
  const auto lead = static_cast<unsigned char>(text[i]);
  std::size_t length = 0;
  char32_t value = 0;
  if (lead < 0x80) {
    length = 1;
    value = lead;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    value = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    value = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    value = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    const auto c = static_cast<unsigned char>(text[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    value = (value << 6) | (c & 0x3F);
  }
  const bool overlong = (length == 3 && value < 0x800) || (length == 4 && value < 0x10000);
  const bool surrogate = value >= 0xD800 && value <= 0xDFFF;
  if (overlong || surrogate || value > 0x10FFFF) return 0;
  if (code_point != nullptr) *code_point = value;
  return length;
}

// RFC 6533 utf-8-addr-unitext: controls, space, "\", "+" and "=" as \x{HEX}.
std::string unitext_encode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    char32_t code_point = 0;
    const std::size_t length = utf8_sequence_length(text, i, &code_point);
    const auto c = static_cast<unsigned char>(text[i]);
    if (length == 1 && (c <= ' ' || c == 0x7f || c == '\\' || c == '+' || c == '=')) {
      char buffer[16];
      std::snprintf(buffer, sizeof buffer, "\\x{%X}", static_cast<unsigned>(c));
      out += buffer;
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

bool is_valid_label(std::string_view label, bool allow_utf8) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
    return false;
  }
  for (const char c : label) {
    const auto u = static_cast<unsigned char>(c);
    if (!is_alnum(u) && c != '-' && c != '_' && !(allow_utf8 && u >= 0x80)) return false;
  }
  return true;
}

bool is_valid_domain(std::string_view name, bool allow_utf8) {
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    const std::string_view literal = name.substr(1, name.size() - 2);
    if (literal.empty()) return false;
    for (const char c : literal) {
      const auto u = static_cast<unsigned char>(c);
      if (!is_alnum(u) && c != '.' && c != ':') return false;
    }
    return true;
  }
  if (name.empty() || name.size() > 253) return false;
  if (allow_utf8 && !is_valid_utf8(name)) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    const std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!is_valid_label(label, allow_utf8)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool is_address_type(std::string_view type) {
  if (type.empty() || type.size() > 64) return false;
  for (const char c : type) {
    if (!is_alnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

}  // namespace

bool has_control_chars(std::string_view text) {
  for (const char c : text) {
    if (is_control(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

bool is_ascii(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence_length(text, i, nullptr);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

bool is_valid_hostname(std::string_view name) {
  return is_valid_domain(name, false);
}

std::string_view reporting_host_name(std::string_view name) {
  if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
  return name;
}

Result<std::string> header_addr_spec(std::string_view address, bool allow_utf8) {
  if (address.empty()) return make_error("the null sender cannot receive a DSN");
  if (has_control_chars(address)) return make_error("the address contains control characters");
  if (!is_ascii(address) && !(allow_utf8 && is_valid_utf8(address))) {
    return make_error("the address contains 8-bit bytes and the message is not SMTPUTF8");
  }
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0)
    return make_error("the address has no local part and domain");
  const std::string_view local = address.substr(0, at);
  const std::string_view domain = address.substr(at + 1);
  if (!is_valid_domain(domain, allow_utf8)) return make_error("the address has an invalid domain");
  const bool usable = is_dot_atom(local, allow_utf8) || is_quoted_string(local);
  std::string spec = usable ? std::string(local) : quote_local_part(local);
  spec += '@';
  spec += domain;
  if (spec.size() > kMaxFieldValueOctets)
    return make_error("the address is too long for a header line");
  return spec;
}

std::string dsn_recipient_field_value(std::string_view address, bool global) {
  if (global && !is_ascii(address) && is_valid_utf8(address)) {
    return "utf-8; " + unitext_encode(address);
  }
  if (is_field_safe_ascii(address)) return "rfc822; " + std::string(address);
  return "rfc822; " + xtext_encode(address);
}

std::string dsn_truncated_recipient_field_value(std::string_view address) {
  constexpr std::size_t kKeptOctets = 800;
  std::string encoded;
  for (const char c : address) {
    const std::string next = xtext_encode(std::string_view(&c, 1));
    if (encoded.size() + next.size() > kKeptOctets) break;
    encoded += next;
  }
  return "x-etrn-truncated; " + encoded;
}

Result<std::string> dsn_original_recipient_field_value(std::string_view orcpt, bool global) {
  const std::size_t semicolon = orcpt.find(';');
  if (semicolon == std::string_view::npos) return make_error("ORCPT has no address type");
  const std::string_view type = trim(orcpt.substr(0, semicolon));
  const std::string_view address = trim(orcpt.substr(semicolon + 1));
  if (!is_address_type(type)) return make_error("ORCPT address type is not an atom");
  if (address.empty()) return make_error("ORCPT has an empty address");
  std::string encoded;
  if (iequals(type, "utf-8") && global && is_valid_utf8(address)) {
    encoded = unitext_encode(address);
  } else if (is_field_safe_ascii(address)) {
    encoded = std::string(address);
  } else {
    encoded = xtext_encode(address);
  }
  return std::string(type) + "; " + encoded;
}

std::string dsn_envelope_id_value(std::string_view envid) {
  return is_field_safe_ascii(envid) ? std::string(envid) : xtext_encode(envid);
}

std::string fold_header(std::string_view name, std::string_view value) {
  constexpr std::size_t kPreferredLine = 78;
  std::string out(name);
  out += ':';
  std::size_t line_length = out.size();
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t space = value.find(' ', start);
    if (space == std::string_view::npos) space = value.size();
    const std::string_view word = value.substr(start, space - start);
    const bool first_word = start == 0;
    if (!first_word && !word.empty() && line_length + 1 + word.size() > kPreferredLine) {
      out += "\n";
      line_length = 0;
    }
    out += ' ';
    out += word;
    line_length += 1 + word.size();
    start = space + 1;
  }
  out += '\n';
  return out;
}

}  // namespace etrn
