// prune_command_test.cpp - the prune at the end of a sweep, on a real
// SQLite file: it prunes what history_retention says, nothing with 0, and
// a database that refuses the writes is a warning, never an exception that
// would turn a sweep whose mail work is done into a failure.
#include "sweeper/prune_command.hpp"

#include <gtest/gtest.h>

#include "tests/unit/common/store/test_database.hpp"

namespace etrn {
namespace {

using testing::count_rows;

constexpr EpochSeconds kNow = 1800000000;
constexpr EpochSeconds kLongAgo = kNow - 500 * 24 * 3600;

class PruneAfterSweep : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto db = open_db();
    ASSERT_NE(db, nullptr);
    const std::string at = std::to_string(kLongAgo);
    db->exec(
        "INSERT INTO messages (id, queue_id, arrival_time, sender, priority, source,"
        " recorded_at, done_at) VALUES (1, 'Q1', " +
        at +
        ", 'a@s.example', 'normal',"
        " 'milter', " +
        at + ", " + at +
        ");"
        "INSERT INTO recipients (message, address, domain, state, expires_at,"
        " state_changed_at) VALUES (1, 'b@c.example', 'c.example', 'departed', " +
        at + ", " + at + ")");
  }
  std::int64_t messages() {
    auto db = open_db(OpenMode::read_only);
    return db ? count_rows(*db, "SELECT count(*) FROM messages") : -1;
  }
};

TEST_F(PruneAfterSweep, ADatabaseThatRefusesTheDeletesIsOnlyAWarning) {
  auto read_only = open_db(OpenMode::read_only);
  ASSERT_NE(read_only, nullptr);
  EXPECT_NO_THROW(prune_after_sweep(Config{}, *read_only, kNow));
  EXPECT_EQ(messages(), 1);
}

TEST_F(PruneAfterSweep, PrunesWhatTheRetentionSaysAndNothingWithZero) {
  auto db = open_db();
  ASSERT_NE(db, nullptr);
  Config forever;
  forever.history_retention = Seconds{0};
  prune_after_sweep(forever, *db, kNow);
  EXPECT_EQ(messages(), 1);
  prune_after_sweep(Config{}, *db, kNow);  // 400d
  EXPECT_EQ(messages(), 0);
}

}  // namespace
}  // namespace etrn
