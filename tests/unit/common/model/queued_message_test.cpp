// queued_message_test.cpp - looking up a recipient's DSN parameters in a
// queued envelope.
#include "common/model/queued_message.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

QueuedEnvelope envelope_of_bob_and_carol() {
  QueuedEnvelope e;
  e.recipients = {
      {"Bob@Customer.example", {Notify::parse("NEVER"), "rfc822;bob@customer.example"}},
      {"carol@customer.example", {Notify::parse("FAILURE"), ""}, "team@customer.example"}};
  return e;
}

TEST(QueuedEnvelope, GivesTheDsnParametersOfARecipientWhateverTheCase) {
  const RecipientDsnParams got = envelope_of_bob_and_carol().dsn_for("bob@customer.example");
  EXPECT_EQ(got.notify.to_string(), "NEVER");
  EXPECT_EQ(got.orcpt, "rfc822;bob@customer.example");
}

TEST(QueuedEnvelope, GivesNoDsnParametersForARecipientItDoesNotList) {
  const RecipientDsnParams got = envelope_of_bob_and_carol().dsn_for("dave@customer.example");
  EXPECT_FALSE(got.notify.given) << "got NOTIFY=" << got.notify.to_string() << ", want none";
  EXPECT_EQ(got.orcpt, "");
}

}  // namespace
}  // namespace etrn
