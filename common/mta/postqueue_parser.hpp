// postqueue_parser.hpp - one line of `postqueue -j` into a QueuedMessage.
//
// Postfix 3.1+ prints one JSON object per queued message (postqueue(1)):
// queue_name, queue_id, arrival_time, message_size, forced_expire (3.5+),
// sender, recipients[{address, delay_reason?}]; a message in the hold queue
// is `held`, one in any queue but deferred and hold (incoming, active,
// maildrop, corrupt) is `busy`. Unknown members are ignored, and so is
// delay_reason: nothing the sweeper decides depends on it, and it was the
// largest string kept per queued recipient.
// showq prints the null sender as
// "MAILER-DAEMON" (seen on 3.7: a message sent with MAIL FROM:<> is listed
// so); it is mapped back to "" here. A real envelope sender spelled
// MAILER-DAEMON is always qualified by Postfix's cleanup (append_at_myorigin),
// so the bare name is unambiguous.
#pragma once

#include <optional>
#include <string_view>

#include "common/model/queued_message.hpp"
#include "common/util/result.hpp"

namespace etrn {

inline constexpr std::string_view kPostqueueNullSender = "MAILER-DAEMON";
// The queue of messages put on hold (postsuper -h): QueuedMessage::held.
inline constexpr std::string_view kPostfixHoldQueue = "hold";
// The queue of mail waiting for its next attempt (an ETRN site's mail
// waits here). Every queue but this and hold is listed as busy.
inline constexpr std::string_view kPostfixDeferredQueue = "deferred";

// An error names what is wrong (not JSON, a member missing or of the wrong
// type, an invalid queue ID); the caller logs it and skips the line.
Result<QueuedMessage> parse_postqueue_json_line(std::string_view line);

// The queue ID of a `postqueue -j` line found without parsing the JSON
// (its "queue_id": "ID" member), for a second look that wants a few
// messages of a large queue; none when the line is not so simple, and
// then only parsing it tells. A string value cannot fake the member: its
// quotes are escaped.
std::optional<std::string_view> postqueue_line_queue_id(std::string_view line);

}  // namespace etrn
