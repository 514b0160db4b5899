// header_encoding_test.cpp - validation and encoding of hostile values for
// DSN headers and fields.
#include "common/dsn/header_encoding.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

TEST(HasControlChars, FindsCrLfNulTabAndDelButNotUtf8) {
  EXPECT_TRUE(has_control_chars("a\rb"));
  EXPECT_TRUE(has_control_chars("a\nb"));
  EXPECT_TRUE(has_control_chars(std::string("a\0b", 3)));
  EXPECT_TRUE(has_control_chars("a\tb"));
  EXPECT_TRUE(has_control_chars("a\x7f"));
  EXPECT_FALSE(has_control_chars("m\xC3\xBCller@example.org"));
}

TEST(IsValidUtf8, AcceptsUtf8AndRejectsLatin1OverlongAndSurrogates) {
  EXPECT_TRUE(
      is_valid_utf8("Gr\xC3\xBC\xC3\x9F"
                    "e \xF0\x9F\x93\xA7"));
  EXPECT_FALSE(is_valid_utf8("caf\xE9"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));
}

TEST(IsValidHostname, AcceptsNamesAndLiteralsOnly) {
  EXPECT_TRUE(is_valid_hostname("mx.provider.example"));
  EXPECT_TRUE(is_valid_hostname("[192.0.2.1]"));
  EXPECT_TRUE(is_valid_hostname("[IPv6:2001:db8::1]"));
  EXPECT_FALSE(is_valid_hostname(""));
  EXPECT_FALSE(is_valid_hostname("mx..example"));
  EXPECT_FALSE(is_valid_hostname("-mx.example"));
  EXPECT_FALSE(is_valid_hostname("mx.example\nBcc: x"));
  EXPECT_FALSE(is_valid_hostname("mx example"));
  EXPECT_FALSE(is_valid_hostname(std::string(300, 'a')));
}

TEST(ReportingHostName, DropsOneTrailingDotOnly) {
  EXPECT_EQ(reporting_host_name("mx.example."), "mx.example");
  EXPECT_EQ(reporting_host_name("mx.example"), "mx.example");
  EXPECT_EQ(reporting_host_name("mx.example.."), "mx.example.") << "still invalid afterwards";
  EXPECT_EQ(reporting_host_name("."), ".");
}

TEST(HeaderAddrSpec, KeepsADotAtomAndQuotesAnythingElse) {
  EXPECT_EQ(*header_addr_spec("bob+tag@example.org", false), "bob+tag@example.org");
  EXPECT_EQ(*header_addr_spec("bob smith@example.org", false), "\"bob smith\"@example.org");
  EXPECT_EQ(*header_addr_spec("a\"b\\c@example.org", false), "\"a\\\"b\\\\c\"@example.org");
  EXPECT_EQ(*header_addr_spec(".bob@example.org", false), "\".bob\"@example.org");
  EXPECT_EQ(*header_addr_spec("\"john doe\"@example.org", false), "\"john doe\"@example.org")
      << "an already quoted local part stays as it is";
  EXPECT_EQ(*header_addr_spec("\"a\\\"b\"@example.org", false), "\"a\\\"b\"@example.org");
  EXPECT_EQ(*header_addr_spec("\"a\\\"@example.org", false), "\"\\\"a\\\\\\\"\"@example.org")
      << "a quote escaped by the backslash does not close the string";
}

TEST(HeaderAddrSpec, RefusesWhatCannotBeAddressed) {
  EXPECT_FALSE(header_addr_spec("", false).ok()) << "null sender";
  EXPECT_FALSE(header_addr_spec("bob@example.org\r\nBcc: x@y", false).ok());
  EXPECT_FALSE(header_addr_spec(std::string("bob\0@example.org", 16), false).ok());
  EXPECT_FALSE(header_addr_spec("bob", false).ok()) << "no domain";
  EXPECT_FALSE(header_addr_spec("@example.org", false).ok()) << "no local part";
  EXPECT_FALSE(header_addr_spec("bob@exa mple.org", false).ok());
  EXPECT_FALSE(header_addr_spec(std::string(10000, 'b') + "@example.org", false).ok());
}

TEST(HeaderAddrSpec, AllowsUtf8OnlyForSmtputf8) {
  const std::string address =
      "j\xC3\xB6ran@b\xC3\xBC"
      "cher.example";
  EXPECT_FALSE(header_addr_spec(address, false).ok());
  ASSERT_TRUE(header_addr_spec(address, true).ok());
  EXPECT_EQ(*header_addr_spec(address, true), address);
  EXPECT_FALSE(header_addr_spec("caf\xE9@example.org", true).ok()) << "Latin-1 is not UTF-8";
}

