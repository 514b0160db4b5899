// Tests for postfix_queue_id: only the two shapes Postfix generates pass.
#include "common/mta/postfix_queue_id.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

TEST(PostfixQueueId, AcceptsShortIdsSeenOnARealPostfix) {
  for (const char* id : {"2A9FCA7225E", "CC5E5A7260C", "C1F98A7211F", "123456"}) {
    EXPECT_TRUE(is_short_postfix_queue_id(id)) << id;
    EXPECT_TRUE(is_postfix_queue_id(id)) << id;
  }
}

TEST(PostfixQueueId, AcceptsLongIdsSeenOnARealPostfix) {
  // Captured with enable_long_queue_ids = yes (tests/data/postfix/postqueue-j-long-id.txt).
  for (const char* id : {"4jcWcd55ffz1bY07", "3v5Wgs6X9sz1bY0", "4jcWcd55ffzz1"}) {
    EXPECT_TRUE(is_long_postfix_queue_id(id)) << id;
  }
  EXPECT_FALSE(is_long_postfix_queue_id("4jcWcd55ffzz1z")) << "the inode part has no 'z'";
}

TEST(PostfixQueueId, RejectsWhatPostsuperTreatsSpecially) {
  for (const char* id : {"ALL", "-", "-d", "--", "", "all"}) {
    EXPECT_FALSE(is_postfix_queue_id(id)) << "\"" << id << "\"";
  }
}

TEST(PostfixQueueId, RejectsShortIdsThatAreTooShortOrNotUpperHex) {
  for (const char* id : {"12345", "2a9fca7225e", "2A9FCA7225G", "2A9F CA7", "2A9FCA7225E\n",
                         "../2A9FCA7", "2A9FCA7/ALL"}) {
    EXPECT_FALSE(is_postfix_queue_id(id)) << id;
  }
}

TEST(PostfixQueueId, RejectsLongIdsWithVowelsOrShortTimeOrNoInode) {
  EXPECT_FALSE(is_postfix_queue_id("4jcWca55ffz1bY07")) << "vowel in the time part";
  EXPECT_FALSE(is_postfix_queue_id("4jcWcd55fz1bY07")) << "time part of 9 digits";
  EXPECT_FALSE(is_postfix_queue_id("4jcWcd55ffz")) << "no inode part";
  EXPECT_FALSE(is_postfix_queue_id("4jcWcd55ffz1bY-07")) << "'-' in the inode part";
}

TEST(PostfixQueueId, RejectsIdsLongerThan64Characters) {
  EXPECT_TRUE(is_postfix_queue_id(std::string(64, 'A')));
  EXPECT_FALSE(is_postfix_queue_id(std::string(65, 'A')));
  EXPECT_FALSE(is_postfix_queue_id("4jcWcd55ffz" + std::string(60, '1')));
}

TEST(PostfixQueueId, ValidateReturnsTheIdOrAQuotedPrintableError) {
  auto good = validate_postfix_queue_id("2A9FCA7225E");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, "2A9FCA7225E");
  auto bad = validate_postfix_queue_id("ALL\n\x01");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "not a Postfix queue ID: \"ALL??\"");
}

}  // namespace
}  // namespace etrn
