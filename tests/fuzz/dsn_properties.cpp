// dsn_properties.cpp - the checks dsn_properties.hpp describes.
#include "tests/fuzz/dsn_properties.hpp"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/util/xtext.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace etrn::fuzz {

namespace {

constexpr std::size_t kMaxLine = 998;

struct Field {
  std::string name;
  std::string value;  // unfolded, without the blank after the colon
};

bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

bool is_ascii(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// A token that may stand in a field without quoting or encoding.
bool is_plain_token(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u >= 0x7f) return false;
  }
  return true;
}

void check_line(std::string_view line, bool allow_utf8) {
  FUZZ_CHECK(line.size() <= kMaxLine, "a header or field line is at most 998 octets");
  for (const char c : line) {
    FUZZ_CHECK(!is_control(static_cast<unsigned char>(c)) || c == '\t',
               "no control byte but TAB in a header or field line");
  }
  FUZZ_CHECK(allow_utf8 ? is_valid_utf8(line) : is_ascii(line),
             "header and field lines are ASCII (UTF-8 with SMTPUTF8)");
}

// A header section or field group (LF-terminated lines, no blank line).
std::vector<Field> parse_fields(std::string_view section, bool allow_utf8) {
  std::vector<Field> fields;
  for (const std::string_view line : lines_of(section)) {
    check_line(line, allow_utf8);
    FUZZ_CHECK(!line.empty(), "no blank line inside a header section");
    if (is_wsp(line.front())) {
      FUZZ_CHECK(!fields.empty(), "a section does not start with a continuation line");
      FUZZ_CHECK(line.find_first_not_of(" \t") != std::string_view::npos,
                 "a continuation line is not only blanks");
      fields.back().value += line;
      continue;
    }
    const auto colon = line.find(':');
    FUZZ_CHECK(colon != std::string_view::npos && colon > 0, "a line is \"Name: value\"");
    const std::string_view name = line.substr(0, colon);
    for (const char c : name) {
      FUZZ_CHECK(c > ' ' && c < 0x7f, "a field name is printable ASCII");
    }
    FUZZ_CHECK(line.substr(colon + 1).starts_with(" "), "a colon is followed by a blank");
    fields.push_back({std::string(name), std::string(line.substr(colon + 2))});
  }
  return fields;
}

using FieldNames = std::set<std::string, std::less<>>;

// The fields each section may hold (built once: this runs for every input).
const FieldNames kTopLevelFields = {"From",
                                    "To",
                                    "Date",
                                    "Message-ID",
                                    "Subject",
                                    "Auto-Submitted",
                                    "MIME-Version",
                                    "Content-Type",
                                    "Content-Transfer-Encoding",
                                    "X-ETRN-Sweeper-Queue-ID"};
const FieldNames kPartFields = {"Content-Description", "Content-Type", "Content-Transfer-Encoding"};
const FieldNames kPerMessageFields = {"Reporting-MTA", "Original-Envelope-Id", "Arrival-Date"};
const FieldNames kPerRecipientFields = {
    "Final-Recipient", "Original-Recipient", "Action",          "Status",
    "Diagnostic-Code", "Last-Attempt-Date",  "Will-Retry-Until"};

std::map<std::string, std::string> unique_fields(const std::vector<Field>& fields,
                                                 const FieldNames& allowed) {
  std::map<std::string, std::string> out;
  for (const Field& f : fields) {
    FUZZ_CHECK(allowed.contains(f.name), "only the expected fields, nothing injected");
    FUZZ_CHECK(out.emplace(f.name, f.value).second, "each field at most once");
  }
  return out;
}

// text = head + "\n" + rest: the header section and what follows it.
std::pair<std::string_view, std::string_view> split_head(std::string_view text) {
  const auto blank = text.find("\n\n");
  FUZZ_CHECK(blank != std::string_view::npos, "a header section ends with a blank line");
  return {text.substr(0, blank + 1), text.substr(blank + 2)};
}

