// dsn.cpp - assembles the RFC 6522 multipart/report DSN from its parts.
//
// The parts come from dsn_text (plain words), delivery_status (RFC 3464
// fields) and the original message (whole or its header section). This
// file adds the top-level headers, picks Content-Types and transfer
// encodings, and chooses a boundary that provably does not occur in any
// part. Pure: the same DsnInput always gives the same bytes.
#include "common/dsn/dsn.hpp"

#include <optional>
#include <vector>

#include "common/dsn/delivery_status.hpp"
#include "common/dsn/dsn_text.hpp"
#include "common/dsn/header_encoding.hpp"
#include "common/dsn/mime_parts.hpp"
#include "common/util/time_format.hpp"

namespace etrn {

namespace {

constexpr std::size_t kMaxMessageIdOctets = 250;

struct MimePart {
  std::string headers;  // each line LF-terminated
  std::string content;  // LF-terminated unless empty
  std::string_view transfer_encoding = "7bit";
};

bool is_message_id_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= ' ' || u >= 0x7f) return false;
  return std::string_view("<>()[]\\\",;:").find(c) == std::string_view::npos;
}

Status validate_message_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxMessageIdOctets)
    return make_error("DSN Message-ID is empty or too long");
  const std::size_t at = id.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == id.size()) {
    return make_error("DSN Message-ID is not of the form left@right");
  }
  for (const char c : id) {
    if (!is_message_id_char(c)) return make_error("DSN Message-ID contains a character it may not");
  }
  return ok_status();
}

MimePart text_part(const DsnInput& input) {
  const std::string words = describe_dsn_in_words(input);
  MimePart part;
  part.headers = "Content-Description: Notification\n";
  if (is_ascii(words) && identity_transfer_encoding(words) == "7bit") {
    part.headers += "Content-Type: text/plain; charset=us-ascii\n";
    part.content = words;
    return part;
  }
  part.headers +=
      "Content-Type: text/plain; charset=utf-8\n"
      "Content-Transfer-Encoding: quoted-printable\n";
  part.content = quoted_printable_encode(words);
  return part;
}

MimePart status_part(const DsnInput& input, std::string fields) {
  MimePart part;
  part.headers = "Content-Description: Delivery report\n";
  part.headers += input.envelope.smtputf8 ? "Content-Type: message/global-delivery-status\n"
                                          : "Content-Type: message/delivery-status\n";
  part.transfer_encoding = identity_transfer_encoding(fields);
  part.content = std::move(fields);
  return part;
}

bool return_headers_only(const DsnInput& input) {
  return input.envelope.ret == ReturnContent::headers || input.original_is_headers_only ||
         input.original.size() > input.size_limit;
}

// The returned message (LF line ends), whole or only its header section.
MimePart returned_part(const std::string& message, bool headers_only, bool global, DsnKind kind) {
  MimePart part;
  part.content = headers_only ? header_section(message) : message;
  const char* type = nullptr;
  if (global) {
    type = headers_only ? "message/global-headers" : "message/global";
  } else {
    type = headers_only ? "text/rfc822-headers" : "message/rfc822";
  }
  const char* description = headers_only ? "Undelivered Message Headers" : "Undelivered Message";
  if (kind == DsnKind::delayed) {
    description = headers_only ? "Delayed Message Headers" : "Delayed Message";
  }
  part.headers = std::string("Content-Description: ") + description + "\n";
  part.headers += std::string("Content-Type: ") + type + "\n";
  part.transfer_encoding = identity_transfer_encoding(part.content);
  return part;
}

MimePart original_part(const DsnInput& input) {
  return returned_part(normalize_line_ends(input.original), return_headers_only(input),
                       input.envelope.smtputf8, input.kind);
}

std::string_view widest_encoding(const std::vector<MimePart>& parts) {
  std::string_view widest = "7bit";
  for (const MimePart& part : parts) {
    if (part.transfer_encoding == "binary") return "binary";
    if (part.transfer_encoding == "8bit") widest = "8bit";
  }
  return widest;
}

bool occurs_in_parts(const std::string& delimiter, const std::vector<MimePart>& parts) {
  for (const MimePart& part : parts) {
    if (part.headers.find(delimiter) != std::string::npos) return true;
    if (part.content.find(delimiter) != std::string::npos) return true;
  }
  return false;
}

