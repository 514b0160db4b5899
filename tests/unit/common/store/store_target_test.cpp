// store_target_test.cpp - database_password_file: the password reaches
// libpq (a real server that demands it), the file's mode is checked like
// ~/.pgpass, and an SQLite path takes no password file.
#include "common/store/store_target.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "common/store/database.hpp"
#include "tests/unit/common/store/test_database.hpp"

namespace etrn {
namespace {

using StoreTarget = testing::TempDirTest;

std::string password_file(const std::filesystem::path& dir, const std::string& text,
                          mode_t mode = 0600) {
  const auto path = (dir / "db.password").string();
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
  return path;
}

TEST_F(StoreTarget, WithoutAPasswordFileIsTheDatabaseItself) {
  EXPECT_EQ(*store_target("/var/lib/etrn-sweeper/etrn.db", ""), "/var/lib/etrn-sweeper/etrn.db");
  EXPECT_EQ(*store_target("postgresql://db.example/etrn", ""), "postgresql://db.example/etrn");
}

TEST_F(StoreTarget, AddsTheFirstLineAsThePasswordParameterEncoded) {
  const std::string file = password_file(dir_, "p@ss w&rd%\nignored\n");
  EXPECT_EQ(*store_target("postgresql://etrn@db.example/etrn", file),
            "postgresql://etrn@db.example/etrn?password=p%40ss%20w%26rd%25");
  EXPECT_EQ(*store_target("postgresql:///etrn?host=/run/postgresql", file),
            "postgresql:///etrn?host=/run/postgresql&password=p%40ss%20w%26rd%25");
}

TEST_F(StoreTarget, ARoleOfItsOwnIsTheUserParameterBeforeThePassword) {
  EXPECT_EQ(*store_target("postgresql://etrn_sweeper@db.example/etrn", "", "etrn_milter"),
            "postgresql://etrn_sweeper@db.example/etrn?user=etrn_milter");
  EXPECT_EQ(*store_target("postgresql:///etrn?host=/run/postgresql", password_file(dir_, "pw\n"),
                          "etrn milter"),
            "postgresql:///etrn?host=/run/postgresql&user=etrn%20milter&password=pw");
  EXPECT_FALSE(store_target("/var/lib/etrn-sweeper/etrn.db", "", "etrn_milter"));
}

TEST_F(StoreTarget, RefusesAFileOpenToGroupOrOthersAndSaysWhy) {
  const std::string file = password_file(dir_, "secret\n", 0640);
  const auto target = store_target("postgresql://db.example/etrn", file);
  ASSERT_FALSE(target);
  EXPECT_NE(target.error().message.find("group or other permissions"), std::string::npos)
      << target.error().message;
  EXPECT_EQ(target.error().message.find("secret"), std::string::npos);
}

TEST_F(StoreTarget, RefusesAnEmptyOrMissingFileAndAnSqlitePath) {
  EXPECT_FALSE(store_target("postgresql://db.example/etrn", password_file(dir_, "\n")));
  EXPECT_FALSE(store_target("postgresql://db.example/etrn", (dir_ / "none").string()));
  const auto sqlite = store_target("/var/lib/etrn-sweeper/etrn.db", password_file(dir_, "x\n"));
  ASSERT_FALSE(sqlite);
  EXPECT_NE(sqlite.error().message.find("no PostgreSQL URI"), std::string::npos);
}

// The test cluster trusts every role on its socket but etrn_password,
// which must give its password (tests/tools/postgres-cluster).
TEST_F(StoreTarget, ThePasswordFileIsWhatLetsTheRoleIn) {
  testing::PostgresCluster* cluster = testing::PostgresCluster::get();
  ETRN_REQUIRE_PREREQUISITE(cluster != nullptr,
                            "a PostgreSQL test cluster: " + testing::PostgresCluster::why());
  cluster->command(
      "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'etrn_password') THEN "
      "CREATE ROLE etrn_password LOGIN SUPERUSER; END IF; END$$");
  cluster->command("ALTER ROLE etrn_password PASSWORD 'p@ss w&rd%'");
  const std::string uri = cluster->create_store();
  const std::string as_role =
      uri.substr(0, uri.find("&user=")) + "&user=etrn_password" + uri.substr(uri.find("&options="));
  const auto without = Database::open(as_role, OpenMode::read_write_create);
  ASSERT_FALSE(without);
  EXPECT_NE(without.error().message.find("password"), std::string::npos) << without.error().message;

  const auto target = store_target(as_role, password_file(dir_, "p@ss w&rd%\n"));
  ASSERT_TRUE(target) << target.error().message;
  const auto with = Database::open(*target, OpenMode::read_write_create);
  ASSERT_TRUE(with) << with.error().message;
  EXPECT_EQ((*with)->path().find("p%40ss"), std::string::npos) << "shown without the password";
  cluster->drop_store(uri);
}

}  // namespace
}  // namespace etrn
