// postgres_text.cpp - see postgres_text.hpp.
#include "common/store/postgres_text.hpp"

#include <cstdint>

namespace etrn {

namespace {

constexpr char32_t kEscape = 0x10FE7F;     // a real U+10FE7F..U+10FEFF follows
constexpr char32_t kFirstByte = 0x10FE80;  // U+10FE80 + (byte - 0x80): a raw byte
constexpr char32_t kLast = 0x10FEFF;

// The length of the valid UTF-8 sequence at text[i] and its code point, or 0.
std::size_t valid_sequence(std::string_view text, std::size_t i, char32_t& code) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) {
    code = lead;
    return 1;
  }
  std::size_t length = 0;
  char32_t min = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, code = lead & 0x1F, min = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, code = lead & 0x0F, min = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, code = lead & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(k) & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

void append_code_point(std::string& out, char32_t code) {  // a plane-16 code point
  out += static_cast<char>(0xF0 | (code >> 18));
  out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
  out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
  out += static_cast<char>(0x80 | (code & 0x3F));
}

bool ours(char32_t code) {
  return code >= kEscape && code <= kLast;
}

}  // namespace

std::string to_postgres_text(std::string_view bytes) {
  bool ascii = true;
  for (const char c : bytes) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) return std::string(bytes);
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    char32_t code = 0;
    const std::size_t length = valid_sequence(bytes, i, code);
    if (length == 0) {
      append_code_point(out, kFirstByte + (static_cast<unsigned char>(bytes[i]) - 0x80));
      i += 1;
      continue;
    }
    if (ours(code)) append_code_point(out, kEscape);
    out.append(bytes.substr(i, length));
    i += length;
  }
  return out;
}

std::string from_postgres_text(std::string_view text) {
  if (text.find("\xF4\x8F") == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    char32_t code = 0;
    const std::size_t length = valid_sequence(text, i, code);
    if (length == 0) {  // not written by to_postgres_text: kept as it is
      out += text[i++];
      continue;
    }
    if (code == kEscape && i + 4 < text.size()) {
      out.append(text.substr(i + 4, 4));
      i += 8;
      continue;
    }
    if (ours(code) && code >= kFirstByte) {
      out += static_cast<char>(0x80 + (code - kFirstByte));
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

}  // namespace etrn
