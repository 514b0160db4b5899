// envelope_test.cpp - NOTIFY and RET keywords, envelope comparison.
#include "common/model/envelope.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

TEST(NotifyParse, ReadsAListOfWordsInAnyCase) {
  const auto n = Notify::parse("success,Delay");
  EXPECT_TRUE(n.given);
  EXPECT_TRUE(n.success);
  EXPECT_TRUE(n.delay);
  EXPECT_FALSE(n.failure);
  EXPECT_FALSE(n.never);
}

TEST(NotifyParse, ReadsNever) {
  const auto n = Notify::parse("NEVER");
  EXPECT_TRUE(n.given);
  EXPECT_TRUE(n.never);
  EXPECT_FALSE(n.allows_failure_dsn());
  EXPECT_FALSE(n.allows_delay_dsn());
}

TEST(NotifyParse, IgnoresUnknownWordsButCountsAsGiven) {
  const auto n = Notify::parse("FAILURE,BOGUS");
  EXPECT_TRUE(n.given);
  EXPECT_TRUE(n.failure);
  EXPECT_FALSE(n.allows_delay_dsn());
}

TEST(NotifyParse, ToleratesSpacesAroundWords) {
  const auto n = Notify::parse(" FAILURE , DELAY ");
  EXPECT_TRUE(n.failure);
  EXPECT_TRUE(n.delay);
}

TEST(NotifyToString, IsEmptyWhenNotGiven) {
  EXPECT_EQ(Notify{}.to_string(), "");
}

TEST(NotifyToString, WritesNever) {
  EXPECT_EQ(Notify::parse("never").to_string(), "NEVER");
}

TEST(NotifyToString, WritesWordsInTheFixedOrder) {
  EXPECT_EQ(Notify::parse("DELAY,SUCCESS,FAILURE").to_string(), "SUCCESS,FAILURE,DELAY");
  EXPECT_EQ(Notify::parse("delay,failure").to_string(), "FAILURE,DELAY");
}

TEST(Notify, WithoutAParameterAllowsFailureAndDelayDsns) {
  const Notify n;
  EXPECT_TRUE(n.allows_failure_dsn());
  EXPECT_TRUE(n.allows_delay_dsn());
}

TEST(NotifyToString, RoundTripsThroughParse) {
  for (const char* text : {"NEVER", "SUCCESS", "FAILURE", "DELAY", "SUCCESS,FAILURE",
                           "FAILURE,DELAY", "SUCCESS,FAILURE,DELAY"}) {
    EXPECT_EQ(Notify::parse(text).to_string(), text);
  }
}

TEST(ReturnContent, IsSpelledWithRetsKeywords) {
  EXPECT_EQ(to_string(ReturnContent::full), "FULL");
  EXPECT_EQ(to_string(ReturnContent::headers), "HDRS");
  EXPECT_EQ(to_string(ReturnContent::unspecified), "");
}

TEST(ReturnContent, ParsesRetsKeywordsInAnyCaseAndAnythingElseAsUnspecified) {
  EXPECT_EQ(parse_return_content("HDRS"), ReturnContent::headers);
  EXPECT_EQ(parse_return_content("full"), ReturnContent::full);
  EXPECT_EQ(parse_return_content(""), ReturnContent::unspecified);
  EXPECT_EQ(parse_return_content("BODY"), ReturnContent::unspecified);
}

TEST(Envelope, EqualsOnlyAnEnvelopeWithTheSameFourFields) {
  const Envelope a{"alice@sender.example", ReturnContent::headers, "id1", false};
  Envelope b = a;
  EXPECT_EQ(a, b);
  b.smtputf8 = true;
  EXPECT_NE(a, b) << "SMTPUTF8 differs";
  b = a;
  b.envid = "id2";
  EXPECT_NE(a, b) << "ENVID differs";
}

TEST(RecipientDsnParams, EqualsOnlyTheSameNotifyAndOrcpt) {
  const RecipientDsnParams a{Notify::parse("NEVER"), "rfc822;bob@customer.example"};
  EXPECT_EQ(a, (RecipientDsnParams{Notify::parse("never"), "rfc822;bob@customer.example"}));
  EXPECT_NE(a, (RecipientDsnParams{Notify::parse("FAILURE"), "rfc822;bob@customer.example"}));
  EXPECT_NE(a, (RecipientDsnParams{Notify::parse("NEVER"), ""}));
}

}  // namespace
}  // namespace etrn
