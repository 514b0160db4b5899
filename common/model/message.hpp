// message.hpp - what the milter records about a message, and what the
// sweeper knows about a recorded recipient. Plain data, no behaviour.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/model/priority.hpp"

namespace etrn {

using EpochSeconds = std::int64_t;

// RFC 3461 NOTIFY, as given at RCPT. `given == false`: no NOTIFY parameter
// (the MTA's default applies: failure and delay DSNs are sent).
struct Notify {
  bool given = false;
  bool never = false;
  bool success = false;
  bool failure = false;
  bool delay = false;

  bool allows_failure_dsn() const { return !given || (!never && failure); }
  bool allows_delay_dsn() const { return !given || (!never && delay); }
  // "NEVER", "SUCCESS,FAILURE,DELAY" (a subset, in that order) or "" when not given.
  std::string to_string() const;
  static Notify parse(std::string_view text);  // tolerant: unknown words ignored
};

enum class ReturnContent { unspecified, full, headers };  // RFC 3461 RET

struct RecipientRecord {
  std::string address;  // as given, without angle brackets
  std::string domain;   // lower-cased, no trailing dot
  Notify notify;
  std::string orcpt;   // decoded "rfc822;addr" (or utf-8;...), empty if none
  std::string mailer;  // {rcpt_mailer}, empty if not known
};

struct MessageRecord {
  std::string queue_id;
  EpochSeconds arrival_time = 0;
  std::string sender;  // envelope sender without brackets; "" = null sender
  ReturnContent ret = ReturnContent::unspecified;
  std::string envid;  // xtext-decoded ENVID, empty if none
  bool smtputf8 = false;
  std::int64_t size = 0;   // bytes of header + body seen by the milter
  std::string message_id;  // Message-ID header, as given
  std::string subject;     // Subject header, as given (may be encoded-words)
  Priority priority = Priority::normal;
  std::string client_addr;
  std::string client_name;
  std::string helo;
  std::string auth_user;
  std::vector<RecipientRecord> recipients;  // ETRN-only recipients only
};

// The audit states (interface.md).
enum class RecipientState { queued, warned, expired, departed };
std::string_view to_string(RecipientState s);
std::optional<RecipientState> parse_recipient_state(std::string_view name);

}  // namespace etrn