// "=_" cannot occur in quoted-printable output, and the counter makes sure
// it does not occur in the original either.
std::string choose_boundary(std::string_view message_id, const std::vector<MimePart>& parts) {
  std::string base = "=_ETRN_";
  for (const char c : message_id.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    const bool safe = (u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
                      c == '.' || c == '-';
    base += safe ? c : '_';
  }
  for (unsigned counter = 0;; ++counter) {
    std::string boundary = base + "_" + std::to_string(counter);
    if (!occurs_in_parts("--" + boundary, parts)) return boundary;
  }
}

std::string top_level_headers(const DsnInput& input, const std::string& to,
                              const std::string& boundary, std::string_view transfer_encoding) {
  std::string out;
  out += "From: Mail Delivery System <MAILER-DAEMON@" +
         std::string(reporting_host_name(input.reporting_mta)) + ">\n";
  out += "To: <" + to + ">\n";
  out += "Date: " + format_rfc5322_date(input.now) + "\n";
  out += "Message-ID: <" + input.message_id + ">\n";
  out += input.kind == DsnKind::failed ? "Subject: Undelivered Mail Returned to Sender\n"
                                       : "Subject: Delayed Mail (still being retried)\n";
  out += "Auto-Submitted: auto-replied\n";
  out += "MIME-Version: 1.0\n";
  out += "Content-Type: multipart/report; report-type=delivery-status;\n";
  out += "\tboundary=\"" + boundary + "\"\n";
  if (transfer_encoding != "7bit") {
    out += "Content-Transfer-Encoding: " + std::string(transfer_encoding) + "\n";
  }
  if (!input.queue_id.empty() && input.queue_id.size() <= 64 && is_valid_hostname(input.queue_id) &&
      input.queue_id.find('.') == std::string::npos) {
    out += "X-ETRN-Sweeper-Queue-ID: " + input.queue_id + "\n";
  }
  return out;
}

std::string part_text(const std::string& boundary, const MimePart& part) {
  std::string out = "\n--" + boundary + "\n";
  out += part.headers;
  if (part.transfer_encoding != "7bit") {
    out += "Content-Transfer-Encoding: " + std::string(part.transfer_encoding) + "\n";
  }
  out += "\n";
  out += part.content;
  return out;
}

std::string closing_delimiter(const std::string& boundary) {
  return "\n--" + boundary + "--\n";
}

std::string assemble(const std::string& headers, const std::string& boundary,
                     const std::vector<MimePart>& parts) {
  std::string out = headers;
  out += "\nThis is a MIME-encapsulated message.\n";
  for (const MimePart& part : parts) out += part_text(boundary, part);
  out += closing_delimiter(boundary);
  return out;
}

// The boundary="..." of a DSN this builder made.
std::optional<std::string> boundary_of(std::string_view dsn_text) {
  constexpr std::string_view marker = "\tboundary=\"";
  const std::size_t at = dsn_text.find(marker);
  const std::size_t blank = dsn_text.find("\n\n");
  if (at == std::string_view::npos || at > blank) return std::nullopt;
  const std::size_t start = at + marker.size();
  const std::size_t end = dsn_text.find('"', start);
  if (end == std::string_view::npos) return std::nullopt;
  return std::string(dsn_text.substr(start, end - start));
}

}  // namespace

Result<std::string> headers_only_dsn(std::string_view dsn_text) {
  const auto boundary = boundary_of(dsn_text);
  if (!boundary) return make_error("not a DSN this program built (no boundary)");
  const std::string delimiter = "\n--" + *boundary + "\n";
  const std::string closing = closing_delimiter(*boundary);
  const std::size_t last = dsn_text.rfind(delimiter);
  if (last == std::string_view::npos || !dsn_text.ends_with(closing))
    return make_error("not a DSN this program built (no parts)");
  const std::size_t body = last + delimiter.size();
  const std::size_t blank = dsn_text.find("\n\n", body - 1);
  const std::string_view headers = dsn_text.substr(body, blank + 1 - body);
  const bool global = headers.find("Content-Type: message/global\n") != std::string_view::npos;
  if (!global && headers.find("Content-Type: message/rfc822\n") == std::string_view::npos)
    return make_error("the DSN returns no whole message; it has no smaller form");
  const DsnKind kind = headers.find("Delayed Message") != std::string_view::npos ? DsnKind::delayed
                                                                                 : DsnKind::failed;
  const std::string message(
      dsn_text.substr(blank + 2, dsn_text.size() - closing.size() - (blank + 2)));
  std::string out(dsn_text.substr(0, last));
  out += part_text(*boundary, returned_part(message, true, global, kind));
  out += closing;
  return out;
}

Result<std::string> build_dsn(const DsnInput& input) {
  if (input.recipients.empty()) return make_error("a DSN needs at least one recipient");
  ETRN_TRY(validate_message_id(input.message_id));
  const Result<std::string> to = header_addr_spec(input.envelope.sender, input.envelope.smtputf8);
  if (!to) return make_error("cannot address a DSN to the sender: " + to.error().message);
  Result<std::string> fields = delivery_status_fields(input);
  if (!fields) return fields.error();

  std::vector<MimePart> parts;
  parts.push_back(text_part(input));
  parts.push_back(status_part(input, std::move(*fields)));
  if (!input.original.empty()) parts.push_back(original_part(input));

  const std::string boundary = choose_boundary(input.message_id, parts);
  const std::string headers = top_level_headers(input, *to, boundary, widest_encoding(parts));
  return assemble(headers, boundary, parts);
}

}  // namespace etrn
