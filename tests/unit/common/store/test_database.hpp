// test_database.hpp - helpers for store tests: a database in a fresh
// temporary directory per test (support/temp_dir.hpp), and sample records.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "common/model/message.hpp"
#include "common/store/database.hpp"
#include "common/store/records.hpp"
#include "tests/unit/support/temp_dir.hpp"

namespace etrn::testing {

// A temporary directory for the database file.
class TempDirTest : public TemporaryDirectoryTest {
 protected:
  std::string db_path() const { return (dir_ / "etrn.db").string(); }

  std::unique_ptr<Database> open_db(OpenMode mode = OpenMode::read_write_create) {
    auto db = Database::open(db_path(), mode);
    if (!db) ADD_FAILURE() << "open " << db_path() << ": " << db.error().message;
    return db ? std::move(db).value() : nullptr;
  }
};

inline MessageToRecord sample_message(std::string queue_id, EpochSeconds arrival,
                                      std::vector<std::string> addresses) {
  MessageToRecord item;
  item.message.queue_id = std::move(queue_id);
  item.message.arrival_time = arrival;
  item.message.envelope.sender = "alice@sender.example";
  item.message.priority = Priority::normal;
  item.message.size = 1234;
  item.message.message_id = "<1@sender.example>";
  for (std::string& address : addresses) {
    RecipientRecord r;
    r.domain = address.substr(address.find('@') + 1);
    r.address = std::move(address);
    item.message.recipients.push_back(r);
    item.deadlines.push_back(Deadlines{arrival + 4 * 3600, arrival + 48 * 3600});
  }
  return item;
}

inline std::int64_t count_rows(Database& db, const std::string& sql) {
  Statement& statement = db.prepare(sql);
  std::int64_t n = statement.step() ? statement.column_int(0) : -1;
  statement.reset();
  return n;
}

}  // namespace etrn::testing
