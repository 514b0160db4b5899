// etrn_match.hpp - is a recipient ETRN-only? (pure)
//
// A recipient is ETRN-only when its domain matches `etrn_domains` (a
// ".name" entry matches the subdomains of name; case-insensitive; trailing
// dots ignored; IDNA A-labels compared as given, UTF-8 names lower-cased in
// ASCII only) or its {rcpt_mailer} is in `etrn_transports`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace etrn {

// Lower-cases ASCII, strips one trailing dot and surrounding brackets/space.
std::string normalize_domain(std::string_view domain);

// The domain part of an address ("<Bob@Customer.Example.>" -> "customer.example");
// empty when there is no '@'. Handles a quoted local part containing '@'.
std::string domain_of(std::string_view address);

// Strips one pair of surrounding angle brackets.
std::string_view strip_angle_brackets(std::string_view address);

// Does `domain` (normalized) match one pattern ("name" or ".name")?
bool domain_matches(std::string_view domain, std::string_view pattern);

class EtrnMatcher {
 public:
  EtrnMatcher(std::vector<std::string> domains, std::vector<std::string> transports);
  bool domain_is_etrn(std::string_view domain) const;
  bool is_etrn_only(std::string_view address, std::string_view rcpt_mailer) const;

 private:
  std::vector<std::string> domains_;
  std::vector<std::string> transports_;
};

}  // namespace etrn
