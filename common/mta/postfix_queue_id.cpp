// postfix_queue_id.cpp - the two queue ID shapes of src/global/mail_queue.h.
#include "common/mta/postfix_queue_id.hpp"

#include <algorithm>

namespace etrn {

namespace {

constexpr std::size_t kShortUsecDigits = 5;  // MQID_SH_USEC_PAD
constexpr std::size_t kLongSecDigits = 6;    // MQID_LG_SEC_PAD (a minimum)
constexpr std::size_t kLongUsecDigits = 4;   // MQID_LG_USEC_PAD (exact)
constexpr char kLongSeparator = 'z';         // MQID_LG_INUM_SEP

bool is_upper_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

bool is_vowel(char c) {
  switch (c) {
    case 'A':
    case 'E':
    case 'I':
    case 'O':
    case 'U':
    case 'a':
    case 'e':
    case 'i':
    case 'o':
    case 'u':
      return true;
    default:
      return false;
  }
}

// safe_ultostr()'s 52 digits: 0-9 and the consonants of both cases.
bool is_base52(char c) {
  const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  return (c >= '0' && c <= '9') || (letter && !is_vowel(c));
}

bool is_base51(char c) {
  return is_base52(c) && c != kLongSeparator;
}

// Printable rendering of an untrusted string for an error message.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s.substr(0, kMaxQueueIdLength)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') ? c : '?';
  }
  if (s.size() > kMaxQueueIdLength) out += "...";
  return out + "\"";
}

}  // namespace

bool is_short_postfix_queue_id(std::string_view id) {
  return id.size() > kShortUsecDigits && id.size() <= kMaxQueueIdLength &&
         std::all_of(id.begin(), id.end(), is_upper_hex);
}

bool is_long_postfix_queue_id(std::string_view id) {
  if (id.size() > kMaxQueueIdLength) return false;
  const auto sep = id.rfind(kLongSeparator);
  if (sep == std::string_view::npos || sep < kLongSecDigits + kLongUsecDigits) return false;
  const std::string_view time = id.substr(0, sep);
  const std::string_view inode = id.substr(sep + 1);
  return !inode.empty() && std::all_of(time.begin(), time.end(), is_base52) &&
         std::all_of(inode.begin(), inode.end(), is_base51);
}

bool is_postfix_queue_id(std::string_view id) {
  return is_short_postfix_queue_id(id) || is_long_postfix_queue_id(id);
}

Result<std::string> validate_postfix_queue_id(std::string_view id) {
  if (is_postfix_queue_id(id)) return std::string(id);
  return make_error("not a Postfix queue ID: " + quoted(id));
}

}  // namespace etrn
