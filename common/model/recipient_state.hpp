// recipient_state.hpp - the audit states of a recorded recipient
// (interface.md: the `state` column of etrn_audit).
#pragma once

#include <optional>
#include <string_view>

namespace etrn {

enum class RecipientState { queued, warned, expired, departed };

std::string_view to_string(RecipientState s);
std::optional<RecipientState> parse_recipient_state(std::string_view name);

// Queued or warned: still in the queue, waiting for its site to ask.
bool is_waiting(RecipientState s);

}  // namespace etrn
