// envelope.cpp - the keywords of RFC 3461's NOTIFY (section 4.1) and RET
// (section 4.3).
#include "common/model/envelope.hpp"

#include "common/util/strings.hpp"

namespace etrn {

std::string Notify::to_string() const {
  if (!given) return "";
  if (never) return "NEVER";
  std::string out;
  const auto add = [&out](bool on, const char* word) {
    if (!on) return;
    if (!out.empty()) out += ',';
    out += word;
  };
  add(success, "SUCCESS");
  add(failure, "FAILURE");
  add(delay, "DELAY");
  return out;
}

// Any input counts as "given" (even one with only unknown words), because
// the MTA saw a NOTIFY parameter; words are separated by commas.
Notify Notify::parse(std::string_view text) {
  Notify n;
  n.given = true;
  for (const auto& word : split_list(text, ',')) {
    if (iequals(word, "NEVER"))
      n.never = true;
    else if (iequals(word, "SUCCESS"))
      n.success = true;
    else if (iequals(word, "FAILURE"))
      n.failure = true;
    else if (iequals(word, "DELAY"))
      n.delay = true;
  }
  return n;
}

std::string_view to_string(ReturnContent ret) {
  switch (ret) {
    case ReturnContent::full:
      return "FULL";
    case ReturnContent::headers:
      return "HDRS";
    case ReturnContent::unspecified:
      break;
  }
  return "";
}

ReturnContent parse_return_content(std::string_view keyword) {
  if (iequals(keyword, "HDRS")) return ReturnContent::headers;
  if (iequals(keyword, "FULL")) return ReturnContent::full;
  return ReturnContent::unspecified;
}

}  // namespace etrn
