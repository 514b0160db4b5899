// postcat_parser.cpp - postcat's record listing into a QueuedEnvelope.
#include "common/mta/postcat_parser.hpp"

#include <charconv>

namespace etrn {

namespace {

constexpr std::string_view kFramePrefix = "*** ";
constexpr std::string_view kEnvelopeStart = "*** ENVELOPE RECORDS ";
constexpr std::string_view kFileEnd = "*** MESSAGE FILE END ";
constexpr std::string_view kNamedAttribute = "named_attribute: ";

constexpr unsigned kDsnRetFull = 1;
constexpr unsigned kDsnRetHdrs = 2;
constexpr unsigned kNotifyNever = 1;
constexpr unsigned kNotifySuccess = 2;
constexpr unsigned kNotifyFailure = 4;
constexpr unsigned kNotifyDelay = 8;
constexpr unsigned kSmtputf8Requested = 1;  // SMTPUTF8_FLAG_REQUESTED
constexpr int kSmtputf8FieldIndex = 5;      // of message_size's fields

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::optional<unsigned> parse_unsigned(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// The n-th whitespace-separated field, or "".
std::string_view field(std::string_view text, int n) {
  for (int i = 0;; ++i) {
    const auto start = text.find_first_not_of(' ');
    if (start == std::string_view::npos) return {};
    text.remove_prefix(start);
    const auto end = std::min(text.find(' '), text.size());
    if (i == n) return text.substr(0, end);
    text.remove_prefix(end);
  }
}

bool is_done_recipient_record(std::string_view name) {
  constexpr std::string_view suffix = "_recipient";
  return name != "original_recipient" && name.size() > suffix.size() &&
         name.substr(name.size() - suffix.size()) == suffix;
}

}  // namespace

Notify notify_from_postfix_mask(unsigned mask) {
  Notify notify;
  notify.given = mask != 0;
  notify.never = (mask & kNotifyNever) != 0;
  notify.success = (mask & kNotifySuccess) != 0;
  notify.failure = (mask & kNotifyFailure) != 0;
  notify.delay = (mask & kNotifyDelay) != 0;
  return notify;
}

void PostcatEnvelopeParser::fail(std::string message) {
  if (!error_) error_ = std::move(message);
}

void PostcatEnvelopeParser::add_line(std::string_view line) {
  if (starts_with(line, kFramePrefix)) {
    saw_envelope_start_ = saw_envelope_start_ || starts_with(line, kEnvelopeStart);
    saw_file_end_ = saw_file_end_ || starts_with(line, kFileEnd);
    return;
  }
  if (starts_with(line, kNamedAttribute)) {
    const std::string_view attribute = line.substr(kNamedAttribute.size());
    const auto eq = attribute.find('=');
    if (eq == std::string_view::npos) return fail("named_attribute without \"=\"");
    return add_record(attribute.substr(0, eq), attribute.substr(eq + 1));
  }
  const auto colon = line.find(": ");
  if (colon == std::string_view::npos) {
    // "sender:" may lose its trailing blank in transit; anything else is noise.
    if (line == "sender:") add_record("sender", "");
    return;
  }
  add_record(line.substr(0, colon), line.substr(colon + 2));
}

void PostcatEnvelopeParser::add_record(std::string_view name, std::string_view value) {
  if (name == "sender") {
    envelope_.sender = std::string(value);
    saw_sender_ = true;
  } else if (name == "envelope_id" || name == "dsn_envelope_id") {
    envelope_.envid = std::string(value);
  } else if (name == "ret_flags" || name == "dsn_return_flags") {
    const auto flags = parse_unsigned(value);
    if (!flags) return fail("bad " + std::string(name) + " \"" + std::string(value) + "\"");
    envelope_.ret = *flags == kDsnRetFull   ? ReturnContent::full
                    : *flags == kDsnRetHdrs ? ReturnContent::headers
                                            : ReturnContent::unspecified;
  } else if (name == "notify_flags" || name == "dsn_notify_flags") {
    const auto flags = parse_unsigned(value);
    if (!flags) return fail("bad " + std::string(name) + " \"" + std::string(value) + "\"");
    pending_notify_ = notify_from_postfix_mask(*flags);
  } else if (name == "dsn_orig_rcpt") {
    pending_orcpt_ = std::string(value);
  } else if (name == "message_size") {
    const auto flags = parse_unsigned(field(value, kSmtputf8FieldIndex));
    envelope_.smtputf8 = flags && (*flags & kSmtputf8Requested) != 0;
  } else if (name == "recipient") {
    add_recipient(value);
  } else if (is_done_recipient_record(name)) {
    pending_notify_ = {};
    pending_orcpt_.clear();
  }
}

void PostcatEnvelopeParser::add_recipient(std::string_view address) {
  envelope_.recipients.push_back({std::string(address), pending_notify_, pending_orcpt_});
  pending_notify_ = {};
  pending_orcpt_.clear();
}

Result<QueuedEnvelope> PostcatEnvelopeParser::finish() {
  if (error_) return make_error("postcat output: " + *error_);
  if (!saw_envelope_start_) return make_error("postcat output: no \"*** ENVELOPE RECORDS\" line");
  if (!saw_file_end_) return make_error("postcat output cut short: no \"*** MESSAGE FILE END\"");
  if (!saw_sender_) return make_error("postcat output: no sender record");
  return envelope_;
}

Result<QueuedEnvelope> parse_postcat_envelope(std::string_view text) {
  PostcatEnvelopeParser parser;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    parser.add_line(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return parser.finish();
}

}  // namespace etrn
