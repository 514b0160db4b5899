// message_collector.hpp - what the milter learns about one message, as a
// pure state machine (no libmilter, no clock, no I/O).
//
// The glue feeds it the envelope (MAIL and RCPT argv as libmilter hands
// them over: the address first, then the ESMTP parameters), the headers
// and the queue ID; at end of message finish() says what to record: a
// MessageRecord holding only the ETRN-only recipients, or nothing when
// there is none. Unknown ESMTP parameters are ignored; a malformed xtext
// value is kept as given rather than dropped.
//
// Only the headers the record uses are looked at (Message-ID, Subject and
// the priority headers). The body is never seen (the milter negotiates it
// away), so the size recorded is the one the MTA states at end of message
// (Sendmail's {msg_size}) or else the one the client declared with MAIL
// FROM SIZE= (RFC 1870; MTAs declare the exact size); 0 when neither did.
// Nothing decides on it: the sweeper takes every size it uses from the
// queue.
//
// A copy the sweeper re-injects (it carries kReinjectedHeader, see
// sweeper/executor.hpp) is not recorded: the sweeper records it itself
// with the original's clock, and a record of ours, committed after the
// sweeper's, would only be a second row to merge.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/config/config.hpp"
#include "common/model/message.hpp"
#include "common/model/reinjected_copy.hpp"
#include "common/policy/etrn_match.hpp"
#include "common/policy/priority_headers.hpp"

namespace etrn {

// What the milter knows about the SMTP client (any part may be empty:
// local submissions come without connect data).
struct ClientInfo {
  std::string addr;
  std::string name;
  std::string helo;
};

// The MAIL FROM arguments: the sender, RET, ENVID and SMTPUTF8.
Envelope parse_mail_arguments(std::span<const std::string_view> argv);
// The RCPT TO arguments; `mailer` is {rcpt_mailer} (may be empty).
RecipientRecord parse_rcpt_arguments(std::span<const std::string_view> argv,
                                     std::string_view mailer);

class MessageCollector {
 public:
  // `matcher` must outlive the collector (it lives in the config snapshot).
  explicit MessageCollector(const EtrnMatcher& matcher) : matcher_(&matcher) {}

  // MAIL: starts a new message, forgetting any previous one.
  void begin(std::span<const std::string_view> mail_argv, EpochSeconds arrival_time,
             std::string_view auth_user);
  // RCPT: keeps the recipient only when it is ETRN-only.
  void add_recipient(std::span<const std::string_view> rcpt_argv, std::string_view rcpt_mailer);
  void add_header(std::string_view name, std::string_view value);
  // The MTA's queue ID, whenever it becomes known (empty values are ignored).
  void set_queue_id(std::string_view queue_id);
  // The size the MTA states at end of message ({msg_size}; "" when it
  // states none, which keeps the SIZE= of MAIL FROM).
  void set_size_stated_by_mta(std::string_view msg_size);

  bool started() const { return started_; }
  bool has_etrn_recipients() const { return !message_.recipients.empty(); }
  bool is_sweeper_copy() const { return sweeper_copy_; }
  const std::string& queue_id() const { return message_.queue_id; }

  // End of message: the record, or nothing when no recipient is
  // ETRN-only or the message is a copy the sweeper re-injected.
  std::optional<MessageRecord> finish(const ClientInfo& client) const;
  // The same, moving the message out instead of copying it: the collector
  // is left reset.
  std::optional<MessageRecord> take(const ClientInfo& client);
  void reset();

 private:
  bool has_a_record() const { return started_ && !message_.recipients.empty() && !sweeper_copy_; }

  const EtrnMatcher* matcher_;
  bool started_ = false;
  MessageRecord message_;
  PriorityDetector priority_;
  bool seen_message_id_ = false;
  bool seen_subject_ = false;
  bool sweeper_copy_ = false;
};

// Adds each recipient's deadlines (warn and expiry) under `config`.
MessageToRecord with_deadlines(const Config& config, MessageRecord message);

}  // namespace etrn
