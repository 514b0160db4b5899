// recipient_state.cpp - the spelling of the audit states.
#include "common/model/recipient_state.hpp"

#include <array>
#include <utility>

#include "common/util/strings.hpp"

namespace etrn {

namespace {

constexpr std::array<std::pair<RecipientState, std::string_view>, 5> kStateNames{{
    {RecipientState::queued, "queued"},
    {RecipientState::warned, "warned"},
    {RecipientState::expired, "expired"},
    {RecipientState::departed, "departed"},
    {RecipientState::attention, "attention"},
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

bool is_waiting(RecipientState s) {
  return s == RecipientState::queued || s == RecipientState::warned;
}

bool is_still_queued(RecipientState s) {
  return is_waiting(s) || s == RecipientState::attention;
}

}  // namespace etrn
