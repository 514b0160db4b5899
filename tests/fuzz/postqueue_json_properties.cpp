// postqueue_json_properties.cpp - the reference the postqueue_json target
// compares parse_postqueue_json_line with: the reader it replaced, which
// built an nlohmann::json document of the line and read its members.
// Whatever the two disagree on (a message or an error, any field of the
// message) is a finding.
#include "tests/fuzz/postqueue_json_properties.hpp"

#include <nlohmann/json.hpp>

#include "common/mta/postfix_queue_id.hpp"
#include "common/mta/postqueue_parser.hpp"

namespace etrn {

namespace {

using nlohmann::json;

Result<std::string> string_member(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_string()) {
    return make_error(std::string("member \"") + name + "\" missing or not a string");
  }
  return it->get<std::string>();
}

Result<std::int64_t> integer_member(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_number_integer()) {
    return make_error(std::string("member \"") + name + "\" missing or not an integer");
  }
  return it->get<std::int64_t>();
}

Result<QueuedRecipient> parse_recipient(const json& entry) {
  if (!entry.is_object()) return make_error("a recipient is not an object");
  auto address = string_member(entry, "address");
  if (!address) return address.error();
  return QueuedRecipient{std::move(*address)};
}

Status parse_recipients(const json& object, QueuedMessage& message) {
  const auto it = object.find("recipients");
  if (it == object.end() || !it->is_array()) {
    return make_error("member \"recipients\" missing or not an array");
  }
  for (const auto& entry : *it) {
    auto recipient = parse_recipient(entry);
    if (!recipient) return recipient.error();
    message.recipients.push_back(std::move(*recipient));
  }
  return ok_status();
}

Result<QueuedMessage> message_from(const json& object) {
  if (!object.is_object()) return make_error("not a JSON object");
  QueuedMessage message;
  auto queue_name = string_member(object, "queue_name");
  auto queue_id = string_member(object, "queue_id");
  auto arrival = integer_member(object, "arrival_time");
  auto sender = string_member(object, "sender");
  if (!queue_name) return queue_name.error();
  if (!queue_id) return queue_id.error();
  if (!arrival) return arrival.error();
  if (!sender) return sender.error();
  auto valid_id = validate_postfix_queue_id(*queue_id);
  if (!valid_id) return valid_id.error();
  message.held = *queue_name == kPostfixHoldQueue;
  // Only deferred and hold mail is still: incoming and active mail may be
  // in delivery right now (an ETRN site collecting it), maildrop mail is
  // not queued yet, corrupt mail is nobody's to touch.
  message.busy = !message.held && *queue_name != kPostfixDeferredQueue;
  message.queue_name = std::move(*queue_name);
  message.queue_id = std::move(*valid_id);
  message.arrival_time = *arrival;
  message.sender = *sender == kPostqueueNullSender ? "" : std::move(*sender);
  if (auto size = integer_member(object, "message_size")) message.size = *size;
  if (const auto it = object.find("forced_expire"); it != object.end() && it->is_boolean()) {
    message.forced_expire = it->get<bool>();
  }
  ETRN_TRY(parse_recipients(object, message));
  return message;
}

}  // namespace

Result<QueuedMessage> reference_postqueue_json_line(std::string_view line) {
  // nlohmann rejects invalid UTF-8 too: such a line is reported, not guessed at.
  const json object = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return make_error("not valid JSON");
  return message_from(object);
}

}  // namespace etrn
