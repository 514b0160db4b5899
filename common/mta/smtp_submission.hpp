// smtp_submission.hpp - submitting one message over an SMTP conversation
// with a local program (Postfix: `sendmail -bs`), keeping per-recipient DSN
// parameters that a sendmail command line cannot carry (NOTIFY per
// recipient, ORCPT, ENVID, RET).
//
// The command builders are pure; submit_over_smtp() drives the dialogue:
// greeting, EHLO, MAIL, RCPT..., DATA (CRLF, dot-stuffed), QUIT. Any reply
// that is not the expected class is an Error quoting the reply. The new
// queue ID is taken from Postfix's "250 2.0.0 Ok: queued as ID" and
// validated.
#pragma once

#include <chrono>
#include <functional>
#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/mta/mta.hpp"
#include "common/util/result.hpp"
#include "common/util/subprocess.hpp"

namespace etrn {

struct SmtpSubmission {
  Envelope envelope;       // MAIL FROM's sender ("" = null sender), RET, ENVID, SMTPUTF8
  bool eight_bit = false;  // BODY=8BITMIME: the content has bytes over 127
  std::vector<ReinjectRecipient> recipients;
};

// True if any byte is over 127; rewinds `content` afterwards.
bool has_8bit_content(std::istream& content);

// Refuses addresses and values that would break the command line (CR, LF,
// NUL, "<" or ">" in an address, an empty recipient).
Status check_submission(const SmtpSubmission& submission);

std::string mail_from_command(const SmtpSubmission& submission);
std::string rcpt_to_command(const ReinjectRecipient& recipient, bool smtputf8);
// "rfc822;addr" (decoded) as an ORCPT parameter value, or "" if it cannot
// be expressed (no type, or UTF-8 without SMTPUTF8).
std::string orcpt_parameter_value(std::string_view orcpt, bool smtputf8);
// One content line (without line end) as it goes after DATA, with CRLF.
std::string data_line(std::string_view line);
// The queue ID in "250 2.0.0 Ok: queued as 3F1C2A7225E" (validated).
Result<std::string> queue_id_from_reply(std::string_view reply);

struct SmtpTimeouts {
  std::chrono::milliseconds reply{std::chrono::minutes(2)};
};

// The new queue ID from the final reply to DATA (MTA-specific wording).
using QueueIdFromReply = std::function<Result<std::string>(std::string_view reply)>;

// Returns the new queue ID, read by `queue_id_from` (Sendmail) or, in the
// first form, by queue_id_from_reply (Postfix).
Result<std::string> submit_over_smtp(InteractiveProcess& session, const SmtpSubmission& submission,
                                     std::istream& content, const QueueIdFromReply& queue_id_from,
                                     const SmtpTimeouts& timeouts = {});
Result<std::string> submit_over_smtp(InteractiveProcess& session, const SmtpSubmission& submission,
                                     std::istream& content, const SmtpTimeouts& timeouts = {});

// True if a line of the header section (up to the first empty line) has a
// byte over 127; rewinds `content` afterwards.
bool has_8bit_header_section(std::istream& content);

// A submission command's exit status that refuses the message itself
// (sysexits EX_DATAERR, EX_NOUSER, EX_NOHOST): trying again will not help.
// Any other failure (EX_TEMPFAIL, a crash, a timeout) may pass.
bool submission_refused_for_good(const CommandResult& result);

// The single-message submission a DsnSubmitter falls back on (the MTA's
// submit_dsn through its sendmail command).
using SingleDsnSubmit =
    std::function<Status(const std::string& dsn_text, const std::string& recipient)>;

// Many DSNs over one SMTP conversation with `spec` (sendmail -bs): MAIL
// FROM:<>, RCPT TO the DSN's recipient, DATA, for each. A DSN refused
// before its content was sent (say the recipient is not acceptable in SMTP,
// or SMTPUTF8 is off) goes through `fallback` instead, and so does every
// DSN after the conversation broke. A final reply of 5xx after the content
// is an error of kind `refused` (the MTA refused this DSN; the conversation
// goes on), 4xx an ordinary error. A conversation that breaks after the
// content was sent is an error too: the MTA may have queued the DSN, so it
// is not sent again here.
class SmtpDsnSubmitter : public DsnSubmitter {
 public:
  static Result<std::unique_ptr<DsnSubmitter>> open(CommandRunner& runner, const CommandSpec& spec,
                                                    SingleDsnSubmit fallback);
  ~SmtpDsnSubmitter() override;  // QUIT, and waits for the program to end
  Status submit(const std::string& dsn_text, const std::string& recipient) override;

 private:
  SmtpDsnSubmitter(std::unique_ptr<InteractiveProcess> session, std::string describe,
                   SingleDsnSubmit fallback);

  std::unique_ptr<InteractiveProcess> session_;
  std::string describe_;
  SingleDsnSubmit fallback_;
  SmtpTimeouts timeouts_;
  bool usable_ = true;
};

// Re-injection as both MTAs do it: checks the submission and the content
// (the message as RFC 5322 text, LF or CRLF line ends), starts the command
// make_command gives (their `sendmail -bs`), submits over its SMTP dialogue
// and waits for it to end. Nothing runs when the input is bad (no
// recipients, no content). Returns the new queue ID.
using CommandMaker = std::function<Result<CommandSpec>()>;
Result<std::string> submit_content_through(CommandRunner& runner, const CommandMaker& make_command,
                                           SmtpSubmission submission, const std::string& text,
                                           const QueueIdFromReply& queue_id_from);

}  // namespace etrn
