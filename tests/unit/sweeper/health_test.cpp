// health_test.cpp - `check`'s status line and states, the failed-run count,
// and the metrics text (pure; the parse of the text by a real Prometheus
// parser is in tests/integration/test_sweeper_monitoring.py).
#include "sweeper/health.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

constexpr EpochSeconds kNow = 1'800'000'000;

RunRow run(EpochSeconds started, std::optional<int> status, std::string error = "") {
  RunRow r;
  r.started_at = started;
  r.acted_as = started;
  if (status) r.finished_at = started + 10;
  r.exit_status = status;
  r.error = std::move(error);
  return r;
}

HealthFacts healthy() {
  HealthFacts f;
  f.now = kNow;
  f.any_run = true;
  f.last_success = kNow - 600;
  return f;
}

TEST(FailedInARow, CountsFailuresBackToTheLastRunThatSwept) {
  const std::vector<RunRow> runs = {run(kNow - 100, 75), run(kNow - 1000, 74), run(kNow - 2000, 0),
                                    run(kNow - 3000, 75)};
  EXPECT_EQ(failed_in_a_row(runs, kNow, kRunKilledAfter), 2);
}

TEST(FailedInARow, ANeedsAPersonRunSwept) {
  EXPECT_EQ(failed_in_a_row({run(kNow - 100, 1), run(kNow - 200, 75)}, kNow, kRunKilledAfter), 0);
}

TEST(FailedInARow, ARunWithoutAnEndIsRunningWhileYoungAndKilledWhenOld) {
  EXPECT_EQ(failed_in_a_row({run(kNow - 60, std::nullopt), run(kNow - 900, 75)}, kNow, 3600), 1);
  EXPECT_EQ(failed_in_a_row({run(kNow - 7200, std::nullopt), run(kNow - 9000, 75)}, kNow, 3600), 2);
}

TEST(EvaluateHealth, AllWellIsOkWithEveryPerfdataLabel) {
  HealthFacts f = healthy();
  f.milter_socket = "unix:/run/etrn-sweeper/milter.sock";
  f.milter_socket_answers = true;
  const CheckResult r = evaluate_health(f, CheckThresholds{});
  EXPECT_EQ(r.state, CheckState::ok);
  EXPECT_EQ(r.line.rfind("ETRN-SWEEPER OK - ", 0), 0u) << r.line;
  for (const char* label :
       {"last_sweep_age=600s;3600;10800;0", "failed_runs=0;2;4;0", "outbox=0;1;50;0",
        "attention=0;1;20;0", "overdue=0;1;100;0", "milter_socket=1;;1:;0;1"})
    EXPECT_NE(r.line.find(label), std::string::npos) << label << " in " << r.line;
  EXPECT_NE(r.line.find(" | "), std::string::npos);
}

TEST(EvaluateHealth, EachFindingRaisesTheStateAtItsThresholds) {
  struct Case {
    const char* what;
    void (*set)(HealthFacts&, std::int64_t);
    std::int64_t warning, critical;
  };
  const Case cases[] = {
      {"age", [](HealthFacts& f, std::int64_t v) { f.last_success = f.now - v; }, 3600, 10800},
      {"failed", [](HealthFacts& f, std::int64_t v) { f.failed_in_a_row = static_cast<int>(v); }, 2,
       4},
      {"outbox", [](HealthFacts& f, std::int64_t v) { f.outbox_backlog = v; }, 1, 50},
      {"attention", [](HealthFacts& f, std::int64_t v) { f.attention = v; }, 1, 20},
      {"overdue", [](HealthFacts& f, std::int64_t v) { f.overdue = v; }, 1, 100},
  };
  for (const Case& c : cases) {
    for (auto [value, want] : {std::pair{c.warning - 1, CheckState::ok},
                               {c.warning, CheckState::warning},
                               {c.critical - 1, CheckState::warning},
                               {c.critical, CheckState::critical}}) {
      HealthFacts f = healthy();
      c.set(f, value);
      EXPECT_EQ(evaluate_health(f, CheckThresholds{}).state, want) << c.what << " = " << value;
    }
  }
}

TEST(EvaluateHealth, AThresholdOfZeroIsOff) {
  HealthFacts f = healthy();
  f.outbox_backlog = 1000;
  CheckThresholds t;
  t.outbox = {0, 0};
  EXPECT_EQ(evaluate_health(f, t).state, CheckState::ok);
}

TEST(EvaluateHealth, TheWorstFindingComesFirstAndAFailedRunSaysWhy) {
  HealthFacts f = healthy();
  f.attention = 1;
  f.failed_in_a_row = 5;
  f.last_error = "database busy: locked\n| injected";
  const CheckResult r = evaluate_health(f, CheckThresholds{});
  EXPECT_EQ(r.state, CheckState::critical);
  EXPECT_EQ(
      r.line.rfind("ETRN-SWEEPER CRITICAL - 5 failed run(s) in a row (last: database busy", 0), 0u)
      << r.line;
  EXPECT_EQ(r.line.find('\n'), std::string::npos);
  EXPECT_EQ(r.line.find('|'), r.line.rfind('|')) << "one '|', before the perfdata: " << r.line;
  EXPECT_LT(r.line.find("failed run"), r.line.find("need a person"));
}

