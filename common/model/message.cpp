// message.cpp - the few behaviours of the plain message data: NOTIFY text
// (RFC 3461 section 4.1) and the spelling of audit states.
#include "common/model/message.hpp"

#include <array>
#include <utility>

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

namespace {

constexpr std::array<std::pair<RecipientState, std::string_view>, 4> kStateNames{{
    {RecipientState::queued, "queued"},
    {RecipientState::warned, "warned"},
    {RecipientState::expired, "expired"},
    {RecipientState::departed, "departed"},
}};

}  // namespace

std::string_view to_string(RecipientState s) {
  for (const auto& [state, name] : kStateNames) {
    if (state == s) return name;
  }
  return "queued";
}

// Case-insensitive, so `report --state Expired` works too.
std::optional<RecipientState> parse_recipient_state(std::string_view name) {
  for (const auto& [state, spelled] : kStateNames) {
    if (iequals(spelled, trim(name))) return state;
  }
  return std::nullopt;
}

}  // namespace etrn
