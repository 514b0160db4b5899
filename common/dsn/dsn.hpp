// dsn.hpp - builds RFC 3464 delivery status notifications (pure).
//
// A DSN is an RFC 6522 multipart/report; report-type=delivery-status with
// a plain-words part, the delivery-status part, and the original message
// (message/rfc822) or its headers (text/rfc822-headers); with SMTPUTF8 the
// RFC 6533 types (message/global-delivery-status, message/global,
// message/global-headers). Nothing from the envelope or the original
// headers reaches a header or field of the DSN without validation or
// encoding.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/model/dsn_kind.hpp"
#include "common/model/envelope.hpp"
#include "common/util/epoch_seconds.hpp"
#include "common/util/result.hpp"

namespace etrn {

struct DsnRecipient {
  std::string address;          // the final recipient
  RecipientDsnParams dsn;       // its ORCPT ("rfc822;addr") is the Original-Recipient
  std::string domain;           // the ETRN site that never asked for its mail
  EpochSeconds expires_at = 0;  // Will-Retry-Until for a delay DSN
  std::string policy;           // e.g. "domain_policy customer.example: expire after 3d"
};

struct DsnInput {
  DsnKind kind = DsnKind::failed;
  std::string reporting_mta;  // host name for Reporting-MTA and From: MAILER-DAEMON@
  std::string message_id;     // the DSN's own Message-ID, without brackets, chosen by the caller
  // The original message's envelope: its sender is the DSN's To:; ENVID,
  // RET and SMTPUTF8 shape the report.
  Envelope envelope;
  std::string queue_id;
  EpochSeconds arrival_time = 0;
  EpochSeconds now = 0;  // Date:, Last-Attempt-Date:
  std::vector<DsnRecipient> recipients;
  // The original message as read from the queue (headers and body, LF or
  // CRLF line ends). The builder returns it whole when it fits in
  // size_limit and RET is not HDRS; otherwise only its header section.
  std::string original;
  bool original_is_headers_only = false;  // the caller could only read the headers
  std::size_t size_limit = 50000;
};

// The complete DSN as RFC 5322 text with LF line ends (for a sendmail-style
// submission command). Errors only on unusable input (no recipients, a
// sender that cannot be addressed at all).
Result<std::string> build_dsn(const DsnInput& input);

// The same DSN returning only the original's header section
// (text/rfc822-headers, or message/global-headers): what is submitted when
// the MTA refused the DSN with the whole original (a content filter on the
// original's body, a size limit). `dsn_text` must come from build_dsn; an
// error when it returns no whole message.
Result<std::string> headers_only_dsn(std::string_view dsn_text);

}  // namespace etrn
