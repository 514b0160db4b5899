// postgres_array_test.cpp - array literals: every text element quoted and
// escaped, NULL as NULL, numbers bare; and PostgreSQL reads back exactly
// what went in.
#include "common/store/postgres_array.hpp"

#include <gtest/gtest.h>

#include "tests/unit/common/store/test_database.hpp"

namespace etrn {
namespace {

TEST(PostgresArrayTest, AnEmptyArrayIsTwoBraces) {
  EXPECT_EQ(PostgresArray().literal(), "{}");
}

TEST(PostgresArrayTest, TextIsQuotedWithQuotesAndBackslashesEscaped) {
  PostgresArray array;
  array.add(std::string_view("plain")).add(std::string_view("a\"b\\c")).add(std::string_view(""));
  EXPECT_EQ(array.literal(), R"({"plain","a\"b\\c",""})");
}

TEST(PostgresArrayTest, NullsAndNumbersAreBare) {
  PostgresArray array;
  array.add(std::int64_t{-5}).add(std::optional<std::int64_t>()).add(std::optional<std::string>());
  array.add(std::optional<std::string>("NULL"));
  EXPECT_EQ(array.literal(), R"({-5,NULL,NULL,"NULL"})");
}

class PostgresArrayOnTheServer : public testing::EngineTest {};
INSTANTIATE_TEST_SUITE_P(Engine, PostgresArrayOnTheServer, ::testing::Values(SqlEngine::postgresql),
                         testing::engine_name);

TEST_P(PostgresArrayOnTheServer, ReadsBackEveryElementAsGiven) {
  auto db = open_db();
  ASSERT_TRUE(db);
  const std::vector<std::optional<std::string>> want = {
      "a,b", "{c}", "\"quoted\"", "back\\slash", " spaced ", "NULL", std::nullopt, "é", ""};
  PostgresArray array;
  for (const auto& value : want) array.add(value);
  Statement& read = db->prepare(
      "SELECT value FROM unnest(?1::text[]) WITH ORDINALITY AS a (value, n) ORDER BY n");
  read.bind(1, array.literal());
  for (const auto& value : want) {
    ASSERT_TRUE(read.step());
    if (value) {
      EXPECT_EQ(read.column_text(0), *value);
    } else {
      EXPECT_TRUE(read.column_is_null(0));
    }
  }
  EXPECT_FALSE(read.step());
}

}  // namespace
}  // namespace etrn
