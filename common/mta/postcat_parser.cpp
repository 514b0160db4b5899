// postcat_parser.cpp - postcat's record listing into a QueuedEnvelope.
#include "common/mta/postcat_parser.hpp"

#include <charconv>

#include "common/mta/postfix_time.hpp"

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

// "*** ENVELOPE RECORDS hold/3D08FA723E2 ***" -> "hold" (deferred/3/ID -> "deferred").
std::string queue_of_frame(std::string_view line) {
  line.remove_prefix(kEnvelopeStart.size());
  return std::string(line.substr(0, line.find('/')));
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
    if (starts_with(line, kEnvelopeStart) && !saw_envelope_start_) {
      saw_envelope_start_ = true;
      envelope_.queue_name = queue_of_frame(line);
    }
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
    envelope_.envelope.sender = std::string(value);
    saw_sender_ = true;
  } else if (name == "envelope_id" || name == "dsn_envelope_id") {
    envelope_.envelope.envid = std::string(value);
  } else if (name == "ret_flags" || name == "dsn_return_flags") {
    const auto flags = parse_unsigned(value);
    if (!flags) return fail("bad " + std::string(name) + " \"" + std::string(value) + "\"");
    envelope_.envelope.ret = *flags == kDsnRetFull   ? ReturnContent::full
                             : *flags == kDsnRetHdrs ? ReturnContent::headers
                                                     : ReturnContent::unspecified;
  } else if (name == "notify_flags" || name == "dsn_notify_flags") {
    const auto flags = parse_unsigned(value);
    if (!flags) return fail("bad " + std::string(name) + " \"" + std::string(value) + "\"");
    pending_.dsn.notify = notify_from_postfix_mask(*flags);
  } else if (name == "dsn_orig_rcpt") {
    pending_.dsn.orcpt = std::string(value);
  } else if (name == "original_recipient") {
    pending_.original_recipient = std::string(value);
  } else if (name == "message_arrival_time") {
    envelope_.arrival_time = parse_asctime_utc(value);
  } else if (name == "message_size") {
    const auto flags = parse_unsigned(field(value, kSmtputf8FieldIndex));
    envelope_.envelope.smtputf8 = flags && (*flags & kSmtputf8Requested) != 0;
  } else if (name == "recipient") {
    add_recipient(value);
  } else if (is_done_recipient_record(name)) {
    pending_ = {};
  }
}

