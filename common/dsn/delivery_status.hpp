// delivery_status.hpp - the machine-readable second part of a DSN: the
// RFC 3464 message/delivery-status fields (RFC 6533 global form with
// SMTPUTF8).
#pragma once

#include <string>

#include "common/dsn/dsn.hpp"
#include "common/util/result.hpp"

namespace etrn {

// The per-message fields, a blank line, and one block of per-recipient
// fields per recipient with a non-empty address (one too long for a field
// line gets a truncated x-etrn-truncated Final-Recipient; the text part
// still names it whole). Errors when the reporting MTA is not a host name
// or no recipient has an address.
Result<std::string> delivery_status_fields(const DsnInput& input);

}  // namespace etrn
