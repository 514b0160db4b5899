// message_collector.cpp - parses the envelope and headers the milter sees
// into a MessageRecord (see message_collector.hpp). Pure.
#include "milter/message_collector.hpp"

#include <utility>

#include "common/policy/timeouts.hpp"
#include "common/util/strings.hpp"
#include "common/util/xtext.hpp"

namespace etrn {

namespace {

// An ESMTP parameter "KEYWORD=value" or "KEYWORD" split in two.
struct EsmtpParameter {
  std::string_view keyword;
  std::string_view value;
};

EsmtpParameter split_parameter(std::string_view arg) {
  const auto eq = arg.find('=');
  if (eq == std::string_view::npos) return {trim(arg), {}};
  return {trim(arg.substr(0, eq)), trim(arg.substr(eq + 1))};
}

// xtext-decoded, or the text as given when it is not valid xtext.
std::string decode_or_keep(std::string_view text) {
  auto decoded = xtext_decode(text);
  return decoded ? std::move(decoded.value()) : std::string(text);
}

std::string address_of(std::span<const std::string_view> argv) {
  if (argv.empty()) return {};
  return std::string(strip_angle_brackets(trim(argv[0])));
}

// A size in decimal digits only; nothing for anything else (or absurd sizes).
std::optional<std::int64_t> parse_size(std::string_view text) {
  text = trim(text);
  if (text.empty() || text.size() > 15) return std::nullopt;
  std::int64_t size = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    size = size * 10 + (c - '0');
  }
  return size;
}

// The SIZE= parameter of MAIL FROM (RFC 1870), 0 when absent or malformed.
std::int64_t declared_size(std::span<const std::string_view> mail_argv) {
  for (std::size_t i = 1; i < mail_argv.size(); ++i) {
    const auto p = split_parameter(mail_argv[i]);
    if (iequals(p.keyword, "SIZE")) return parse_size(p.value).value_or(0);
  }
  return 0;
}

bool is_recorded_header(std::string_view name) {
  const auto n = trim(name);
  return iequals(n, "Message-ID") || iequals(n, "Subject") || iequals(n, kReinjectedHeader) ||
         PriorityDetector::reads(n);
}

}  // namespace

Envelope parse_mail_arguments(std::span<const std::string_view> argv) {
  Envelope out;
  out.sender = address_of(argv);
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const auto p = split_parameter(argv[i]);
    if (iequals(p.keyword, "RET")) {
      out.ret = parse_return_content(p.value);
    } else if (iequals(p.keyword, "ENVID")) {
      out.envid = decode_or_keep(p.value);
    } else if (iequals(p.keyword, "SMTPUTF8")) {
      out.smtputf8 = true;
    }
  }
  return out;
}

RecipientRecord parse_rcpt_arguments(std::span<const std::string_view> argv,
                                     std::string_view mailer) {
  RecipientRecord out;
  out.address = address_of(argv);
  out.domain = domain_of(out.address);
  out.mailer = std::string(trim(mailer));
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const auto p = split_parameter(argv[i]);
    if (iequals(p.keyword, "NOTIFY")) {
      out.dsn.notify = Notify::parse(p.value);
    } else if (iequals(p.keyword, "ORCPT")) {
      out.dsn.orcpt = decode_or_keep(p.value);
    }
  }
  return out;
}

void MessageCollector::begin(std::span<const std::string_view> mail_argv, EpochSeconds arrival_time,
                             std::string_view auth_user) {
  reset();
  started_ = true;
  message_.envelope = parse_mail_arguments(mail_argv);
  message_.size = declared_size(mail_argv);
  message_.arrival_time = arrival_time;
  message_.auth_user = std::string(trim(auth_user));
}

void MessageCollector::add_recipient(std::span<const std::string_view> rcpt_argv,
                                     std::string_view rcpt_mailer) {
  if (!started_) return;  // RCPT without MAIL: nothing to attach it to
  RecipientRecord r = parse_rcpt_arguments(rcpt_argv, rcpt_mailer);
  if (r.address.empty() || !matcher_->is_etrn_only(r.address, r.mailer)) return;
  message_.recipients.push_back(std::move(r));
}

void MessageCollector::add_header(std::string_view name, std::string_view value) {
  if (!is_recorded_header(name)) return;
  priority_.add_header(name, value);
  if (!seen_message_id_ && iequals(name, "Message-ID")) {
    message_.message_id = std::string(trim(value));
    seen_message_id_ = true;
  } else if (iequals(trim(name), kReinjectedHeader)) {
    sweeper_copy_ = true;
  } else if (!seen_subject_ && iequals(name, "Subject")) {
    message_.subject = std::string(trim(value));
    seen_subject_ = true;
  }
}

void MessageCollector::set_queue_id(std::string_view queue_id) {
  const auto id = trim(queue_id);
  if (!id.empty()) message_.queue_id = std::string(id);
}

void MessageCollector::set_size_stated_by_mta(std::string_view msg_size) {
  if (const auto size = parse_size(msg_size)) message_.size = *size;
}

std::optional<MessageRecord> MessageCollector::finish(const ClientInfo& client) const {
  if (!has_a_record()) return std::nullopt;
  MessageRecord out = message_;
  out.priority = priority_.priority();
  out.client_addr = client.addr;
  out.client_name = client.name;
  out.helo = client.helo;
  return out;
}

std::optional<MessageRecord> MessageCollector::take(const ClientInfo& client) {
  if (!has_a_record()) {
    reset();
    return std::nullopt;
  }
  MessageRecord out = std::move(message_);
  out.priority = priority_.priority();
  out.client_addr = client.addr;
  out.client_name = client.name;
  out.helo = client.helo;
  reset();
  return out;
}

void MessageCollector::reset() {
  started_ = false;
  message_ = MessageRecord{};
  priority_ = PriorityDetector{};
  seen_message_id_ = false;
  seen_subject_ = false;
  sweeper_copy_ = false;
}

MessageToRecord with_deadlines(const Config& config, MessageRecord message) {
  MessageToRecord out;
  out.deadlines.reserve(message.recipients.size());
  for (const auto& r : message.recipients) {
    const Timeouts t = timeouts_for(config, r.domain, message.priority);
    out.deadlines.push_back(deadlines_for(t, message.arrival_time));
  }
  out.message = std::move(message);
  return out;
}

}  // namespace etrn