// The To: addr-spec names the sender: as is, or its local part quoted.
bool names_sender(std::string_view spec, std::string_view sender) {
  if (spec == sender) return true;
  const auto at = spec.rfind('@');
  const auto sender_at = sender.rfind('@');
  if (at == std::string_view::npos || sender_at == std::string_view::npos) return false;
  if (spec.substr(at) != sender.substr(sender_at)) return false;
  const std::string_view quoted = spec.substr(0, at);
  if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"') return false;
  std::string local;
  for (std::size_t i = 1; i + 1 < quoted.size(); ++i) {
    if (quoted[i] == '\\') ++i;
    if (i + 1 < quoted.size()) local += quoted[i];
  }
  return local == sender.substr(0, sender_at);
}

bool is_boundary(std::string_view b) {
  constexpr std::string_view bchars =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";
  return !b.empty() && b.size() <= 70 && b.back() != ' ' &&
         b.find_first_not_of(bchars) == std::string_view::npos;
}

std::string check_top_level(const DsnInput& input, std::string_view headers,
                            std::string& transfer_encoding) {
  const auto fields =
      unique_fields(parse_fields(headers, input.envelope.smtputf8), kTopLevelFields);
  for (const char* name : {"From", "To", "Date", "Message-ID", "Subject", "Auto-Submitted",
                           "MIME-Version", "Content-Type"}) {
    FUZZ_CHECK(fields.contains(name), "every required top-level field is there");
  }
  const std::string& to = fields.at("To");
  FUZZ_CHECK(to.size() > 2 && to.front() == '<' && to.back() == '>', "To: is one <addr-spec>");
  FUZZ_CHECK(names_sender(std::string_view(to).substr(1, to.size() - 2), input.envelope.sender),
             "To: is the envelope sender, quoted where needed");
  FUZZ_CHECK(
      fields.at("Message-ID") == "<" + input.message_id + ">" && is_plain_token(input.message_id),
      "Message-ID: is the one asked for, a plain token");
  const std::string& from = fields.at("From");
  constexpr std::string_view from_prefix = "Mail Delivery System <MAILER-DAEMON@";
  FUZZ_CHECK(from.starts_with(from_prefix) && from.ends_with(">") &&
                 is_plain_token(from.substr(from_prefix.size())) && is_ascii(from),
             "From: is MAILER-DAEMON at a plain host name");
  if (const auto id = fields.find("X-ETRN-Sweeper-Queue-ID"); id != fields.end()) {
    FUZZ_CHECK(id->second == input.queue_id && is_plain_token(id->second) && is_ascii(id->second),
               "the queue ID header is the queue ID, a plain token");
  }
  const auto cte = fields.find("Content-Transfer-Encoding");
  transfer_encoding = cte == fields.end() ? "7bit" : cte->second;
  const std::string& type = fields.at("Content-Type");
  constexpr std::string_view type_prefix =
      "multipart/report; report-type=delivery-status;\tboundary=\"";
  FUZZ_CHECK(type.starts_with(type_prefix) && type.ends_with("\""),
             "Content-Type: multipart/report with a quoted boundary");
  std::string boundary = type.substr(type_prefix.size(), type.size() - type_prefix.size() - 1);
  FUZZ_CHECK(is_boundary(boundary), "the boundary is 1-70 bchars");
  return boundary;
}

// The parts between the delimiter lines; checks that "--boundary" occurs
// nowhere else.
std::vector<std::string_view> parts_of(std::string_view body, const std::string& boundary) {
  const std::string dash = "--" + boundary;
  std::vector<std::size_t> delimiters;
  for (auto at = body.find(dash); at != std::string_view::npos; at = body.find(dash, at + 1)) {
    FUZZ_CHECK(at > 0 && body[at - 1] == '\n', "the boundary occurs only at a line's start");
    delimiters.push_back(at);
  }
  FUZZ_CHECK(!delimiters.empty(), "the body has a closing delimiter");
  FUZZ_CHECK(body.substr(delimiters.back()) == dash + "--\n",
             "the closing delimiter is the body's last line");
  std::vector<std::string_view> parts;
  for (std::size_t i = 0; i + 1 < delimiters.size(); ++i) {
    const std::size_t start = delimiters[i] + dash.size();
    FUZZ_CHECK(body.substr(start, 1) == "\n", "a delimiter line is only the boundary");
    parts.push_back(body.substr(start + 1, delimiters[i + 1] - 1 - (start + 1)));
  }
  return parts;
}