void PostcatEnvelopeParser::add_recipient(std::string_view address) {
  pending_.address = std::string(address);
  envelope_.recipients.push_back(std::move(pending_));
  pending_ = {};
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

namespace etrn {

namespace {

constexpr std::string_view kMarkerOpen = "*** ";
constexpr std::string_view kMarkerClose = " ***";
constexpr std::string_view kMarkerKinds[] = {"ENVELOPE RECORDS", "MESSAGE CONTENTS",
                                             "HEADER EXTRACTED", "MESSAGE FILE END"};

// "*** KIND PATH ***" -> {KIND, PATH}; empty KIND if the line is no marker.
std::pair<std::string_view, std::string_view> marker_parts(std::string_view line) {
  // "*** ***" would match both ends with one star run: any sender can put
  // such a line in a body, so the two must not overlap.
  if (line.size() < kMarkerOpen.size() + kMarkerClose.size()) return {};
  if (!line.starts_with(kMarkerOpen) || !line.ends_with(kMarkerClose)) return {};
  line.remove_prefix(kMarkerOpen.size());
  line.remove_suffix(kMarkerClose.size());
  for (std::string_view kind : kMarkerKinds) {
    if (line.size() > kind.size() + 1 && line.starts_with(kind) && line[kind.size()] == ' ')
      return {kind, line.substr(kind.size() + 1)};
  }
  return {};
}

// The path is queue/[hash/...]ID: it must end in "/" + the ID we wait for.
bool names_queue_file(std::string_view path, std::string_view id) {
  return path.size() > id.size() && path.ends_with(id) && path[path.size() - id.size() - 1] == '/';
}

}  // namespace

bool looks_like_postcat_marker(std::string_view line) {
  return !marker_parts(line).first.empty();
}

PostcatContentSplitter::PostcatContentSplitter(std::vector<std::string> queue_ids)
    : queue_ids_(std::move(queue_ids)) {
  contents_.reserve(queue_ids_.size());
  if (queue_ids_.empty()) expect_ = Expect::done;
}

bool PostcatContentSplitter::is_marker_for(std::string_view line, std::string_view kind) const {
  const auto [found_kind, path] = marker_parts(line);
  const std::size_t current = expect_ == Expect::envelope ? contents_.size() : contents_.size() - 1;
  if (found_kind != kind || current >= queue_ids_.size()) return false;
  return names_queue_file(path, queue_ids_[current]);
}

void PostcatContentSplitter::add_line(std::string_view line) {
  if (error_) return;
  const bool marker = looks_like_postcat_marker(line);
  if (marker) ++markers_;
  switch (expect_) {
    case Expect::envelope:
      if (!is_marker_for(line, "ENVELOPE RECORDS")) {
        error_ = "expected the envelope of " + queue_ids_[contents_.size()];
        return;
      }
      contents_.emplace_back();
      envelopes_.emplace_back().add_line(line);
      expect_ = Expect::contents_marker;
      return;
    case Expect::contents_marker:
      if (is_marker_for(line, "MESSAGE CONTENTS"))
        expect_ = Expect::content;
      else if (marker)
        error_ = "unexpected \"" + std::string(line) + "\" in an envelope";
      else
        envelopes_.back().add_line(line);
      return;
    case Expect::content:
      if (is_marker_for(line, "HEADER EXTRACTED")) {
        expect_ = Expect::file_end;
        return;
      }
      contents_.back().append(line);
      contents_.back().push_back('\n');
      return;
    case Expect::file_end:
      if (is_marker_for(line, "MESSAGE FILE END")) {
        envelopes_.back().add_line(line);
        expect_ = contents_.size() == queue_ids_.size() ? Expect::done : Expect::envelope;
      } else if (marker) {
        error_ = "unexpected \"" + std::string(line) + "\" after the content";
      } else {
        envelopes_.back().add_line(line);  // records the content extracted (sendmail -t)
      }
      return;
    case Expect::done:
      error_ = "output after the last message";
      return;
  }
}

PostcatEnvelopeSplitter::PostcatEnvelopeSplitter(std::vector<std::string> queue_ids)
    : queue_ids_(std::move(queue_ids)) {
  envelopes_.reserve(queue_ids_.size());
}

void PostcatEnvelopeSplitter::add_line(std::string_view line) {
  if (error_) return;
  const auto [kind, path] = marker_parts(line);
  if (!kind.empty()) {
    ++markers_;
    const std::size_t at = envelopes_.size();
    const bool starts = kind == "ENVELOPE RECORDS";
    if (starts == current_.has_value() || at >= queue_ids_.size() ||
        !names_queue_file(path, queue_ids_[at])) {
      error_ = "unexpected \"" + std::string(line) + "\"";
      return;
    }
    if (starts) current_.emplace();
  } else if (!current_) {
    error_ = "a record outside a message: \"" + std::string(line) + "\"";
    return;
  }
  current_->add_line(line);
  if (kind != "MESSAGE FILE END") return;
  auto envelope = current_->finish();
  current_.reset();
  if (!envelope) {
    error_ = envelope.error().message;
    return;
  }
  envelopes_.push_back(std::move(*envelope));
}

Result<std::vector<QueuedEnvelope>> PostcatEnvelopeSplitter::finish() {
  if (error_) return make_error("postcat output: " + *error_);
  if (current_ || envelopes_.size() != queue_ids_.size())
    return make_error("postcat output cut short: " + std::to_string(envelopes_.size()) + " of " +
                      std::to_string(queue_ids_.size()) + " envelopes");
  if (markers_ != 4 * queue_ids_.size())
    return make_error("postcat output: more frame marker lines than messages");
  return std::move(envelopes_);
}

Result<std::vector<PostcatMessage>> PostcatContentSplitter::finish() {
  if (error_) return make_error("postcat output: " + *error_);
  if (expect_ != Expect::done)
    return make_error("postcat output cut short: " + std::to_string(contents_.size()) + " of " +
                      std::to_string(queue_ids_.size()) + " messages begun");
  // A marker-like line in some content would have been taken as content
  // above; only the count shows it. Then no split can be trusted.
  if (markers_ != 4 * queue_ids_.size())
    return make_error(
        "postcat output: a message's content has lines that look like postcat's "
        "own frame markers");
  std::vector<PostcatMessage> messages;
  messages.reserve(contents_.size());
  for (std::size_t i = 0; i < contents_.size(); ++i)
    messages.push_back({envelopes_[i].finish(), std::move(contents_[i])});
  return messages;
}

}  // namespace etrn
