// record_log_line.cpp - see record_log_line.hpp.
#include "common/model/record_log_line.hpp"

#include <algorithm>
#include <string>

#include "common/util/time_format.hpp"

namespace etrn {

LogLine record_log_line(std::string_view action, const MessageToRecord& item) {
  const MessageRecord& message = item.message;
  LogLine line(message.queue_id);
  line.phrase(action)
      .address("from", message.envelope.sender)
      .field("size", std::to_string(message.size))
      .field("nrcpt", std::to_string(message.recipients.size()));
  for (const RecipientRecord& r : message.recipients) line.address("to", r.address);
  line.field("priority", to_string(message.priority));
  const auto earliest = std::min_element(
      item.deadlines.begin(), item.deadlines.end(),
      [](const Deadlines& a, const Deadlines& b) { return a.expires_at < b.expires_at; });
  if (earliest != item.deadlines.end()) line.field("expires", format_iso8601(earliest->expires_at));
  return line;
}

}  // namespace etrn