TEST(EvaluateHealth, NoSweepYetWarnsAndNoSuccessIsCritical) {
  HealthFacts never;
  never.now = kNow;
  EXPECT_EQ(evaluate_health(never, CheckThresholds{}).state, CheckState::warning);
  HealthFacts failing = never;
  failing.any_run = true;
  failing.failed_in_a_row = 1;
  const CheckResult r = evaluate_health(failing, CheckThresholds{});
  EXPECT_EQ(r.state, CheckState::critical);
  EXPECT_NE(r.line.find("no sweep has succeeded"), std::string::npos);
  EXPECT_NE(r.line.find("last_sweep_age=U"), std::string::npos);
}

TEST(EvaluateHealth, AMilterThatDoesNotAnswerIsCritical) {
  HealthFacts f = healthy();
  f.milter_socket = "inet:9999@127.0.0.1";
  const CheckResult r = evaluate_health(f, CheckThresholds{});
  EXPECT_EQ(r.state, CheckState::critical);
  EXPECT_NE(r.line.find("no milter answers on inet:9999@127.0.0.1"), std::string::npos);
}

TEST(EvaluateFleetHealth, TheWorstHostSetsTheStateAndComesFirstWithItsOwnPerfdata) {
  HealthFacts behind = healthy();
  behind.outbox_backlog = 60;
  const CheckResult r =
      evaluate_fleet_health({{"mx1.example", healthy()}, {"mx2.example", behind}}, {});
  EXPECT_EQ(r.state, CheckState::critical) << r.line;
  EXPECT_EQ(r.line.rfind("ETRN-SWEEPER CRITICAL - 2 host(s); mx2.example: 60 DSN(s) waiting", 0),
            0u)
      << r.line;
  EXPECT_NE(r.line.find("; mx1.example: last sweep"), std::string::npos) << r.line;
  EXPECT_NE(r.line.find("'mx2.example outbox'=60;1;50;0"), std::string::npos) << r.line;
  EXPECT_NE(r.line.find("'mx1.example outbox'=0;1;50;0"), std::string::npos) << r.line;
  EXPECT_EQ(r.line.find("milter"), std::string::npos) << "no socket looked at for a fleet";

  EXPECT_EQ(evaluate_fleet_health({{"mx1.example", healthy()}}, {}).state, CheckState::ok);
  EXPECT_EQ(evaluate_fleet_health({}, {}).state, CheckState::warning) << "no sweep recorded yet";
  const CheckResult odd = evaluate_fleet_health({{"it's=me x", behind}}, {});
  EXPECT_NE(odd.line.find("'it_s_me_x outbox'=60"), std::string::npos) << odd.line;
}

TEST(UnknownHealth, IsStateThreeWithTheReason) {
  const CheckResult r = unknown_health("no database at /x");
  EXPECT_EQ(static_cast<int>(r.state), 3);
  EXPECT_EQ(r.line, "ETRN-SWEEPER UNKNOWN - no database at /x");
}

TEST(MetricsText, HasTheRunTheRecordsAndEscapedLabels) {
  MetricsFacts f;
  f.run = run(kNow - 5, 0);
  f.run.counts.expired = 3;
  f.duration_seconds = 0.25;
  f.last_success = kNow + 5;
  f.counts.recipients[{"customer.example", "queued"}] = 7;
  f.counts.recipients[{"we\"ird\\dom", "expired"}] = 1;
  f.counts.dsns_sent["failed"] = 3;
  const std::string text = metrics_text(f);
  for (const char* line : {
           "# TYPE etrn_sweeper_last_success_timestamp_seconds gauge\n",
           "etrn_sweeper_last_success_timestamp_seconds 1800000005\n",
           "etrn_sweeper_last_run_duration_seconds 0.25\n",
           "etrn_sweeper_last_run_exit_status 0\n",
           "etrn_sweeper_last_run_actions{action=\"expired\"} 3\n",
           "etrn_sweeper_recipients{domain=\"customer.example\",state=\"queued\"} 7\n",
           "etrn_sweeper_recipients{domain=\"we\\\"ird\\\\dom\",state=\"expired\"} 1\n",
           "# TYPE etrn_sweeper_dsns_sent_total counter\n",
           "etrn_sweeper_dsns_sent_total{kind=\"failed\"} 3\n",
       })
    EXPECT_NE(text.find(line), std::string::npos) << line << "in\n" << text;
}

TEST(MetricsText, ARunThatNeverSweptHasNoSuccessTime) {
  MetricsFacts f;
  f.run = run(kNow, 75);
  f.failed_in_a_row = 3;
  const std::string text = metrics_text(f);
  EXPECT_EQ(text.find("etrn_sweeper_last_success_timestamp_seconds"), std::string::npos);
  EXPECT_NE(text.find("etrn_sweeper_failed_runs_in_a_row 3\n"), std::string::npos);
  EXPECT_NE(text.find("etrn_sweeper_last_run_exit_status 75\n"), std::string::npos);
}

}  // namespace
}  // namespace etrn
