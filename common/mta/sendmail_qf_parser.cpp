// sendmail_qf_parser.cpp - qf text into SendmailQf (see the header for the
// format and the rules on damaged files).
#include "common/mta/sendmail_qf_parser.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/util/xtext.hpp"

namespace etrn {

namespace {

// Line types readqf() knows; any other makes Sendmail set the file aside.
constexpr std::string_view kKnownLineTypes = "VTKNPF$SZABQrRHqMCEIdD!Gj";
// Mailer flags of Debian's smtp/esmtp/dsmtp mailers (F=mDFMuXa, dsmtp adds
// %): a conditional header is sent through them when all its flags are here.
constexpr std::string_view kSmtpMailerFlags = "mDFMuXa%";
// Sendmail's macro escape byte (\201): a header still holding one was meant
// to be expanded at delivery (e.g. Return-Path: <$g>), not sent as is.
constexpr char kMacroEscape = '\x81';

struct LogicalLine {
  std::size_t number = 0;  // of its first physical line
  std::string text;
};

// Physical lines joined into logical ones (continuations keep their "\n").
struct Split {
  std::vector<LogicalLine> lines;
  bool terminated = false;  // a "." line was found
};

Split logical_lines(std::string_view text) {
  Split out;
  std::size_t number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (line == ".") {
      out.terminated = true;
      break;
    }
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t') && !out.lines.empty()) {
      out.lines.back().text += "\n";
      out.lines.back().text += line;
      continue;
    }
    out.lines.push_back({number, std::string(line)});
  }
  return out;
}

