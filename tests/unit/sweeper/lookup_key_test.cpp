// lookup_key_test.cpp - what a look-up argument names, and queue IDs
// checked with the configured MTA's validator.
#include "sweeper/lookup_key.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

TEST(LookupKey, AngleBracketsMakeAMessageIdAndAnAtSignAnAddress) {
  auto id = classify_lookup("<1@sender.example>", MtaKind::postfix);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->kind, LookupKind::message_id);
  auto address = classify_lookup(" bob@customer.example ", MtaKind::postfix);
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(address->kind, LookupKind::address);
  EXPECT_EQ(address->text, "bob@customer.example");
}

TEST(LookupKey, AnythingElseMustBeTheMtasQueueId) {
  auto postfix = classify_lookup("4AbC1", MtaKind::postfix);
  ASSERT_FALSE(postfix.ok()) << "lower case is no short Postfix queue ID";
  EXPECT_NE(postfix.error().message.find("want a queue ID, an address"), std::string::npos);
  auto short_id = classify_lookup("4ABC1D", MtaKind::postfix);
  ASSERT_TRUE(short_id.ok());
  EXPECT_EQ(short_id->kind, LookupKind::queue_id);
  EXPECT_FALSE(classify_lookup("ALL", MtaKind::postfix).ok());
  EXPECT_FALSE(classify_lookup("-", MtaKind::postfix).ok());
  EXPECT_TRUE(classify_lookup("4B2CxY012345", MtaKind::sendmail).ok());
  EXPECT_FALSE(classify_lookup("../qf1234", MtaKind::sendmail).ok());
}

}  // namespace
}  // namespace etrn
