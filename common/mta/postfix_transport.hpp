// postfix_transport.hpp - which transport Postfix's transport_maps give an
// address, the way trivial-rewrite looks it up (transport(5), Postfix 3.7
// src/trivial-rewrite/transport.c). Pure: the lookups themselves are
// `postmap -q - MAP` runs in postfix_mta.cpp.
//
// Search order, first match wins; each key is tried against every map in
// turn before the next key:
//   user@domain                 (the whole address)
//   domain, then its parents:   ".parent.example", ".example" - or, when
//                               parent_domain_matches_subdomains lists
//                               transport_maps, "parent.example", "example"
//   *                           the wild card
// A regular expression table (regexp:, pcre:) is only asked the whole
// address, as transport.c does. Not done: user+extension@domain with a
// recipient_delimiter; the default transports (relay_transport & co.)
// when no entry matches: those addresses have no transport here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace etrn {

enum class ParentDomainStyle {
  dot_prefix,    // ".example" matches subdomains of example (the default)
  bare_parents,  // "example" matches example and its subdomains
};

// The keys to look up for one address, lower-cased, in search order; for
// a regular expression table, only the whole address.
std::vector<std::string> transport_lookup_keys(std::string_view address, ParentDomainStyle style,
                                               bool pattern_table);

// The maps of a transport_maps value ("texthash:/a, hash:/b  pcre:/c").
std::vector<std::string> postfix_map_names(std::string_view setting);

// regexp: and pcre: tables match patterns against the whole address.
bool is_pattern_table(std::string_view map);

// The style parent_domain_matches_subdomains (postconf -xh) asks for.
ParentDomainStyle parent_domain_style(std::string_view parent_domain_matches_subdomains);

// The transport of a lookup result "transport:nexthop" ("etrn-only:[h]:25"
// -> "etrn-only"); "" when the entry leaves the transport as it is
// (":nexthop", ":" or "").
std::string transport_of_entry(std::string_view entry);

}  // namespace etrn
