// postcat_parser.hpp - the DSN-relevant envelope of `postcat -e -q ID`.
//
// What postcat 3.7 prints (seen, fixtures in tests/data/postfix/):
//   *** ENVELOPE RECORDS deferred/2/2A9FCA7225E ***
//   message_size:  355  949  3  20  355  0      <- 6th field: SMTPUTF8 flags
//   named_attribute: envelope_id=abc+def        <- ENVID, already xtext-decoded
//   named_attribute: ret_flags=2                <- DSN_RET_FULL 1, DSN_RET_HDRS 2
//   sender: alice@sender.example                <- "sender: " for the null sender
//   named_attribute: notify_flags=10            <- NEVER 1 SUCCESS 2 FAILURE 4 DELAY 8
//   named_attribute: dsn_orig_rcpt=rfc822;x+special@y.example   <- decoded ORCPT
//   original_recipient: bob@customer.example
//   recipient: bob@customer.example             <- or done_recipient: (delivered)
//   *** MESSAGE CONTENTS deferred/2/2A9FCA7225E ***
//   *** HEADER EXTRACTED deferred/2/2A9FCA7225E ***
//   *** MESSAGE FILE END deferred/2/2A9FCA7225E ***
// Per-recipient attributes (and original_recipient) come before their
// recipient record and apply to it only. Older queue files spell the DSN records without
// named_attribute (dsn_envelope_id:, dsn_return_flags:, dsn_notify_flags:, dsn_orig_rcpt:); both
// spellings are read. smtpd records dsn_orig_rcpt even without an ORCPT parameter ("rfc822;" + the
// address as given), so orcpt is rarely empty.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/queued_message.hpp"
#include "common/util/result.hpp"

namespace etrn {

// Fed line by line (without "\n"); finish() says whether the output was
// complete ("*** MESSAGE FILE END" seen) and well-formed.
class PostcatEnvelopeParser {
 public:
  void add_line(std::string_view line);
  Result<QueuedEnvelope> finish();

 private:
  void add_record(std::string_view name, std::string_view value);
  void add_recipient(std::string_view address);
  void fail(std::string message);

  QueuedEnvelope envelope_;
  bool saw_envelope_start_ = false;
  bool saw_file_end_ = false;
  bool saw_sender_ = false;
  std::optional<std::string> error_;
  QueuedEnvelope::Recipient pending_;  // the attributes of the next recipient record
};

Result<QueuedEnvelope> parse_postcat_envelope(std::string_view text);

// One message of a bulk postcat: its envelope records (both segments) and its content.
struct PostcatMessage {
  Result<QueuedEnvelope> envelope;
  std::string content;
};

// The envelopes and contents of several messages from one `postcat -e -h
// [-b] -q ID...`: each message is framed by four marker lines (ENVELOPE
// RECORDS, MESSAGE CONTENTS, HEADER EXTRACTED, MESSAGE FILE END, each naming
// queue/ID); its content is the lines between MESSAGE CONTENTS and HEADER
// EXTRACTED, exactly what `postcat -h [-b] -q ID` prints alone, and its
// envelope the records outside them, as PostcatEnvelopeParser reads them. Content is the
// sender's text and may contain lines that look like markers: the
// messages must come in the order asked for, and the output must hold
// exactly 4 marker lines per message, or finish() refuses the whole lot
// (the caller then reads the messages one by one).
class PostcatContentSplitter {
 public:
  explicit PostcatContentSplitter(std::vector<std::string> queue_ids);
  void add_line(std::string_view line);
  Result<std::vector<PostcatMessage>> finish();

 private:
  enum class Expect { envelope, contents_marker, content, file_end, done };
  bool is_marker_for(std::string_view line, std::string_view kind) const;

  std::vector<std::string> queue_ids_;
  std::vector<std::string> contents_;
  std::vector<PostcatEnvelopeParser> envelopes_;
  Expect expect_ = Expect::envelope;
  std::size_t markers_ = 0;
  std::optional<std::string> error_;
};

// The envelopes of several messages from one `postcat -e -q ID...`, in
// the order asked for, each framed by the same four marker lines (its
// records before MESSAGE CONTENTS and after HEADER EXTRACTED, where the
// recipients cleanup added at the end are: always_bcc). `-e` prints no
// content, but the framing is checked as strictly as the content
// splitter's: any doubt refuses the lot (the caller then reads one by one).
class PostcatEnvelopeSplitter {
 public:
  explicit PostcatEnvelopeSplitter(std::vector<std::string> queue_ids);
  void add_line(std::string_view line);
  Result<std::vector<QueuedEnvelope>> finish();

 private:
  std::vector<std::string> queue_ids_;
  std::vector<QueuedEnvelope> envelopes_;
  std::optional<PostcatEnvelopeParser> current_;
  std::size_t markers_ = 0;
  std::optional<std::string> error_;
};

// Is this line one of postcat's four frame markers (for any message)?
bool looks_like_postcat_marker(std::string_view line);

// NEVER 1, SUCCESS 2, FAILURE 4, DELAY 8 (src/global/dsn_mask.h); 0 = not given.
Notify notify_from_postfix_mask(unsigned mask);

}  // namespace etrn
