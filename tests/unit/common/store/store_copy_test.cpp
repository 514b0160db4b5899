// store_copy_test.cpp - an SQLite store copied into PostgreSQL: every row
// once, ids remapped, a second copy adds nothing, and a copy cut off after
// its first transaction is finished by running it again.
#include "common/store/store_copy.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "common/store/records.hpp"
#include "tests/unit/common/store/test_database.hpp"

namespace etrn {
namespace {

using testing::count_rows;
using testing::sample_message;

class StoreCopyTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    cluster_ = testing::PostgresCluster::get();
    ETRN_REQUIRE_PREREQUISITE(cluster_ != nullptr,
                              "a PostgreSQL test cluster: " + testing::PostgresCluster::why());
    target_uri_ = cluster_->create_store();
    source_ = open_db();
    auto target = Database::open(target_uri_, OpenMode::read_write_create);
    ASSERT_TRUE(target) << target.error().message;
    target_ = std::move(*target);
  }
  void TearDown() override {
    target_.reset();
    if (cluster_ != nullptr && !target_uri_.empty() && !HasFailure())
      cluster_->drop_store(target_uri_);
    TempDirTest::TearDown();
  }

  void record(int messages) {
    std::vector<MessageToRecord> batch;
    for (int i = 0; i < messages; ++i)
      batch.push_back(sample_message("Q" + std::to_string(i), 1000 + i,
                                     {"bob@customer.example", "carol@customer.example"}));
    ASSERT_TRUE(record_messages(*source_, batch, RecordSource::milter, 2000));
  }

  // The audit view's rows and the history, as text, in a fixed order.
  static std::vector<std::string> audit_of(Database& db) {
    std::vector<std::string> rows;
    for (const char* sql :
         {"SELECT queue_id || ' ' || recipient || ' ' || state || ' ' || expires_at FROM "
          "etrn_audit ORDER BY queue_id, recipient",
          "SELECT at || ' ' || queue_id || ' ' || COALESCE(recipient, '-') || ' ' || kind FROM "
          "etrn_events ORDER BY at, queue_id, recipient, kind"}) {
      Statement& s = db.prepare(sql);
      while (s.step()) rows.push_back(s.column_text(0));
      s.reset();
    }
    return rows;
  }

  testing::PostgresCluster* cluster_ = nullptr;
  std::string target_uri_;
  std::unique_ptr<Database> source_;
  std::unique_ptr<Database> target_;
};

TEST_F(StoreCopyTest, CopiesEveryRowOnceAndASecondCopyAddsNothing) {
  record(3);
  // Rows of another host already in the shared store: ids differ.
  record_messages(*target_, std::vector{sample_message("OTHER", 5, {"x@customer.example"})},
                  RecordSource::milter, 6)
      .value();
  const StoreCopy first = copy_store(*source_, *target_, "mx1.example");
  EXPECT_EQ(first.at("messages").copied, 3);
  EXPECT_EQ(first.at("recipients").copied, 6);
  EXPECT_EQ(first.at("events").copied, count_rows(*source_, "SELECT count(*) FROM events"));

  const StoreCopy second = copy_store(*source_, *target_, "mx1.example");
  EXPECT_EQ(second.at("messages").copied, 0);
  EXPECT_EQ(second.at("messages").present, 3);
  EXPECT_EQ(second.at("events").copied, 0);
  EXPECT_EQ(count_rows(*target_, "SELECT count(*) FROM messages"), 4);
  EXPECT_EQ(count_rows(*target_, "SELECT count(*) FROM recipients"), 7);

  std::vector<std::string> want = audit_of(*source_);
  std::vector<std::string> got = audit_of(*target_);
  std::erase_if(got, [](const std::string& row) { return row.find("OTHER") != std::string::npos; });
  EXPECT_EQ(got, want);
}

// In the shared store every row names its host: the source's rows that
// name none become the copying host's; those that name one keep it.
TEST_F(StoreCopyTest, RowsThatNameNoHostBecomeTheCopyingHostsOwn) {
  record(2);
  source_->exec("UPDATE messages SET instance = 'mx9.example' WHERE queue_id = 'Q1'");
  copy_store(*source_, *target_, "mx1.example");
  EXPECT_EQ(count_rows(*target_, "SELECT count(*) FROM messages WHERE instance = 'mx1.example'"),
            1);
  EXPECT_EQ(count_rows(*target_, "SELECT count(*) FROM messages WHERE instance = 'mx9.example'"),
            1);
  EXPECT_EQ(count_rows(*target_, "SELECT count(*) FROM etrn_events WHERE instance = ''"), 0);
  EXPECT_EQ(count_rows(*target_, "SELECT count(*) FROM etrn_audit WHERE instance = ''"), 0);
  const StoreCopy again = copy_store(*source_, *target_, "mx1.example");
  EXPECT_EQ(again.at("events").copied, 0) << "claimed rows are found again";
}

TEST_F(StoreCopyTest, ACopyCutOffAfterItsFirstTransactionIsFinishedByTheNext) {
  record(700);  // two transactions of messages
  int transactions = 0;
  EXPECT_THROW(copy_store(*source_, *target_, "mx1.example",
                          [&](const StoreCopy&) {
                            if (++transactions == 1) throw std::runtime_error("killed");
                          }),
               std::runtime_error);
  EXPECT_EQ(count_rows(*target_, "SELECT count(*) FROM messages"), 500)
      << "the first transaction committed, nothing of the second";
  EXPECT_EQ(count_rows(*target_, "SELECT count(*) FROM recipients"), 1000);

  const StoreCopy rest = copy_store(*source_, *target_, "mx1.example");
  EXPECT_EQ(rest.at("messages").present, 500);
  EXPECT_EQ(rest.at("messages").copied, 200);
  EXPECT_EQ(audit_of(*target_), audit_of(*source_));
}

}  // namespace
}  // namespace etrn
