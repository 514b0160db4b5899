// postfix_transport_test.cpp - transport_maps lookup keys in trivial-
// rewrite's order, map names, and the transport of a lookup result.
#include "common/mta/postfix_transport.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

using Keys = std::vector<std::string>;

TEST(PostfixTransport, KeysGoFromTheWholeAddressThroughParentDomainsToTheWildCard) {
  EXPECT_EQ(
      transport_lookup_keys("Bob@A.Customer.Example", ParentDomainStyle::dot_prefix, false),
      (Keys{"bob@a.customer.example", "a.customer.example", ".customer.example", ".example", "*"}));
  EXPECT_EQ(
      transport_lookup_keys("bob@a.customer.example.", ParentDomainStyle::bare_parents, false),
      (Keys{"bob@a.customer.example.", "a.customer.example", "customer.example", "example", "*"}));
}

TEST(PostfixTransport, ARegularExpressionTableIsAskedTheWholeAddressOnly) {
  EXPECT_EQ(transport_lookup_keys("bob@customer.example", ParentDomainStyle::dot_prefix, true),
            Keys{"bob@customer.example"});
  EXPECT_TRUE(is_pattern_table("regexp:/etc/postfix/t"));
  EXPECT_TRUE(is_pattern_table("proxy:pcre:/etc/postfix/t"));
  EXPECT_FALSE(is_pattern_table("hash:/etc/postfix/regexp"));
}

TEST(PostfixTransport, MapsAreSeparatedByCommasOrWhiteSpace) {
  EXPECT_EQ(postfix_map_names("texthash:/a, hash:/b\tpcre:/c  "),
            (Keys{"texthash:/a", "hash:/b", "pcre:/c"}));
  EXPECT_TRUE(postfix_map_names("").empty());
}

TEST(PostfixTransport, TheParentStyleFollowsParentDomainMatchingSubdomains) {
  EXPECT_EQ(parent_domain_style(""), ParentDomainStyle::dot_prefix);
  EXPECT_EQ(parent_domain_style("debug_peer_list, transport_maps"),
            ParentDomainStyle::bare_parents);
  EXPECT_EQ(parent_domain_style("transport_maps_x"), ParentDomainStyle::dot_prefix);
}

TEST(PostfixTransport, TheTransportIsTheFieldBeforeTheColon) {
  EXPECT_EQ(transport_of_entry("etrn-only:[127.0.0.1]:30711"), "etrn-only");
  EXPECT_EQ(transport_of_entry("slowlane:"), "slowlane");
  EXPECT_EQ(transport_of_entry("relay"), "relay");
  EXPECT_EQ(transport_of_entry(":[other.example]"), "") << "the transport is left as it is";
  EXPECT_EQ(transport_of_entry(""), "");
}

}  // namespace
}  // namespace etrn