std::size_t longest_line(std::string_view text) {
  std::size_t longest = 0;
  for (const std::string_view line : lines_of(text)) longest = std::max(longest, line.size());
  return longest;
}

int encoding_rank(std::string_view encoding) {
  if (encoding == "7bit" || encoding == "quoted-printable") return 0;
  if (encoding == "8bit") return 1;
  FUZZ_CHECK(encoding == "binary", "a known Content-Transfer-Encoding");
  return 2;
}

void check_encoding(std::string_view content, std::string_view encoding) {
  if (encoding == "binary") return;
  FUZZ_CHECK(content.find('\0') == std::string_view::npos, "no NUL unless binary");
  FUZZ_CHECK(longest_line(content) <= (encoding == "quoted-printable" ? 76 : kMaxLine),
             "content lines fit the transfer encoding");
  if (encoding != "8bit") FUZZ_CHECK(is_ascii(content), "7bit content is ASCII");
}

struct Part {
  std::map<std::string, std::string> headers;
  std::string_view content;
  std::string encoding;
};

Part check_part(std::string_view text, std::string_view message_encoding) {
  const auto [head, content] = split_head(text);
  Part part{unique_fields(parse_fields(head, false), kPartFields), content, "7bit"};
  FUZZ_CHECK(part.headers.contains("Content-Type"), "a part says its Content-Type");
  if (const auto cte = part.headers.find("Content-Transfer-Encoding"); cte != part.headers.end())
    part.encoding = cte->second;
  check_encoding(content, part.encoding);
  FUZZ_CHECK(encoding_rank(part.encoding) <= encoding_rank(message_encoding),
             "the message's transfer encoding covers each part's");
  return part;
}

std::string quoted_printable_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      out += text[i];
    } else if (i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;  // soft line break
    } else {
      FUZZ_CHECK(i + 2 < text.size(), "a quoted-printable escape is complete");
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    }
  }
  return out;
}

void check_words(const Part& part) {
  FUZZ_CHECK(part.headers.at("Content-Type").starts_with("text/plain; charset="),
             "the first part is plain text");
  const std::string words = part.encoding == "quoted-printable"
                                ? quoted_printable_decoded(part.content)
                                : std::string(part.content);
  FUZZ_CHECK(is_valid_utf8(words), "the words are UTF-8");
  for (const char c : words) {
    FUZZ_CHECK(!is_control(static_cast<unsigned char>(c)) || c == '\n',
               "the words hold no control byte but LF");
  }
}

std::string unitext_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto close = text.find('}', i);
    if (text.substr(i, 3) == "\\x{" && close != std::string_view::npos) {
      out +=
          static_cast<char>(std::stoi(std::string(text.substr(i + 3, close - i - 3)), nullptr, 16));
      i = close;
    } else {
      out += text[i];
    }
  }
  return out;
}

// "type; value", where value is the address as is or encoded.
void check_recipient_field(std::string_view field, std::string_view address) {
  const auto semicolon = field.find("; ");
  FUZZ_CHECK(semicolon != std::string_view::npos, "Final-Recipient is \"type; address\"");
  const std::string_view type = field.substr(0, semicolon);
  const std::string_view value = field.substr(semicolon + 2);
  FUZZ_CHECK(value.find_first_of(" \t") == std::string_view::npos,
             "a recipient field has no blank");
  if (type == "x-etrn-truncated") {
    const auto decoded = xtext_decode(value);
    FUZZ_CHECK(decoded && address.starts_with(*decoded), "a truncated recipient is its start");
  } else if (type == "utf-8") {
    FUZZ_CHECK(unitext_decoded(value) == address, "a utf-8 recipient decodes to the address");
  } else {
    FUZZ_CHECK(type == "rfc822", "a recipient's type is rfc822, utf-8 or x-etrn-truncated");
    const auto decoded = xtext_decode(value);
    FUZZ_CHECK(value == address || (decoded && *decoded == address),
               "an rfc822 recipient is the address, as is or xtext");
  }
}

