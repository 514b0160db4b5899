// action_log.cpp - see action_log.hpp.
#include "sweeper/action_log.hpp"

#include <algorithm>

#include "common/config/config.hpp"
#include "common/util/log_line.hpp"
#include "common/util/strings.hpp"
#include "common/util/time_format.hpp"

namespace etrn {

namespace {

std::string_view status_code(DsnKind kind) {
  return kind == DsnKind::failed ? "5.4.7" : "4.4.7";
}

// ORCPT without its address type ("rfc822;a@b" -> "a@b"), as Postfix's orig_to.
std::string_view original_address(std::string_view orcpt) {
  const std::size_t semicolon = orcpt.find(';');
  return semicolon == std::string_view::npos ? orcpt : orcpt.substr(semicolon + 1);
}

// Postfix's delay=: seconds since the message arrived.
std::string seconds_queued(const MessagePlan& m, EpochSeconds now) {
  return std::to_string(std::max<EpochSeconds>(0, seconds_between(m.arrival_time, now)));
}

// to=, orig_to= (when ORCPT names another address), relay=none, delay=.
LogLine delivery_line(const MessagePlan& m, const RecipientPlan& r, EpochSeconds now) {
  LogLine line(m.queue_id);
  line.address("to", r.address);
  const std::string_view original = original_address(r.dsn.orcpt);
  if (!original.empty() && !iequals(original, r.address)) line.address("orig_to", original);
  line.field("relay", "none");
  line.field("delay", seconds_queued(m, now));
  return line;
}

std::string waited_too_long(const MessagePlan& m, const RecipientPlan& r) {
  const Seconds allowed{
      std::max<EpochSeconds>(0, seconds_between(m.arrival_time, r.deadlines.expires_at))};
  return r.domain + " did not collect its mail with ETRN within " + format_duration(allowed);
}

}  // namespace

std::string recipient_action_line(const MessagePlan& m, const RecipientPlan& r, EpochSeconds now,
                                  std::string_view dsn_message_id) {
  const bool warned = r.action == RecipientAction::warn;
  LogLine line = delivery_line(m, r, now);
  line.field("dsn", status_code(warned ? DsnKind::delayed : DsnKind::failed));
  if (warned) {
    line.status("delayed", "waiting for " + r.domain + " to collect its mail with ETRN until " +
                               format_iso8601(r.deadlines.expires_at));
  } else {
    line.status("expired", waited_too_long(m, r));
  }
  if (dsn_message_id.empty()) {
    if (!r.why.empty()) line.phrase(r.why);
  } else {
    line.phrase(std::string(warned ? "warning sent to sender <" : "returned to sender <") +
                std::string(dsn_message_id) + ">");
  }
  return line.str();
}

std::string departed_line(const MessagePlan& m, const RecipientPlan& r, EpochSeconds now,
                          std::string_view why) {
  LogLine line(m.queue_id);
  line.address("to", r.address);
  line.field("delay", seconds_queued(m, now));
  line.status("departed", why);
  return line.str();
}

std::string adopted_recipient_line(const MessagePlan& m, const RecipientPlan& r) {
  LogLine line(m.queue_id);
  line.address("to", r.address).field("expires", format_iso8601(r.deadlines.expires_at));
  line.status("adopted", "added to the message after the milter saw it");
  return line.str();
}

std::string split_line(std::string_view queue_id, const std::vector<std::string>& copies) {
  std::string ids;
  for (const std::string& id : copies) ids += (ids.empty() ? "" : ", ") + id;
  LogLine line(queue_id);
  line.phrase("split").phrase("survivors requeued as " + ids);
  return line.str();
}

std::string removed_line(const MessagePlan& m) {
  LogLine line(m.queue_id);
  line.phrase(m.removal == Removal::split ? "removed (split: its expired recipients returned)"
                                          : "removed (expired)");
  return line.str();
}

std::string attention_line(std::string_view queue_id, const std::vector<std::string>& recipients,
                           DsnKind kind, std::string_view what, std::string_view advice) {
  LogLine line(queue_id);
  for (const std::string& address : recipients) line.address("to", address);
  line.field("relay", "none").field("dsn", status_code(kind));
  line.status(kind == DsnKind::failed ? "attention" : "warned", what);
  if (!advice.empty()) line.phrase(advice);
  return line.str();
}

}  // namespace etrn
