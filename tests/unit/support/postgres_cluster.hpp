// postgres_cluster.hpp - the private PostgreSQL cluster the store tests run
// against, and a fresh place (a schema) in it for each test.
//
// The cluster is tests/tools/postgres-cluster's: under CTest, the one the
// fixture postgres_cluster started for the whole suite (its directory named
// in the file $ETRN_TEST_POSTGRES_STATE); a test binary run by hand starts
// its own on first use and stops it at exit. Each test gets an empty schema
// of its own in the database etrn_tests (create_store), dropped when the
// test passes and left for a look when it fails.
#pragma once

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/util/subprocess.hpp"

namespace etrn::testing {

class PostgresCluster {
 public:
  // The cluster, started on first use; nullptr when none can be had (why()
  // says why).
  static PostgresCluster* get() {
    static std::once_flag once;
    static std::unique_ptr<PostgresCluster> cluster;
    std::call_once(once, [] { cluster = start_or_find(); });
    return cluster && cluster->dir_.empty() ? nullptr : cluster.get();
  }
  static const std::string& why() { return why_not(); }

  ~PostgresCluster() {
    if (maintenance_ != nullptr) PQfinish(maintenance_);
    if (owned_) run_script({"stop", dir_});
  }

  // A fresh, empty place for one test's store: a schema of its own in the
  // cluster's database etrn_tests, which the URI puts first on the
  // search_path. (A schema takes a millisecond to make; a database, a copy
  // of template1, a third of a second.)
  std::string create_store() {
    static std::atomic<int> counter{0};
    const std::string name = "t_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    command("DROP SCHEMA IF EXISTS " + name + " CASCADE");
    command("CREATE SCHEMA " + name);
    return uri(kDatabase) + "&options=-csearch_path%3D" + name;
  }

  void drop_store(const std::string& uri_of_store) {
    command("DROP SCHEMA IF EXISTS " + uri_of_store.substr(uri_of_store.rfind("%3D") + 3) +
            " CASCADE");
  }

  // The URI of `database` as the superuser, over the cluster's socket.
  std::string uri(const std::string& database) const {
    return "postgresql:///" + database + "?host=" + dir_ + "&user=postgres";
  }
  const std::string& directory() const { return dir_; }

  // Runs `sql` as the superuser on the database etrn_tests; throws on failure.
  void command(const std::string& sql) {
    std::lock_guard<std::mutex> lock(mutex_);
    PGresult* result = PQexec(maintenance_, sql.c_str());
    const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    const std::string error = ok ? "" : PQresultErrorMessage(result);
    PQclear(result);
    if (!ok) throw std::runtime_error(sql + ": " + error);
  }

 private:
  static std::string& why_not() {
    static std::string why;
    return why;
  }

  // Runs the script with `arguments`: its standard output, or "" (and why_not()).
  static std::string run_script(const std::vector<std::string>& arguments) {
    CommandSpec spec;
    spec.argv = {std::string(ETRN_TEST_TOOLS_DIR) + "/postgres-cluster"};
    spec.argv.insert(spec.argv.end(), arguments.begin(), arguments.end());
    spec.timeout = std::chrono::minutes(2);
    std::string out;
    ProcessRunner runner;
    auto result = runner.run(spec, [&out](std::string_view line) { out = line; });
    if (!result || !result->exited_zero()) {
      why_not() = spec.describe() + ": " + (result ? result->describe() : result.error().message);
      return "";
    }
    return out;
  }

  static std::unique_ptr<PostgresCluster> start_or_find() {
    auto cluster = std::unique_ptr<PostgresCluster>(new PostgresCluster());
    if (const char* state = std::getenv("ETRN_TEST_POSTGRES_STATE")) {
      std::ifstream in(state);
      std::string dir;
      std::getline(in, dir);
      std::error_code ec;
      if (!dir.empty() && std::filesystem::exists(dir + "/.s.PGSQL.5432", ec)) cluster->dir_ = dir;
    }
    if (cluster->dir_.empty()) {
      cluster->dir_ = run_script({"start"});
      cluster->owned_ = !cluster->dir_.empty();
    }
    if (cluster->dir_.empty()) return cluster;
    cluster->maintenance_ = PQconnectdb(cluster->uri(kDatabase).c_str());
    if (PQstatus(cluster->maintenance_) != CONNECTION_OK) {
      why_not() = "cannot connect to the test cluster in " + cluster->dir_ + ": " +
                  PQerrorMessage(cluster->maintenance_);
      if (cluster->owned_) run_script({"stop", cluster->dir_});
      cluster->owned_ = false;
      cluster->dir_.clear();
      return cluster;
    }
    cluster->command("SET client_min_messages = warning; SET lock_timeout = 10000");
    return cluster;
  }

  PostgresCluster() = default;
  static constexpr const char* kDatabase = "etrn_tests";  // made by tests/tools/postgres-cluster
  std::string dir_;
  bool owned_ = false;
  PGconn* maintenance_ = nullptr;
  std::mutex mutex_;
};

}  // namespace etrn::testing
