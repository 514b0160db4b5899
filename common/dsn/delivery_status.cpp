// delivery_status.cpp - RFC 3464 delivery-status fields for an ETRN
// expiry (5.4.7, Action: failed) or delay warning (4.4.7, Action: delayed).
//
// Diagnostic-Code wording matters: bounce processors (Sisimai, Mailman's
// flufl.bounce) classify on it, and "delivery time expired" is what makes
// them file the bounce as "expired" rather than "not accepted" (domain-
// notes.md: Postfix's own "deferred transport" is misread). Only values
// from header_encoding.hpp reach a field.
#include "common/dsn/delivery_status.hpp"

#include "common/dsn/header_encoding.hpp"
#include "common/util/time_format.hpp"

namespace etrn {

namespace {

std::string site_for_diagnostic(const DsnRecipient& recipient) {
  return is_valid_hostname(recipient.domain) ? recipient.domain : std::string("the site");
}

std::string diagnostic_code(const DsnInput& input, const DsnRecipient& recipient) {
  const std::string waited = format_duration_words(seconds_between(input.arrival_time, input.now));
  const std::string site = site_for_diagnostic(recipient);
  if (input.kind == DsnKind::failed) {
    return "smtp; 550 5.4.7 Message expired: delivery time expired after " + waited +
           " in queue; " + site + " never asked for its mail with ETRN";
  }
  return "smtp; 450 4.4.7 Message delayed: waiting for " + site +
         " to ask for its mail with ETRN (RFC 1985)";
}

std::string per_message_fields(const DsnInput& input) {
  std::string out =
      fold_header("Reporting-MTA", "dns; " + std::string(reporting_host_name(input.reporting_mta)));
  const std::string envid = dsn_envelope_id_value(input.envelope.envid);
  if (!input.envelope.envid.empty() && envid.size() <= kMaxFieldValueOctets) {
    out += fold_header("Original-Envelope-Id", envid);
  }
  out += fold_header("Arrival-Date", format_rfc5322_date(input.arrival_time));
  return out;
}

std::string original_recipient_field(const DsnInput& input, const DsnRecipient& recipient) {
  if (recipient.dsn.orcpt.empty()) return "";
  const Result<std::string> value =
      dsn_original_recipient_field_value(recipient.dsn.orcpt, input.envelope.smtputf8);
  if (!value || value->size() > kMaxFieldValueOctets) return "";
  return fold_header("Original-Recipient", *value);
}

std::string final_recipient_field(const DsnInput& input, const DsnRecipient& recipient) {
  std::string value = dsn_recipient_field_value(recipient.address, input.envelope.smtputf8);
  if (value.size() > kMaxFieldValueOctets) {
    value = dsn_truncated_recipient_field_value(recipient.address);
  }
  return fold_header("Final-Recipient", value);
}

std::string per_recipient_fields(const DsnInput& input, const DsnRecipient& recipient) {
  const bool failed = input.kind == DsnKind::failed;
  std::string out = final_recipient_field(input, recipient);
  out += original_recipient_field(input, recipient);
  out += fold_header("Action", failed ? "failed" : "delayed");
  out += fold_header("Status", failed ? "5.4.7" : "4.4.7");
  out += fold_header("Diagnostic-Code", diagnostic_code(input, recipient));
  out += fold_header("Last-Attempt-Date", format_rfc5322_date(input.now));
  if (!failed) out += fold_header("Will-Retry-Until", format_rfc5322_date(recipient.expires_at));
  return out;
}

}  // namespace

Result<std::string> delivery_status_fields(const DsnInput& input) {
  if (!is_valid_hostname(reporting_host_name(input.reporting_mta))) {
    return make_error("reporting MTA is not a valid host name");
  }
  std::string out = per_message_fields(input);
  bool any_recipient = false;
  for (const DsnRecipient& recipient : input.recipients) {
    if (recipient.address.empty()) continue;
    out += "\n";
    out += per_recipient_fields(input, recipient);
    any_recipient = true;
  }
  if (!any_recipient) return make_error("a DSN needs at least one recipient address");
  return out;
}

}  // namespace etrn
