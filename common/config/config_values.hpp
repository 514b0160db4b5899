// config_values.hpp - parsing and rendering of the value types that
// configuration keys take (durations, domain lists, sizes, enums). Pure.
//
// Every parser returns a Result whose error message is short and says what
// was wrong with the value; the caller adds file, line and key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.hpp"
#include "common/util/result.hpp"

namespace etrn {

// parse_duration with a range check: > 0, or >= 0.
Result<Seconds> parse_positive_duration(std::string_view text);
Result<Seconds> parse_nonnegative_duration(std::string_view text);
// history_retention: 0 (keep forever) or at least kShortestRetention.
inline constexpr Seconds kShortestRetention{24 * 3600};
Result<Seconds> parse_retention(std::string_view text);

// One etrn_domains entry: "name" or ".name" (strict subdomains of name).
// Lower-cases ASCII, strips one trailing dot; UTF-8 bytes are kept as is.
Result<std::string> parse_domain_pattern(std::string_view text);
// A comma- and/or whitespace-separated list of domain patterns; may be empty.
Result<std::vector<std::string>> parse_domain_list(std::string_view text);
// A comma- and/or whitespace-separated list of transport (mailer) names,
// lower-cased; may be empty.
Result<std::vector<std::string>> parse_transport_list(std::string_view text);
std::string format_list(const std::vector<std::string>& items);  // "a, b"

// "customer.example expire_after=72h warn_after=12h".
Result<DomainPolicy> parse_domain_policy(std::string_view text);
std::string format_domain_policy(const DomainPolicy& policy);

// Bytes, with an optional suffix k (1024) or M (1048576); not negative.
Result<std::int64_t> parse_byte_size(std::string_view text);

// "unix:/path", "local:/path", "inet:PORT@HOST", "inet6:PORT@HOST" or a bare
// absolute path (libmilter's forms).
Result<std::string> parse_milter_socket(std::string_view text);

// trace debug info warn error (case-insensitive; stored lower case).
Result<std::string> parse_log_level(std::string_view text);

Result<MtaKind> parse_mta_kind(std::string_view text);
std::string_view to_string(MtaKind kind);
Result<OnError> parse_on_error(std::string_view text);
std::string_view to_string(OnError action);

// A host name for Reporting-MTA (RFC 1123: letters, digits and hyphens in
// dot-separated labels of 1 to 63 characters, none starting or ending with a
// hyphen, 253 in all): no port, no brackets, no address.
Result<std::string> parse_host_name(std::string_view text);

// One mail address for notices (the postmaster's): "postmaster" or
// "user@domain"; no spaces, angle brackets or control characters.
Result<std::string> parse_notice_address(std::string_view text);

// A unix socket's permissions in octal, "0660": read and write for its
// owner, nothing more than read and write for anyone, no other bits.
Result<int> parse_socket_mode(std::string_view text);
std::string format_socket_mode(int mode);

// A value that must not be empty (paths, names).
Result<std::string> parse_required_text(std::string_view text);

// An absolute path, or "" (none / the default).
Result<std::string> parse_absolute_path(std::string_view text);

}  // namespace etrn