std::optional<std::int64_t> parse_digits(std::string_view s) {
  if (s.empty() || s.size() > 18 ||
      !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  std::int64_t value = 0;
  for (char c : s) value = value * 10 + (c - '0');
  return value;
}

std::string without_angle_brackets(std::string_view address) {
  if (address.size() >= 2 && address.front() == '<' && address.back() == '>')
    address = address.substr(1, address.size() - 2);
  return std::string(address);
}

// An xtext value decoded; Sendmail stores what the client sent, so a value
// that does not decode is kept as it is rather than losing the message.
std::string decoded_or_raw(std::string_view value) {
  auto decoded = xtext_decode(value);
  return decoded ? *decoded : std::string(value);
}

Notify notify_from_flags(std::string_view flags) {
  Notify n;
  n.given = flags.find('N') != std::string_view::npos;
  n.success = flags.find('S') != std::string_view::npos;
  n.failure = flags.find('F') != std::string_view::npos;
  n.delay = flags.find('D') != std::string_view::npos;
  n.never = n.given && !n.success && !n.failure && !n.delay;
  return n;
}

void apply_message_flags(std::string_view flags, SendmailQf& qf) {
  const auto has = [flags](char c) { return flags.find(c) != std::string_view::npos; };
  if (has('n')) {
    qf.envelope.ret = ReturnContent::headers;
  } else if (has('d')) {
    qf.envelope.ret = ReturnContent::full;
  }
  qf.envelope.smtputf8 = has('e');
  qf.eight_bit = has('8');
  qf.sendmail_warned = has('w');
}

// "Name: value" as Sendmail's chompheader() takes it: a printable name,
// blanks, a colon. It refuses anything else ("H??" in a damaged file), and
// so do we: an empty header would end the header section early.
bool is_header(std::string_view h) {
  std::size_t i = 0;
  const auto at = [&h](std::size_t k) { return static_cast<unsigned char>(h[k]); };
  while (i < h.size() && at(i) > ' ' && at(i) < 0x7f && at(i) != ':') ++i;
  const std::size_t name_end = i;
  while (i < h.size() && (at(i) == ' ' || at(i) == '\t')) ++i;
  return name_end > 0 && i < h.size() && at(i) == ':';
}

// "H?flags?Name: value" -> "Name: value" when an smtp mailer would send it.
std::optional<std::string> sent_header(std::string_view h) {
  if (!h.empty() && h.front() == '?') {
    const std::size_t close = h.find('?', 1);
    if (close == std::string_view::npos) return std::string(h);  // no condition after all
    const std::string_view condition = h.substr(1, close - 1);
    if (!condition.empty() && condition.front() == '$') return std::nullopt;  // macro condition
    for (char flag : condition) {
      if (kSmtpMailerFlags.find(flag) == std::string_view::npos) return std::nullopt;
    }
    h = h.substr(close + 1);
  }
  if (h.find(kMacroEscape) != std::string_view::npos || !is_header(h)) return std::nullopt;
  return std::string(h);
}

class QfReader {
 public:
  Status add(const LogicalLine& line);
  Result<SendmailQf> finish(bool terminated);

 private:
  Error damaged(const LogicalLine& line, const std::string& what) const {
    return make_error("line " + std::to_string(line.number) + ": " + what);
  }
  Status add_recipient(const LogicalLine& line);

  SendmailQf qf_;
  bool have_time_ = false;
  bool have_sender_ = false;
  std::string pending_orcpt_;
  std::string pending_final_;
};

Status QfReader::add(const LogicalLine& line) {
  if (line.text.empty()) return ok_status();  // readqf ignores blank lines
  const char type = line.text[0];
  const std::string_view value = std::string_view(line.text).substr(1);
  if (kKnownLineTypes.find(type) == std::string_view::npos) {
    return damaged(line, "unknown line type '" + std::string(1, type) + "'");
  }
  switch (type) {
    case 'V': {
      auto v = parse_digits(value);
      if (!v) return damaged(line, "bad version \"" + std::string(value) + "\"");
      qf_.version = static_cast<int>(*v);
      break;
    }
    case 'T': {
      auto t = parse_digits(value);
      if (!t) return damaged(line, "bad creation time \"" + std::string(value) + "\"");
      qf_.creation_time = *t;
      have_time_ = true;
      break;
    }
    case 'F':
      apply_message_flags(value, qf_);
      break;
    case 'S':
      qf_.envelope.sender = without_angle_brackets(value);
      have_sender_ = true;
      break;
    case 'Z':
      qf_.envelope.envid = decoded_or_raw(value);
      break;
    case 'Q':
      pending_orcpt_ = decoded_or_raw(value);
      break;
    case 'r':
      pending_final_ = std::string(value);
      break;
    case 'R':
      return add_recipient(line);
    case 'H':
      if (auto header = sent_header(value)) qf_.headers += *header + "\n";
      break;
    case 'q':
      qf_.quarantine_reason = std::string(value);
      break;
    default:
      break;  // known, but nothing the sweeper needs
  }
  return ok_status();
}

Status QfReader::add_recipient(const LogicalLine& line) {
  const std::string_view value = std::string_view(line.text).substr(1);
  const std::size_t colon = value.find(':');
  const std::string_view flags =
      colon == std::string_view::npos ? std::string_view() : value.substr(0, colon);
  const bool flags_ok =
      colon != std::string_view::npos &&
      std::all_of(flags.begin(), flags.end(), [](unsigned char c) { return std::isalpha(c); });
  if (!flags_ok) return damaged(line, "recipient line without its flags");
  std::string address = without_angle_brackets(value.substr(colon + 1));
  if (address.empty()) return damaged(line, "empty recipient");
  qf_.recipients.push_back(
      {std::move(address), {notify_from_flags(flags), pending_orcpt_}, pending_final_});
  pending_orcpt_.clear();
  pending_final_.clear();
  return ok_status();
}

Result<SendmailQf> QfReader::finish(bool terminated) {
  if (!terminated) return make_error("no \".\" line at the end (cut short?)");
  if (!have_time_) return make_error("no creation time (T line)");
  if (!have_sender_) return make_error("no sender (S line)");
  return std::move(qf_);
}

}  // namespace

Result<SendmailQf> parse_sendmail_qf(std::string_view text) {
  if (text.empty()) return make_error("empty file");
  const Split split = logical_lines(text);
  QfReader reader;
  for (const LogicalLine& line : split.lines) ETRN_TRY(reader.add(line));
  return reader.finish(split.terminated);
}

}  // namespace etrn
