// etrn_match_test.cpp - tests of which recipients are ETRN-only.
#include "common/policy/etrn_match.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

TEST(NormalizeDomain, LowerCasesAndStripsOneTrailingDot) {
  EXPECT_EQ(normalize_domain("Customer.Example."), "customer.example");
  EXPECT_EQ(normalize_domain(" customer.example "), "customer.example");
}

TEST(NormalizeDomain, StripsBracketsAroundAnAddressLiteral) {
  EXPECT_EQ(normalize_domain("[192.0.2.1]"), "192.0.2.1");
}

TEST(NormalizeDomain, KeepsUtf8BytesAndLowersOnlyAscii) {
  EXPECT_EQ(normalize_domain("B\xC3\x9C"
                             "CHER.Example"),
            "b\xC3\x9C"
            "cher.example");
}

TEST(StripAngleBrackets, StripsOnePair) {
  EXPECT_EQ(strip_angle_brackets("<bob@example>"), "bob@example");
  EXPECT_EQ(strip_angle_brackets("<<bob@example>>"), "<bob@example>");
}

TEST(StripAngleBrackets, LeavesUnbalancedOrBareAddressesAlone) {
  EXPECT_EQ(strip_angle_brackets("bob@example"), "bob@example");
  EXPECT_EQ(strip_angle_brackets("<bob@example"), "<bob@example");
  EXPECT_EQ(strip_angle_brackets("<>"), "");
}

TEST(DomainOf, TakesTheDomainAfterTheLastAt) {
  EXPECT_EQ(domain_of("<Bob@Customer.Example.>"), "customer.example");
  EXPECT_EQ(domain_of("bob@customer.example"), "customer.example");
}

TEST(DomainOf, IgnoresAnAtInsideAQuotedLocalPart) {
  EXPECT_EQ(domain_of("\"bob@home\"@customer.example"), "customer.example");
  EXPECT_EQ(domain_of("<\"a\\\"@b\"@customer.example>"), "customer.example");
}

TEST(DomainOf, IsEmptyWithoutAnAt) {
  EXPECT_EQ(domain_of("postmaster"), "");
  EXPECT_EQ(domain_of("<>"), "");
  EXPECT_EQ(domain_of("\"bob@home\""), "");
}

TEST(DomainMatches, MatchesANameExactlyInAnyCase) {
  EXPECT_TRUE(domain_matches("customer.example", "customer.example"));
  EXPECT_TRUE(domain_matches("customer.example", "Customer.EXAMPLE"));
  EXPECT_FALSE(domain_matches("sub.customer.example", "customer.example"));
  EXPECT_FALSE(domain_matches("xcustomer.example", "customer.example"));
}

TEST(DomainMatches, DotNameMatchesStrictSubdomainsOnly) {
  EXPECT_TRUE(domain_matches("a.dialup.example", ".dialup.example"));
  EXPECT_TRUE(domain_matches("b.a.dialup.example", ".dialup.example"));
  EXPECT_FALSE(domain_matches("dialup.example", ".dialup.example"));
  EXPECT_FALSE(domain_matches("xdialup.example", ".dialup.example"));
}

TEST(DomainMatches, EmptyOrLoneDotPatternsMatchNothing) {
  EXPECT_FALSE(domain_matches("example", ""));
  EXPECT_FALSE(domain_matches("example", "."));
  EXPECT_FALSE(domain_matches("", "example"));
}

TEST(DomainMatches, ComparesUtf8NamesByteWise) {
  EXPECT_TRUE(
      domain_matches("b\xC3\xBC"
                     "cher.example",
                     "b\xC3\xBC"
                     "cher.example"));
  EXPECT_FALSE(domain_matches("xn--bcher-kva.example",
                              "b\xC3\xBC"
                              "cher.example"));
}

TEST(EtrnMatcher, RecognisesAnEtrnDomain) {
  const EtrnMatcher m({"customer.example", ".dialup.example"}, {});
  EXPECT_TRUE(m.domain_is_etrn("CUSTOMER.example."));
  EXPECT_TRUE(m.domain_is_etrn("host1.dialup.example"));
  EXPECT_FALSE(m.domain_is_etrn("dialup.example"));
  EXPECT_FALSE(m.domain_is_etrn("other.example"));
}

TEST(EtrnMatcher, RecipientIsEtrnOnlyByDomain) {
  const EtrnMatcher m({"customer.example"}, {});
  EXPECT_TRUE(m.is_etrn_only("<Bob@Customer.Example>", "smtp"));
  EXPECT_FALSE(m.is_etrn_only("bob@other.example", "smtp"));
}

TEST(EtrnMatcher, RecipientIsEtrnOnlyByTransportInAnyCase) {
  const EtrnMatcher m({}, {"etrn-only", "dsmtp"});
  EXPECT_TRUE(m.is_etrn_only("bob@other.example", "DSMTP"));
  EXPECT_TRUE(m.is_etrn_only("bob@other.example", "etrn-only"));
  EXPECT_FALSE(m.is_etrn_only("bob@other.example", "smtp"));
}

TEST(EtrnMatcher, AnEmptyMailerMatchesNoTransport) {
  const EtrnMatcher m({}, {"etrn-only"});
  EXPECT_FALSE(m.is_etrn_only("bob@other.example", ""));
}

TEST(EtrnMatcher, AnAddressWithoutDomainIsNotEtrnOnlyByDomain) {
  const EtrnMatcher m({"customer.example"}, {});
  EXPECT_FALSE(m.is_etrn_only("postmaster", ""));
}

}  // namespace
}  // namespace etrn
