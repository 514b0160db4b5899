// recipient_state.hpp - the audit states of a recorded recipient
// (interface.md: the `state` column of etrn_audit).
#pragma once

#include <optional>
#include <string_view>

namespace etrn {

// attention: its failure DSN was refused even as headers only (or could not
// be built); the message is kept on hold and the postmaster was told. The
// sweeper does nothing more with it until a person releases or deletes it.
enum class RecipientState { queued, warned, expired, departed, attention };

std::string_view to_string(RecipientState s);
std::optional<RecipientState> parse_recipient_state(std::string_view name);

// Queued or warned: still in the queue, waiting for its site to ask.
bool is_waiting(RecipientState s);
// Waiting, or in attention: the sweeper expects it in the queue still, and
// records its departure when it leaves.
bool is_still_queued(RecipientState s);

}  // namespace etrn
