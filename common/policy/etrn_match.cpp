// etrn_match.cpp - is a recipient ETRN-only? (pure)
//
// Domains are compared byte-wise after ASCII lower-casing, so an IDNA
// A-label matches only its A-label and a UTF-8 name only the same UTF-8
// bytes (non-ASCII letters keep their case). A pattern ".name" matches the
// strict subdomains of name ("a.name", "b.a.name") but NOT name itself:
// list both "name" and ".name" to cover a domain and its subdomains.
#include "common/policy/etrn_match.hpp"

#include <algorithm>
#include <utility>

#include "common/util/strings.hpp"

namespace etrn {

std::string_view strip_angle_brackets(std::string_view address) {
  if (address.size() >= 2 && address.front() == '<' && address.back() == '>') {
    return address.substr(1, address.size() - 2);
  }
  return address;
}

std::string normalize_domain(std::string_view domain) {
  auto d = trim(domain);
  if (d.size() >= 2 && d.front() == '[' && d.back() == ']') d = d.substr(1, d.size() - 2);
  d = trim(strip_angle_brackets(d));
  if (!d.empty() && d.back() == '.') d.remove_suffix(1);
  return ascii_lower(d);
}

namespace {

// Position of the '@' that separates local part and domain: the last one
// outside a quoted string ("a@b"@example.org) and not backslash-escaped.
std::string_view::size_type domain_separator(std::string_view address) {
  bool quoted = false;
  auto found = std::string_view::npos;
  for (std::size_t i = 0; i < address.size(); ++i) {
    const char c = address[i];
    if (c == '\\' && quoted) {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == '@' && !quoted) {
      found = i;
    }
  }
  return found;
}

}  // namespace

std::string domain_of(std::string_view address) {
  const auto a = strip_angle_brackets(trim(address));
  const auto at = domain_separator(a);
  if (at == std::string_view::npos) return "";
  return normalize_domain(a.substr(at + 1));
}

bool domain_matches(std::string_view domain, std::string_view pattern) {
  if (pattern.empty() || domain.empty()) return false;
  if (pattern.front() != '.') return iequals(domain, pattern);
  if (pattern.size() == 1) return false;  // a lone "." matches nothing
  // ".name": the domain must end in ".name" and have a label before it.
  return domain.size() > pattern.size() &&
         iequals(domain.substr(domain.size() - pattern.size()), pattern);
}

EtrnMatcher::EtrnMatcher(std::vector<std::string> domains, std::vector<std::string> transports)
    : domains_(std::move(domains)), transports_(std::move(transports)) {}

bool EtrnMatcher::domain_is_etrn(std::string_view domain) const {
  const auto d = normalize_domain(domain);
  return std::any_of(domains_.begin(), domains_.end(),
                     [&d](const std::string& pattern) { return domain_matches(d, pattern); });
}

bool EtrnMatcher::is_etrn_only(std::string_view address, std::string_view rcpt_mailer) const {
  const auto mailer = trim(rcpt_mailer);
  const bool by_transport =
      !mailer.empty() && std::any_of(transports_.begin(), transports_.end(),
                                     [mailer](const std::string& t) { return iequals(t, mailer); });
  if (by_transport) return true;
  const auto domain = domain_of(address);
  return !domain.empty() && domain_is_etrn(domain);
}

}  // namespace etrn