void check_envelope_id(const DsnInput& input, const std::map<std::string, std::string>& fields) {
  const auto envid = fields.find("Original-Envelope-Id");
  if (envid == fields.end()) return;
  FUZZ_CHECK(is_plain_token(envid->second), "Original-Envelope-Id is a plain token");
  const auto decoded = xtext_decode(envid->second);
  FUZZ_CHECK(envid->second == input.envelope.envid || (decoded && *decoded == input.envelope.envid),
             "Original-Envelope-Id is the ENVID, as is or xtext");
}

void check_delivery_status(const DsnInput& input, const Part& part) {
  const bool global = input.envelope.smtputf8;
  FUZZ_CHECK(part.headers.at("Content-Type") ==
                 (global ? "message/global-delivery-status" : "message/delivery-status"),
             "the second part is the delivery status");
  std::vector<std::string_view> groups;
  std::string_view rest = part.content;
  FUZZ_CHECK(rest.ends_with("\n") && !rest.ends_with("\n\n"), "the fields end with one LF");
  for (auto blank = rest.find("\n\n"); blank != std::string_view::npos; blank = rest.find("\n\n")) {
    groups.push_back(rest.substr(0, blank + 1));
    rest.remove_prefix(blank + 2);
  }
  groups.push_back(rest);
  const auto per_message = unique_fields(parse_fields(groups.front(), global), kPerMessageFields);
  FUZZ_CHECK(per_message.contains("Reporting-MTA") && per_message.contains("Arrival-Date"),
             "the per-message fields name the reporting MTA and the arrival");
  check_envelope_id(input, per_message);
  std::size_t group = 1;
  const bool failed = input.kind == DsnKind::failed;
  for (const DsnRecipient& recipient : input.recipients) {
    if (recipient.address.empty()) continue;
    FUZZ_CHECK(group < groups.size(), "a field group for each recipient with an address");
    const auto fields = unique_fields(parse_fields(groups[group++], global), kPerRecipientFields);
    FUZZ_CHECK(fields.contains("Final-Recipient"), "each recipient has its Final-Recipient");
    check_recipient_field(fields.at("Final-Recipient"), recipient.address);
    FUZZ_CHECK(fields.contains("Action") && fields.at("Action") == (failed ? "failed" : "delayed"),
               "Action matches the DSN's kind");
    FUZZ_CHECK(fields.contains("Status") && fields.at("Status") == (failed ? "5.4.7" : "4.4.7"),
               "Status matches the DSN's kind");
  }
  FUZZ_CHECK(group == groups.size(), "no field group but the recipients'");
}

std::string lf_normalized(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      out += text[i];
    } else {
      out += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    }
  }
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out;
}

void check_original(const DsnInput& input, const Part& part) {
  const bool headers_only = input.envelope.ret == ReturnContent::headers ||
                            input.original_is_headers_only ||
                            input.original.size() > input.size_limit;
  const bool global = input.envelope.smtputf8;
  const char* type = headers_only ? (global ? "message/global-headers" : "text/rfc822-headers")
                                  : (global ? "message/global" : "message/rfc822");
  FUZZ_CHECK(part.headers.at("Content-Type") == type, "the original's type follows RET and size");
  std::string expected = lf_normalized(input.original);
  if (headers_only) {
    const auto blank = ("\n" + expected).find("\n\n");
    if (blank != std::string::npos) expected.resize(blank);
  }
  FUZZ_CHECK(part.content == expected,
             "the original comes back whole or as its header section, only its line ends changed");
}

}  // namespace

void check_dsn(const DsnInput& input, std::string_view dsn) {
  FUZZ_CHECK(dsn.find('\r') == std::string_view::npos, "no CR: every line ends with LF alone");
  FUZZ_CHECK(dsn.ends_with("\n"), "the DSN ends with LF");
  const auto [headers, body] = split_head(dsn);
  std::string message_encoding;
  const std::string boundary = check_top_level(input, headers, message_encoding);
  const std::vector<std::string_view> parts = parts_of(body, boundary);
  FUZZ_CHECK(parts.size() == (input.original.empty() ? 2u : 3u),
             "words, status and (when there is one) the original");
  check_words(check_part(parts[0], message_encoding));
  check_delivery_status(input, check_part(parts[1], message_encoding));
  if (parts.size() == 3) check_original(input, check_part(parts[2], message_encoding));
}

}  // namespace etrn::fuzz