TEST(DsnRecipientFieldValue, PlainAddressIsRfc822AsIs) {
  EXPECT_EQ(dsn_recipient_field_value("bob+tag@example.org", false), "rfc822; bob+tag@example.org");
}

TEST(DsnRecipientFieldValue, ControlsSpacesAndEightBitAreXtextEncoded) {
  EXPECT_EQ(dsn_recipient_field_value("a b\r\n@x", false), "rfc822; a+20b+0D+0A@x");
  EXPECT_EQ(dsn_recipient_field_value("m\xC3\xBC@x", false), "rfc822; m+C3+BC@x");
  EXPECT_EQ(dsn_recipient_field_value(std::string("a\0@x", 4), false), "rfc822; a+00@x");
}

TEST(DsnRecipientFieldValue, Utf8AddressInAGlobalDsnIsUtf8TypeWithUnitext) {
  EXPECT_EQ(dsn_recipient_field_value("m\xC3\xBC@x", true), "utf-8; m\xC3\xBC@x");
  EXPECT_EQ(dsn_recipient_field_value("m\xC3\xBC\n+@x", true), "utf-8; m\xC3\xBC\\x{A}\\x{2B}@x");
  EXPECT_EQ(dsn_recipient_field_value("bob@x", true), "rfc822; bob@x") << "ASCII stays rfc822";
}

TEST(DsnTruncatedRecipientFieldValue, KeepsAtMost800OctetsWithoutSplittingAnXtextEscape) {
  EXPECT_EQ(dsn_truncated_recipient_field_value(std::string(5000, 'a')),
            "x-etrn-truncated; " + std::string(800, 'a'));
  const std::string got = dsn_truncated_recipient_field_value("a" + std::string(5000, '\n'));
  EXPECT_EQ(got.size(), std::string("x-etrn-truncated; ").size() + 1 + 3 * 266) << got;
  EXPECT_TRUE(got.ends_with("+0A"));
}

TEST(DsnOriginalRecipientFieldValue, KeepsTheAddressType) {
  EXPECT_EQ(*dsn_original_recipient_field_value("rfc822;Bob@X", false), "rfc822; Bob@X");
  EXPECT_EQ(*dsn_original_recipient_field_value("x400;/C=DE/", false), "x400; /C=DE/");
  EXPECT_EQ(*dsn_original_recipient_field_value("utf-8;m\xC3\xBC@x", true), "utf-8; m\xC3\xBC@x");
  EXPECT_EQ(*dsn_original_recipient_field_value("utf-8;m\xC3\xBC@x", false), "utf-8; m+C3+BC@x");
}

TEST(DsnOriginalRecipientFieldValue, RefusesABadType) {
  EXPECT_FALSE(dsn_original_recipient_field_value("bob@x", false).ok());
  EXPECT_FALSE(dsn_original_recipient_field_value("rfc822\nX-Injected: 1;bob@x", false).ok());
  EXPECT_FALSE(dsn_original_recipient_field_value("rfc822;", false).ok());
}

TEST(DsnEnvelopeIdValue, EncodesOnlyWhenNeeded) {
  EXPECT_EQ(dsn_envelope_id_value("QQ314159"), "QQ314159");
  EXPECT_EQ(dsn_envelope_id_value("a b\n"), "a+20b+0A");
}

TEST(FoldHeader, FoldsLongValuesAtSpaces) {
  const std::string value =
      "smtp; 550 5.4.7 Message expired: delivery time expired after 2 days in queue; "
      "customer.example never asked";
  const std::string got = fold_header("Diagnostic-Code", value);
  EXPECT_EQ(got,
            "Diagnostic-Code: smtp; 550 5.4.7 Message expired: delivery time expired after\n"
            " 2 days in queue; customer.example never asked\n");
}

TEST(FoldHeader, ShortValueStaysOnOneLineAndDoubleSpacesNeverMakeEmptyLines) {
  EXPECT_EQ(fold_header("Action", "failed"), "Action: failed\n");
  const std::string got = fold_header("X", std::string(70, 'a') + "  " + std::string(20, 'b'));
  EXPECT_EQ(got.find("\n \n"), std::string::npos) << got;
}

}  // namespace
}  // namespace etrn
