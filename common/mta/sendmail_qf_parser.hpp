// sendmail_qf_parser.hpp - one Sendmail queue control file (qf, or a
// quarantined hf) into the envelope and headers the sweeper needs. Pure: the
// text in, a value or an Error out; the file system is sendmail_queue.hpp.
//
// The format (Sendmail 8.17, queue.c queueup()/readqf(), checked against
// files written by Debian 12's 8.17.1.9, see tests/data/sendmail/):
//   V<version>  T<creation time, epoch>  K<last attempt>  N<attempts>
//   P<priority>  F<flags>  $<macro>  S<sender>  Z<ENVID, xtext>
//   Q<ORCPT, xtext> and r<final recipient>: both for the NEXT R line
//   R<flags>:<address>  flags P primary, N NOTIFY given, S/F/D
//     SUCCESS/FAILURE/DELAY (N without S, F, D is NOTIFY=NEVER)
//   H[?<mailer flags>?]<name>: <value>   q<quarantine reason>   . = end
// A line that starts with a space or tab continues the previous one.
// F flags: d RET given, n RET=HDRS (d without n: RET=FULL), e SMTPUTF8,
// 8 8-bit body, w Sendmail already sent its own delay warning.
// Seen: Debian's 8.17.1.9 is built without EAI, so it never writes `e`.
//
// Diagnostics: a file Sendmail itself would refuse (an unknown line type,
// no `.` at the end, no T or S line, an R line without its flags) is an
// Error saying what and on which line. Callers log it and leave the file
// alone: a damaged file is never acted on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/envelope.hpp"
#include "common/util/epoch_seconds.hpp"
#include "common/util/result.hpp"

namespace etrn {

struct SendmailQfRecipient {
  std::string address;          // without angle brackets
  RecipientDsnParams dsn;       // NOTIFY from the R line's flags, ORCPT from the Q line
  std::string final_recipient;  // the r line ("RFC822; addr"), empty if none
};

struct SendmailQf {
  int version = 0;
  EpochSeconds creation_time = 0;
  Envelope envelope;  // S (without angle brackets; "" = null sender), Z (decoded), F flags
  bool eight_bit = false;
  bool sendmail_warned = false;   // F flag w
  std::string quarantine_reason;  // the q line; non-empty in an hf file
  std::vector<SendmailQfRecipient> recipients;
  // The header section as an SMTP mailer would send it: conditional
  // headers kept when their flags belong to the smtp mailers, LF line ends,
  // no blank line at the end.
  std::string headers;
};

Result<SendmailQf> parse_sendmail_qf(std::string_view text);

}  // namespace etrn
