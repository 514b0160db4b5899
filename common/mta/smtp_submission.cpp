// smtp_submission.cpp - RFC 5321 client side over a program's stdin/stdout.
#include "common/mta/smtp_submission.hpp"

#include <spdlog/spdlog.h>

#include <sstream>

#include "common/mta/postfix_queue_id.hpp"
#include "common/util/xtext.hpp"

namespace etrn {

namespace {

struct Reply {
  int code = 0;
  std::string text;  // all lines, joined by "\n"
};

bool has_forbidden_byte(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool bad_address(std::string_view a) {
  return has_forbidden_byte(a) || a.find_first_of("<> ") != std::string_view::npos;
}

bool is_ascii(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) > 0x7f) return false;
  }
  return true;
}

// RFC 6533 utf-8-addr-xtext: UTF-8 kept, "+", "=", "\" and controls as \x{HH}.
std::string utf8_addr_xtext(std::string_view addr) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : addr) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || c == '+' || c == '=' || c == '\\' || u == 0x7f) {
      out += "\\x{";
      out += kHex[u >> 4];
      out += kHex[u & 0x0F];
      out += "}";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<Reply> read_reply(InteractiveProcess& session, std::chrono::milliseconds timeout) {
  Reply reply;
  for (;;) {
    auto line = session.read_line(timeout);
    if (!line) return line.error();
    if (line->size() < 3) return make_error("malformed SMTP reply \"" + *line + "\"");
    reply.text += (reply.text.empty() ? "" : "\n") + *line;
    if (line->size() == 3 || (*line)[3] != '-') break;
  }
  reply.code = std::atoi(reply.text.substr(0, 3).c_str());
  return reply;
}

// Sends `command` (without CRLF; empty: only read) and wants a reply in the
// `want_class` hundred (2 or 3).
Result<Reply> exchange(InteractiveProcess& session, const std::string& command, int want_class,
                       const SmtpTimeouts& timeouts) {
  if (!command.empty()) ETRN_TRY(session.write(command + "\r\n"));
  auto reply = read_reply(session, timeouts.reply);
  if (!reply) return reply.error();
  if (reply->code / 100 != want_class) {
    const std::string what = command.empty() ? "greeting" : command;
    return make_error("SMTP " + what + ": " + reply->text,
                      reply->code / 100 == 5 ? ErrorKind::refused : ErrorKind::other);
  }
  return reply;
}

Status send_content(InteractiveProcess& session, std::istream& content) {
  std::string line;
  std::string chunk;
  while (std::getline(content, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    chunk += data_line(line);
    if (chunk.size() >= 64 * 1024) {
      ETRN_TRY(session.write(chunk));
      chunk.clear();
    }
  }
  if (content.bad()) return make_error("reading the message content failed");
  chunk += ".\r\n";
  return session.write(chunk);
}

}  // namespace

bool submission_refused_for_good(const CommandResult& result) {
  constexpr int kDataError = 65, kNoUser = 67, kNoHost = 68;  // sysexits.h
  return result.exit_status && (*result.exit_status == kDataError ||
                                *result.exit_status == kNoUser || *result.exit_status == kNoHost);
}

Status check_submission(const SmtpSubmission& s) {
  if (bad_address(s.envelope.sender)) return make_error("sender address unusable in SMTP");
  if (has_forbidden_byte(s.envelope.envid)) return make_error("ENVID has a line break or NUL");
  if (s.recipients.empty()) return make_error("no recipients to submit");
  for (const auto& r : s.recipients) {
    if (r.address.empty() || bad_address(r.address)) {
      return make_error("recipient address unusable in SMTP");
    }
    if (has_forbidden_byte(r.dsn.orcpt)) return make_error("ORCPT has a line break or NUL");
  }
  return ok_status();
}

std::string mail_from_command(const SmtpSubmission& s) {
  const Envelope& e = s.envelope;
  std::string command = "MAIL FROM:<" + e.sender + ">";
  if (e.ret != ReturnContent::unspecified) command += " RET=" + std::string(to_string(e.ret));
  if (!e.envid.empty()) command += " ENVID=" + xtext_encode(e.envid);
  if (s.eight_bit) command += " BODY=8BITMIME";
  if (e.smtputf8) command += " SMTPUTF8";
  return command;
}

bool has_8bit_content(std::istream& content) {
  bool found = false;
  char buffer[64 * 1024];
  while (!found && content.read(buffer, sizeof buffer).gcount() > 0) {
    const auto n = static_cast<std::size_t>(content.gcount());
    for (std::size_t i = 0; i < n && !found; ++i) found = (buffer[i] & 0x80) != 0;
  }
  content.clear();
  content.seekg(0);
  return found;
}

std::string orcpt_parameter_value(std::string_view orcpt, bool smtputf8) {
  const auto semicolon = orcpt.find(';');
  if (semicolon == std::string_view::npos || semicolon == 0) return "";
  const std::string_view addr = orcpt.substr(semicolon + 1);
  if (is_ascii(addr)) return "rfc822;" + xtext_encode(addr);
  if (!smtputf8) return "";
  return "utf-8;" + utf8_addr_xtext(addr);
}

std::string rcpt_to_command(const ReinjectRecipient& r, bool smtputf8) {
  std::string command = "RCPT TO:<" + r.address + ">";
  if (r.dsn.notify.given) command += " NOTIFY=" + r.dsn.notify.to_string();
  if (const auto orcpt = orcpt_parameter_value(r.dsn.orcpt, smtputf8); !orcpt.empty()) {
    command += " ORCPT=" + orcpt;
  }
  return command;
}

std::string data_line(std::string_view line) {
  std::string out;
  if (!line.empty() && line.front() == '.') out.push_back('.');
  out.append(line);
  out += "\r\n";
  return out;
}

Result<std::string> queue_id_from_reply(std::string_view reply) {
  constexpr std::string_view marker = "queued as ";
  const auto at = reply.rfind(marker);
  if (at == std::string_view::npos) {
    return make_error("no queue ID in reply \"" + std::string(reply) + "\"");
  }
  std::string_view id = reply.substr(at + marker.size());
  id = id.substr(0, id.find_first_of(" \r\n"));
  return validate_postfix_queue_id(id);
}

Result<std::string> submit_over_smtp(InteractiveProcess& session, const SmtpSubmission& s,
                                     std::istream& content, const SmtpTimeouts& timeouts) {
  return submit_over_smtp(session, s, content, queue_id_from_reply, timeouts);
}

namespace {

Status greet(InteractiveProcess& session, const SmtpTimeouts& timeouts) {
  ETRN_TRY(exchange(session, "", 2, timeouts));
  ETRN_TRY(exchange(session, "EHLO localhost", 2, timeouts));
  return ok_status();
}

// How far a failed mail transaction got: whether the MTA may have queued
// the message after all.
enum class Stage { before_content, content_sent, answered };

// One mail transaction, MAIL to the final reply.
Result<Reply> transaction(InteractiveProcess& session, const SmtpSubmission& s,
                          std::istream& content, const SmtpTimeouts& timeouts, Stage& stage) {
  stage = Stage::before_content;
  ETRN_TRY(exchange(session, mail_from_command(s), 2, timeouts));
  for (const auto& r : s.recipients)
    ETRN_TRY(exchange(session, rcpt_to_command(r, s.envelope.smtputf8), 2, timeouts));
  ETRN_TRY(exchange(session, "DATA", 3, timeouts));
  stage = Stage::content_sent;
  ETRN_TRY(send_content(session, content));
  auto reply = read_reply(session, timeouts.reply);
  if (!reply) return reply.error();
  stage = Stage::answered;
  if (reply->code / 100 != 2)
    return make_error("SMTP end of data: " + reply->text,
                      reply->code / 100 == 5 ? ErrorKind::refused : ErrorKind::other);
  return reply;
}

}  // namespace

Result<std::string> submit_over_smtp(InteractiveProcess& session, const SmtpSubmission& s,
                                     std::istream& content, const QueueIdFromReply& queue_id_from,
                                     const SmtpTimeouts& timeouts) {
  ETRN_TRY(check_submission(s));
  ETRN_TRY(greet(session, timeouts));
  Stage stage = Stage::before_content;
  auto accepted = transaction(session, s, content, timeouts, stage);
  if (!accepted) return accepted.error();
  auto queue_id = queue_id_from(accepted->text);
  // QUIT's answer does not matter any more: the message is queued.
  (void)session.write("QUIT\r\n");
  return queue_id;
}

Result<std::string> submit_content_through(CommandRunner& runner, const CommandMaker& make_command,
                                           SmtpSubmission submission, const std::string& text,
                                           const QueueIdFromReply& queue_id_from) {
  ETRN_TRY(check_submission(submission));
  if (text.empty()) return make_error("no content to submit");
  std::istringstream content(text);
  submission.eight_bit = has_8bit_content(content);
  auto made = make_command();
  if (!made) return made.error();
  const CommandSpec& spec = *made;
  auto session = runner.start(spec);
  if (!session) return session.error();
  auto queue_id = submit_over_smtp(**session, submission, content, queue_id_from);
  auto ended = (*session)->finish();
  if (!queue_id) {
    const std::string detail = ended ? ended->describe() : ended.error().message;
    return make_error(spec.describe() + ": " + queue_id.error().message + " (" + detail + ")");
  }
  if (!ended || !ended->exited_zero()) {
    spdlog::warn("{}: queued as {} but ended badly: {}", spec.describe(), *queue_id,
                 ended ? ended->describe() : ended.error().message);
  }
  return queue_id;
}

bool has_8bit_header_section(std::istream& content) {
  bool found = false;
  for (std::string line; !found && std::getline(content, line);) {
    if (line.empty() || line == "\r") break;
    found = !is_ascii(line);
  }
  content.clear();
  content.seekg(0);
  return found;
}

Result<std::unique_ptr<DsnSubmitter>> SmtpDsnSubmitter::open(CommandRunner& runner,
                                                             const CommandSpec& spec,
                                                             SingleDsnSubmit fallback) {
  auto session = runner.start(spec);
  if (!session) return session.error();
  std::unique_ptr<SmtpDsnSubmitter> submitter(
      new SmtpDsnSubmitter(std::move(*session), spec.describe(), std::move(fallback)));
  if (Status greeted = greet(*submitter->session_, submitter->timeouts_); !greeted) {
    return make_error(submitter->describe_ + ": " + greeted.error().message);
  }
  return std::unique_ptr<DsnSubmitter>(std::move(submitter));
}

SmtpDsnSubmitter::SmtpDsnSubmitter(std::unique_ptr<InteractiveProcess> session,
                                   std::string describe, SingleDsnSubmit fallback)
    : session_(std::move(session)),
      describe_(std::move(describe)),
      fallback_(std::move(fallback)) {}

SmtpDsnSubmitter::~SmtpDsnSubmitter() {
  if (!session_) return;
  if (usable_) (void)exchange(*session_, "QUIT", 2, timeouts_);
  (void)session_->finish();
}

Status SmtpDsnSubmitter::submit(const std::string& dsn_text, const std::string& recipient) {
  SmtpSubmission s{Envelope{}, false, {ReinjectRecipient{recipient, {}}}};
  if (!usable_ || !check_submission(s)) return fallback_(dsn_text, recipient);
  std::istringstream content(dsn_text);
  s.eight_bit = has_8bit_content(content);
  s.envelope.smtputf8 = !is_ascii(recipient) || has_8bit_header_section(content);
  Stage stage = Stage::before_content;
  auto accepted = transaction(*session_, s, content, timeouts_, stage);
  if (accepted) return ok_status();
  if (stage == Stage::answered) {
    // The MTA answered the content (4xx, 5xx): it holds nothing; the
    // conversation goes on with the next DSN.
    return make_error(describe_ + ": " + accepted.error().message, accepted.error().kind);
  }
  if (stage == Stage::content_sent) {
    // The MTA may hold the DSN already: sending it again could make two.
    usable_ = false;
    return make_error(describe_ + ": " + accepted.error().message);
  }
  // Refused before the content (or the session broke): nothing was queued.
  spdlog::info("{}: {}; submitting this DSN on its own", describe_, accepted.error().message);
  usable_ = usable_ && exchange(*session_, "RSET", 2, timeouts_).ok();
  return fallback_(dsn_text, recipient);
}

}  // namespace etrn
