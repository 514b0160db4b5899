// postfix_transport.cpp - transport_maps lookup keys and results (see the header).
#include "common/mta/postfix_transport.hpp"

#include <algorithm>

#include "common/util/strings.hpp"

namespace etrn {

namespace {

// The domain of an address: after its last '@'; "" when there is none.
std::string_view domain_part(std::string_view address) {
  const std::size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}

}  // namespace

std::vector<std::string> transport_lookup_keys(std::string_view address, ParentDomainStyle style,
                                               bool pattern_table) {
  std::vector<std::string> keys{ascii_lower(address)};
  if (pattern_table) return keys;
  std::string_view domain = domain_part(address);
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (!domain.empty()) keys.push_back(ascii_lower(domain));
  for (std::size_t dot = domain.find('.', 1); dot != std::string_view::npos;
       dot = domain.find('.', dot + 1)) {
    const std::size_t from = style == ParentDomainStyle::dot_prefix ? dot : dot + 1;
    if (from < domain.size()) keys.push_back(ascii_lower(domain.substr(from)));
  }
  keys.emplace_back("*");
  return keys;
}

std::vector<std::string> postfix_map_names(std::string_view setting) {
  std::string spaced(setting);
  std::replace(spaced.begin(), spaced.end(), ',', ' ');
  std::replace(spaced.begin(), spaced.end(), '\t', ' ');
  return split_list(spaced, ' ');
}

bool is_pattern_table(std::string_view map) {
  if (map.starts_with("proxy:")) map.remove_prefix(6);
  return map.starts_with("regexp:") || map.starts_with("pcre:");
}

ParentDomainStyle parent_domain_style(std::string_view parent_domain_matches_subdomains) {
  const std::vector<std::string> names = postfix_map_names(parent_domain_matches_subdomains);
  const bool listed = std::find(names.begin(), names.end(), "transport_maps") != names.end();
  return listed ? ParentDomainStyle::bare_parents : ParentDomainStyle::dot_prefix;
}

std::string transport_of_entry(std::string_view entry) {
  const std::string_view value = trim(entry);
  return std::string(trim(value.substr(0, value.find(':'))));
}

}  // namespace etrn
