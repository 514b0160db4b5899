// health.cpp - the check's status line and the metrics file (see health.hpp).
#include "sweeper/health.hpp"

#include <algorithm>
#include <cstdio>

#include "common/util/time_format.hpp"

namespace etrn {

namespace {

bool swept(const RunRow& run) {
  return run.exit_status && (*run.exit_status == 0 || *run.exit_status == 1);
}

// One thing the check looked at: its state, its words, its perfdata.
struct Finding {
  CheckState state = CheckState::ok;
  std::string words;
  std::string perfdata;
};

CheckState against(std::int64_t value, const Threshold& t) {
  if (t.critical > 0 && value >= t.critical) return CheckState::critical;
  if (t.warning > 0 && value >= t.warning) return CheckState::warning;
  return CheckState::ok;
}

std::string perf(const std::string& label, std::int64_t value, const Threshold& t,
                 const char* unit = "") {
  return label + "=" + std::to_string(value) + unit + ";" + std::to_string(t.warning) + ";" +
         std::to_string(t.critical) + ";0";
}

Finding count_finding(const std::string& label, const std::string& words, std::int64_t value,
                      const Threshold& t) {
  return {against(value, t), words, perf(label, value, t)};
}

// Text that goes into the status line: no newline, no '|' (which starts
// the perfdata), no control characters.
std::string plain(const std::string& text) {
  std::string out;
  for (char c : text) out += (c == '|' || static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  return out;
}

Finding age_finding(const HealthFacts& f, const Threshold& t) {
  if (!f.last_success) {
    const bool never = !f.any_run;
    return {never ? CheckState::warning : CheckState::critical,
            never ? "no sweep recorded yet" : "no sweep has succeeded",
            "last_sweep_age=U;" + std::to_string(t.warning) + ";" + std::to_string(t.critical)};
  }
  const EpochSeconds age = std::max<EpochSeconds>(0, f.now - *f.last_success);
  return {against(age, t), "last sweep " + format_duration_words(age) + " ago",
          perf("last_sweep_age", age, t, "s")};
}

Finding failed_finding(const HealthFacts& f, const Threshold& t) {
  std::string words = std::to_string(f.failed_in_a_row) + " failed run(s) in a row";
  if (f.failed_in_a_row > 0 && !f.last_error.empty())
    words += " (last: " + plain(f.last_error) + ")";
  return count_finding("failed_runs", words, f.failed_in_a_row, t);
}

Finding socket_finding(const HealthFacts& f) {
  const std::string where = plain(f.milter_socket);
  if (f.milter_socket_answers)
    return {CheckState::ok, "milter answers on " + where, "milter_socket=1;;1:;0;1"};
  return {CheckState::critical, "no milter answers on " + where, "milter_socket=0;;1:;0;1"};
}

const char* state_word(CheckState s) {
  switch (s) {
    case CheckState::ok:
      return "OK";
    case CheckState::warning:
      return "WARNING";
    case CheckState::critical:
      return "CRITICAL";
    case CheckState::unknown:
      break;
  }
  return "UNKNOWN";
}

std::string status_line(CheckState state, const std::string& words, const std::string& perfdata) {
  std::string line = std::string("ETRN-SWEEPER ") + state_word(state) + " - " + words;
  if (!perfdata.empty()) line += " | " + perfdata;
  return line;
}

}  // namespace

int failed_in_a_row(const std::vector<RunRow>& newest_first, EpochSeconds now,
                    EpochSeconds killed_after) {
  int failed = 0;
  for (const RunRow& run : newest_first) {
    if (swept(run)) break;
    const bool still_running = !run.exit_status && now - run.started_at <= killed_after;
    if (!still_running) ++failed;
  }
  return failed;
}

namespace {

// What the check finds in one host's facts, the worst first, so that the
// words a pager shows start with the cause.
std::vector<Finding> findings_of(const HealthFacts& f, const CheckThresholds& limits) {
  std::vector<Finding> findings = {
      age_finding(f, limits.age),
      failed_finding(f, limits.failed),
      count_finding("outbox", std::to_string(f.outbox_backlog) + " DSN(s) waiting in the outbox",
                    f.outbox_backlog, limits.outbox),
      count_finding("attention", std::to_string(f.attention) + " recipient(s) need a person",
                    f.attention, limits.attention),
      count_finding("overdue",
                    std::to_string(f.overdue) + " recipient(s) past their deadline still queued",
                    f.overdue, limits.overdue),
  };
  if (!f.milter_socket.empty()) findings.push_back(socket_finding(f));
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return static_cast<int>(a.state) > static_cast<int>(b.state);
  });
  return findings;
}

// The findings as one: the worst state, the words and the perfdata joined.
// `label_prefix` goes before each perfdata label (and then quotes it).
Finding summed(const std::vector<Finding>& findings, const std::string& label_prefix = "") {
  Finding sum{findings.front().state, "", ""};
  for (const Finding& finding : findings) {
    sum.words += (sum.words.empty() ? "" : ", ") + finding.words;
    std::string perfdata = finding.perfdata;
    if (!label_prefix.empty()) {
      const auto equals = perfdata.find('=');
      perfdata = "'" + label_prefix + perfdata.substr(0, equals) + "'" + perfdata.substr(equals);
    }
    sum.perfdata += (sum.perfdata.empty() ? "" : " ") + perfdata;
  }
  return sum;
}

// A host's name fit for a perfdata label: no quote, no '=', no space.
std::string label_safe(const std::string& host) {
  std::string out = plain(host);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\'' || c == '=' || c == ' '; }, '_');
  return out;
}

}  // namespace

