// check_command.cpp - the `check` command (see check_command.hpp).
#include "sweeper/check_command.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <iostream>

#include "common/config/config_values.hpp"
#include "common/store/database.hpp"
#include "common/store/runs.hpp"
#include "common/util/posix_file.hpp"
#include "sweeper/store_access.hpp"
#include "sweeper/sweep_command.hpp"

namespace etrn {

namespace {

constexpr int kRunsLookedAt = 200;

bool connects(int family, const sockaddr* address, socklen_t length) {
  Fd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.is_open()) return false;
  const timeval limit{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  return ::connect(fd.get(), address, length) == 0;
}

bool unix_socket_answers(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return false;
  std::memcpy(address.sun_path, path.data(), path.size());
  return connects(AF_UNIX, reinterpret_cast<const sockaddr*>(&address), sizeof address);
}

// inet:PORT@HOST (HOST may be a name or an address; none means loopback).
bool inet_socket_answers(const std::string& spec, int family) {
  const auto at = spec.find('@');
  const std::string port = spec.substr(0, at);
  const std::string host = at == std::string::npos ? "localhost" : spec.substr(at + 1);
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return false;
  bool answers = false;
  for (addrinfo* a = found; a && !answers; a = a->ai_next)
    answers = connects(a->ai_family, a->ai_addr, a->ai_addrlen);
  ::freeaddrinfo(found);
  return answers;
}

HealthFacts gather(Database& db, EpochSeconds now) {
  HealthFacts facts;
  facts.now = now;
  const std::vector<RunRow> runs = recent_runs(db, kRunsLookedAt);
  facts.any_run = !runs.empty();
  if (auto last = last_successful_run(db)) facts.last_success = last->finished_at;
  facts.failed_in_a_row = failed_in_a_row(runs, now, kRunKilledAfter);
  for (const RunRow& run : runs) {
    if (run.exit_status && !run.error.empty()) {
      facts.last_error = run.error;
      break;
    }
  }
  const RecordCounts counts = record_counts(db, now - kOverdueAfter);
  facts.outbox_backlog = counts.outbox_backlog;
  facts.overdue = counts.overdue;
  for (const auto& [key, n] : counts.recipients)
    if (key.second == "attention") facts.attention += n;
  return facts;
}

// A store that cannot be opened is UNKNOWN (run_check turns the FatalError into it).
CheckResult look(const Config& config, const CheckOptions& options) {
  if (!store_may_exist(config))
    return unknown_health("no database at " + database_for_messages(config.database) +
                          " (has a sweep run yet?)");
  auto db = open_store(config, OpenMode::read_only, ExitCode::io_error);
  const EpochSeconds now = std::time(nullptr);
  if (options.instance == "all") {
    std::vector<HostFacts> hosts;
    for (const std::string& host : run_instances(*db)) {
      db->work_for_instance(host);
      hosts.emplace_back(host, gather(*db, now));
    }
    return evaluate_fleet_health(hosts, options.thresholds);
  }
  HealthFacts facts = gather(*db, now);
  if (options.milter && !options.instance) {
    facts.milter_socket = config.milter_socket;
    facts.milter_socket_answers = milter_answers(config.milter_socket);
  }
  return evaluate_health(facts, options.thresholds);
}

Result<std::int64_t> parse_count(const std::string& text) {
  std::int64_t n = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (error != std::errc() || end != text.data() + text.size() || n < 0)
    return make_error("want a count (0 or more), not '" + text + "'");
  return n;
}

// The threshold an option sets, and whether its value is a duration.
std::pair<std::int64_t*, bool> threshold_named(CheckThresholds& t, const std::string& option) {
  const auto dash = option.rfind('-');
  const std::string what = option.substr(0, dash);
  const bool warning = option.substr(dash + 1) == "warning";
  Threshold* threshold = what == "age"         ? &t.age
                         : what == "failed"    ? &t.failed
                         : what == "outbox"    ? &t.outbox
                         : what == "attention" ? &t.attention
                         : what == "overdue"   ? &t.overdue
                                               : nullptr;
  if (!threshold) return {nullptr, false};
  return {warning ? &threshold->warning : &threshold->critical, what == "age"};
}

}  // namespace

Result<CheckThresholds> parse_thresholds(
    const std::vector<std::pair<std::string, std::string>>& given) {
  CheckThresholds thresholds;
  for (const auto& [option, value] : given) {
    const auto [target, is_duration] = threshold_named(thresholds, option);
    if (!target) return make_error("--" + option + ": no such threshold");
    if (is_duration) {
      auto seconds = parse_nonnegative_duration(value);
      if (!seconds) return make_error("--" + option + ": " + seconds.error().message);
      *target = seconds->count();
    } else {
      auto n = parse_count(value);
      if (!n) return make_error("--" + option + ": " + n.error().message);
      *target = *n;
    }
  }
  return thresholds;
}

bool milter_answers(const std::string& spec) {
  const auto colon = spec.find(':');
  const std::string kind = colon == std::string::npos ? "unix" : spec.substr(0, colon);
  const std::string rest = colon == std::string::npos ? spec : spec.substr(colon + 1);
  if (kind == "unix" || kind == "local") return unix_socket_answers(rest);
  if (kind == "inet") return inet_socket_answers(rest, AF_INET);
  if (kind == "inet6") return inet_socket_answers(rest, AF_INET6);
  return false;
}

int run_check(const Config& config, const CheckOptions& options) {
  CheckResult result;
  try {
    Config scoped = config;
    if (options.instance) {
      scoped.instance = *options.instance;  // another host, or "all" (look() tells)
    } else {
      scoped = with_own_instance(config, *make_mta(config));
    }
    result = look(scoped, options);
  } catch (const FatalError& e) {
    result = unknown_health(e.what());
  } catch (const std::exception& e) {
    result = unknown_health(std::string("database error: ") + e.what());
  }
  std::cout << result.line << "\n";
  return static_cast<int>(result.state);
}

}  // namespace etrn
