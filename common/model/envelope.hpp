// envelope.hpp - the DSN-relevant envelope of a message (RFC 3461): what
// MAIL FROM carries (sender, RET, ENVID, SMTPUTF8) and what each RCPT TO
// carries (NOTIFY, ORCPT). One type for each, embedded in every record,
// plan and request that needs them, so that no field is lost on the way
// from the milter to the DSN or the re-injected copy.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace etrn {

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
  bool operator==(const Notify&) const = default;
};

enum class ReturnContent { unspecified, full, headers };  // RFC 3461 RET

// "FULL", "HDRS", or "" for unspecified: RET's own keywords.
std::string_view to_string(ReturnContent ret);
// RET's value in any case; anything else is unspecified.
ReturnContent parse_return_content(std::string_view keyword);

// What MAIL FROM carried.
struct Envelope {
  std::string sender;  // without angle brackets; "" = null sender
  ReturnContent ret = ReturnContent::unspecified;
  std::string envid;  // xtext-decoded ENVID, empty if none
  bool smtputf8 = false;
  bool operator==(const Envelope&) const = default;
};

// What RCPT TO carried besides the address.
struct RecipientDsnParams {
  Notify notify;
  std::string orcpt;  // decoded "rfc822;addr" (or "utf-8;addr"), empty if none
  bool operator==(const RecipientDsnParams&) const = default;
};

}  // namespace etrn
