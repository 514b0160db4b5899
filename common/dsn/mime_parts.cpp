// mime_parts.cpp - MIME helpers for building a DSN (RFC 2045, 2046).
//
// The DSN is handed to a sendmail-style command as LF-terminated text, so
// everything here works on LF line ends; the MTA turns them into CRLF.
#include "common/dsn/mime_parts.hpp"

#include <algorithm>

namespace etrn {

namespace {

constexpr std::size_t kMaxLineOctets = 998;
constexpr std::size_t kQuotedPrintableLine = 76;

bool needs_quoting(unsigned char c) {
  return c == '=' || c < ' ' || c > '~';
}

void append_hex_escape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += '=';
  out += kHex[c >> 4];
  out += kHex[c & 0x0F];
}

// One input line (no LF) as quoted-printable lines joined by soft breaks.
std::string quoted_printable_line(std::string_view line) {
  std::string out;
  std::size_t out_line = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    const bool last = i + 1 == line.size();
    const bool trailing_space = last && (c == ' ' || c == '\t');
    std::string token;
    if ((needs_quoting(c) && c != '\t') || trailing_space) {
      append_hex_escape(token, c);
    } else {
      token = static_cast<char>(c);
    }
    // Leave room for the "=" of a soft break.
    if (out_line + token.size() > kQuotedPrintableLine - 1) {
      out += "=\n";
      out_line = 0;
    }
    out += token;
    out_line += token.size();
  }
  return out;
}

}  // namespace

std::string normalize_line_ends(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out += text[i];
    }
  }
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out;
}

std::string header_section(std::string_view message) {
  if (message.starts_with("\n")) return "";
  const std::size_t blank = message.find("\n\n");
  if (blank == std::string_view::npos) return std::string(message);
  return std::string(message.substr(0, blank + 1));
}

std::size_t longest_line(std::string_view text) {
  std::size_t longest = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    longest = std::max(longest, end - start);
    start = end + 1;
  }
  return longest;
}

std::string_view identity_transfer_encoding(std::string_view content) {
  if (longest_line(content) > kMaxLineOctets) return "binary";
  if (content.find('\0') != std::string_view::npos) return "binary";
  for (const char c : content) {
    if (static_cast<unsigned char>(c) >= 0x80) return "8bit";
  }
  return "7bit";
}

std::string quoted_printable_encode(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    const bool has_newline = end != std::string_view::npos;
    if (!has_newline) end = text.size();
    out += quoted_printable_line(text.substr(start, end - start));
    if (has_newline) out += '\n';
    start = end + 1;
  }
  return out;
}

}  // namespace etrn
