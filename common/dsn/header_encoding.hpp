// header_encoding.hpp - turning untrusted strings into safe DSN header lines
// and delivery-status fields.
//
// Everything that comes from the envelope (sender, recipients, ORCPT,
// ENVID) is hostile until proven otherwise: it may hold CR, LF, NUL, other
// control bytes, 8-bit bytes or be thousands of characters long. These
// helpers either validate a value for a header, encode it (RFC 3461 xtext,
// RFC 6533 unitext), or say it cannot be used; none of them ever lets a
// line break through.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/util/result.hpp"

namespace etrn {

// RFC 5322 limits a line to 998 octets; we stay well below it for any
// single value so that a field name and folding still fit.
inline constexpr std::size_t kMaxFieldValueOctets = 900;

bool has_control_chars(std::string_view text);  // C0 controls (incl. CR, LF, NUL, TAB) or DEL
bool is_ascii(std::string_view text);
bool is_valid_utf8(std::string_view text);
// A DNS name (letter-digit-hyphen labels; underscore tolerated) or an
// address literal "[192.0.2.1]" / "[IPv6:2001:db8::1]".
bool is_valid_hostname(std::string_view name);
// The host name for Reporting-MTA and MAILER-DAEMON@: without the one
// trailing dot of an absolute name ("mx.example." from a configuration).
std::string_view reporting_host_name(std::string_view name);

// The address as an RFC 5322 addr-spec for a To: header: the local part
// is quoted when it is not a dot-atom. UTF-8 is allowed only when
// `allow_utf8` (RFC 6532). Errors on control characters, a missing or
// invalid domain, or an address too long for one header line.
Result<std::string> header_addr_spec(std::string_view address, bool allow_utf8);

// "rfc822; addr" or, when `global` and the address is non-ASCII UTF-8,
// "utf-8; addr" (RFC 6533) - for Final-Recipient. Bytes that cannot stand
// in a field are xtext-encoded (rfc822) or \x{..}-encoded (utf-8).
std::string dsn_recipient_field_value(std::string_view address, bool global);

// For an address too long for one field line (RFC 5321 allows 256 octets,
// smtpd may accept thousands): "x-etrn-truncated; " and the xtext of as
// much of its start as fits. The private address type keeps bounce
// processors from taking the fragment for a real rfc822 address, while
// the recipient still has its required Final-Recipient field.
std::string dsn_truncated_recipient_field_value(std::string_view address);

// An ORCPT value "type;addr" for Original-Recipient, keeping its address
// type; an error when the type is not an atom (then the field is omitted).
Result<std::string> dsn_original_recipient_field_value(std::string_view orcpt, bool global);

// An ENVID for Original-Envelope-Id: as is when it is printable ASCII
// without spaces, xtext-encoded otherwise.
std::string dsn_envelope_id_value(std::string_view envid);

// "Name: value\n", folded at spaces so that lines stay within 78 octets
// where the value allows it. The value must not contain line breaks.
std::string fold_header(std::string_view name, std::string_view value);

}  // namespace etrn