CheckResult evaluate_health(const HealthFacts& f, const CheckThresholds& limits) {
  const Finding sum = summed(findings_of(f, limits));
  return {sum.state, status_line(sum.state, sum.words, sum.perfdata)};
}

CheckResult evaluate_fleet_health(const std::vector<HostFacts>& hosts,
                                  const CheckThresholds& limits) {
  if (hosts.empty()) return evaluate_health(HealthFacts{}, limits);
  std::vector<std::pair<std::string, Finding>> by_host;
  for (const auto& [host, facts] : hosts) {
    const std::string name = label_safe(host.empty() ? "(unnamed)" : host);
    by_host.emplace_back(name, summed(findings_of(facts, limits), name + " "));
  }
  std::stable_sort(by_host.begin(), by_host.end(), [](const auto& a, const auto& b) {
    return static_cast<int>(a.second.state) > static_cast<int>(b.second.state);
  });
  std::string words, perfdata;
  for (const auto& [name, sum] : by_host) {
    words += (words.empty() ? "" : "; ") + name + ": " + sum.words;
    perfdata += (perfdata.empty() ? "" : " ") + sum.perfdata;
  }
  const CheckState worst = by_host.front().second.state;
  return {worst, status_line(worst, std::to_string(hosts.size()) + " host(s); " + words, perfdata)};
}

CheckResult unknown_health(const std::string& why) {
  return {CheckState::unknown, status_line(CheckState::unknown, plain(why), "")};
}

// ---- the metrics file -----------------------------------------------------

namespace {

// A label value: backslash, double quote and newline escaped (the format's rule).
std::string label_value(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

class MetricsWriter {
 public:
  void family(const std::string& name, const char* type, const char* help) {
    text_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void sample(const std::string& name, const std::string& labels, double value) {
    char number[32];
    std::snprintf(number, sizeof number, "%.17g", value);
    text_ += name + (labels.empty() ? "" : "{" + labels + "}") + " " + number + "\n";
  }
  void gauge(const std::string& name, const char* help, double value) {
    family(name, "gauge", help);
    sample(name, "", value);
  }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

std::string label(const char* name, const std::string& value) {
  return std::string(name) + "=\"" + label_value(value) + "\"";
}

}  // namespace

std::string metrics_text(const MetricsFacts& f) {
  MetricsWriter m;
  const RunRow& run = f.run;
  m.gauge("etrn_sweeper_last_run_start_timestamp_seconds", "When the last sweep started.",
          static_cast<double>(run.started_at));
  if (run.finished_at) {
    m.gauge("etrn_sweeper_last_run_end_timestamp_seconds", "When the last sweep ended.",
            static_cast<double>(*run.finished_at));
    m.gauge("etrn_sweeper_last_run_duration_seconds", "How long the last sweep took.",
            f.duration_seconds);
  }
  if (run.exit_status)
    m.gauge("etrn_sweeper_last_run_exit_status",
            "The last sweep's exit status (0 done, 1 a person is needed, 75 try again, ...).",
            *run.exit_status);
  if (f.last_success)
    m.gauge("etrn_sweeper_last_success_timestamp_seconds",
            "When the last sweep that swept (exit 0 or 1) ended.",
            static_cast<double>(*f.last_success));
  m.gauge("etrn_sweeper_failed_runs_in_a_row", "Sweeps in a row that did not sweep.",
          f.failed_in_a_row);
  m.family("etrn_sweeper_last_run_actions", "gauge", "What the last sweep did, by action.");
  const RunCounts& c = run.counts;
  for (const auto& [action, n] : {std::pair{"departed", c.departed},
                                  {"adopted", c.adopted},
                                  {"warned", c.warned},
                                  {"expired", c.expired},
                                  {"dsn_sent", c.dsns_sent},
                                  {"removed", c.removed},
                                  {"split", c.split}})
    m.sample("etrn_sweeper_last_run_actions", label("action", action), n);
  m.gauge("etrn_sweeper_last_run_errors", "Messages the last sweep left for the next one.",
          c.errors);
  m.gauge("etrn_sweeper_last_run_need_a_person",
          "Messages the last sweep kept on hold for a person.", c.need_a_person);
  m.family("etrn_sweeper_recipients", "gauge", "Recorded recipients by domain and state.");
  for (const auto& [key, n] : f.counts.recipients)
    m.sample("etrn_sweeper_recipients",
             label("domain", key.first) + "," + label("state", key.second), static_cast<double>(n));
  m.gauge("etrn_sweeper_outbox_backlog", "DSNs written but not yet handed to the MTA.",
          static_cast<double>(f.counts.outbox_backlog));
  m.gauge("etrn_sweeper_overdue_recipients",
          "Recipients past their deadline and still waiting in the queue.",
          static_cast<double>(f.counts.overdue));
  m.family("etrn_sweeper_dsns_sent_total", "counter",
           "DSNs handed to the MTA, by kind, over the history the database keeps.");
  for (const auto& [kind, n] : f.counts.dsns_sent)
    m.sample("etrn_sweeper_dsns_sent_total", label("kind", kind), static_cast<double>(n));
  return m.take();
}

}  // namespace etrn
