// delivery_status.hpp - the machine-readable second part of a DSN: the
// RFC 3464 message/delivery-status fields (RFC 6533 global form with
// SMTPUTF8).
#pragma once

#include <string>

#include "common/dsn/dsn.hpp"
#include "common/util/result.hpp"

namespace etrn {

// The per-message fields, a blank line, and one block of per-recipient
// fields per recipient that can be represented (a recipient whose address
// is too long for a field line is left out: it is still named in the text
// part). Errors when the reporting MTA is not a host name or no recipient
// can be represented.
Result<std::string> delivery_status_fields(const DsnInput& input);

}  // namespace etrn
