// fake_mta.hpp - an Mta for executor tests: a queue held in memory (with a
// hold queue, as Postfix has), and every call appended as one line to a log
// FILE, so that calls made in the outbox's submission child (a forked
// process) are seen by the test too. Knobs make it refuse, fail or move
// messages on, as a real MTA may.
#pragma once

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common/mta/mta.hpp"

namespace etrn::testing {

class FakeMta : public Mta {
 public:
  explicit FakeMta(std::string log_path) : log_path_(std::move(log_path)) {}

  std::vector<QueuedMessage> queue;
  std::string content = "From: alice@sender.example\nSubject: hello\n\nbody\n";
  std::map<std::string, std::string> contents;  // by queue ID, overriding `content`
  bool fail_submit = false;      // every DSN: a failure that may pass (4xx, EX_TEMPFAIL)
  std::string refuse_dsn_to;     // a DSN recipient whose DSNs fail, but may pass later
  std::string refuse_for_good;   // a DSN recipient whose DSNs the MTA refuses (5xx)
  std::string refuse_whole_to;   // ... refuses only when the DSN returns the whole message
  std::string refuse_notice_to;  // a postmaster whose notices the MTA refuses
  bool fail_listing = false;
  bool fail_remove = false;
  std::set<std::string> moved_on;        // hold_all finds these in delivery, not in deferred
  std::set<std::string> reused;          // read_held finds another message under these IDs
  int reinjections_before_failure = -1;  // -1: never fails
  std::size_t recipient_limit = 0;       // recipients_per_copy
  std::string host_name = "mx.fake.example";
  int host_name_asked = 0;  // own_host_name() calls (each runs a command on a real MTA)
  std::map<std::string, QueuedEnvelope> envelopes;  // by queue ID, overriding the listing's
  std::map<std::string, std::string> transports;    // address -> transport
  std::vector<std::string> unlisted_once;           // left out of the next listing only
  std::vector<std::string> unlisted;                // left out of every listing

  Status for_each_queued(const std::function<void(QueuedMessage&&)>& visit) override {
    log("list");
    if (fail_listing) return make_error("postqueue: cut short");
    const std::vector<std::string> left_out = std::exchange(unlisted_once, {});
    for (QueuedMessage m : queue) {
      if (std::find(left_out.begin(), left_out.end(), m.queue_id) != left_out.end() ||
          std::find(unlisted.begin(), unlisted.end(), m.queue_id) != unlisted.end())
        continue;
      visit(std::move(m));
    }
    return ok_status();
  }
  Result<std::map<std::string, std::string>> transports_for(
      const std::vector<std::string>& addresses) override {
    log("transports " + std::to_string(addresses.size()));
    return transports;
  }
  std::vector<Result<QueuedEnvelope>> read_envelopes(
      const std::vector<std::string>& queue_ids) override {
    if (!queue_ids.empty()) log("read_envelopes " + std::to_string(queue_ids.size()));
    return Mta::read_envelopes(queue_ids);
  }
  Result<QueuedEnvelope> read_envelope(const std::string& queue_id) override {
    log("envelope " + queue_id);
    if (auto found = envelopes.find(queue_id); found != envelopes.end()) return found->second;
    const QueuedMessage* m = find(queue_id);
    if (m == nullptr) return make_error(queue_id + ": not in the queue", ErrorKind::gone);
    return envelope_of(*m);
  }
  Result<std::string> read_content(const std::string& queue_id, ContentPart part) override {
    log("content " + queue_id + (part == ContentPart::headers_only ? " headers" : ""));
    auto found = contents.find(queue_id);
    return found == contents.end() ? content : found->second;
  }
  Status hold(const std::string& queue_id) override {
    log("hold " + queue_id);
    if (QueuedMessage* m = find(queue_id)) m->held = true, m->queue_name = "hold";
    return ok_status();
  }
  Status remove(const std::string& queue_id) override {
    log("remove " + queue_id);
    if (fail_remove) return make_error("cannot remove " + queue_id);
    std::erase_if(queue, [&](const QueuedMessage& m) { return m.queue_id == queue_id; });
    return ok_status();
  }
  Status submit_dsn(const std::string& dsn_text, const std::string& recipient) override {
    const bool whole = dsn_text.find("Content-Type: message/rfc822") != std::string::npos;
    log("submit " + recipient +
        (dsn_text.find("Message-ID:") != std::string::npos ? " with-id" : " no-id") +
        (whole ? " whole" : ""));
    const auto is = [&recipient](const std::string& who) {
      return !who.empty() && recipient == who;
    };
    if (is(refuse_for_good) || (whole && is(refuse_whole_to)) || is(refuse_notice_to))
      return make_error("550 5.7.1 refused", ErrorKind::refused);
    if (fail_submit || is(refuse_dsn_to)) return make_error("sendmail: try again");
    return ok_status();
  }
  Result<std::unique_ptr<DsnSubmitter>> open_dsn_submitter() override {
    log("open_dsn_submitter");
    return Mta::open_dsn_submitter();
  }
  Result<std::string> reinject(const std::string& copy, const Envelope& envelope,
                               const std::vector<ReinjectRecipient>& recipients) override {
    const std::string first_line = copy.substr(0, copy.find('\n'));
    std::string line = "reinject " + envelope.sender;
    for (const ReinjectRecipient& r : recipients) line += " " + r.address;
    log(line + " [" + first_line + "]");
    if (reinjections_before_failure == 0) return make_error("550 5.5.3 too many recipients");
    if (reinjections_before_failure > 0) --reinjections_before_failure;
    const std::string id = "9NeW" + std::to_string(++reinjected_);
    QueuedMessage q{"deferred", id, 1, 500, envelope.sender, false, {}};
    for (const ReinjectRecipient& r : recipients) q.recipients.push_back({r.address, ""});
    queue.push_back(q);
    return id;
  }
  Result<QueueLifetimes> queue_lifetimes() override { return QueueLifetimes{432000, 432000}; }
  Result<std::string> own_host_name() override {
    ++host_name_asked;
    return host_name;
  }
  Result<std::size_t> recipients_per_copy() override { return recipient_limit; }

  std::vector<Status> hold_all(const std::vector<HoldRequest>& requests) override {
    std::string line = "hold_all";
    std::vector<Status> statuses;
    for (const HoldRequest& r : requests) {
      line += " " + r.listed->queue_id;
      QueuedMessage* m = find(r.listed->queue_id);
      if (m == nullptr || moved_on.contains(r.listed->queue_id)) {
        statuses.push_back(make_error(r.listed->queue_id + ": not in deferred", ErrorKind::busy));
        continue;
      }
      m->held = true;
      m->queue_name = "hold";
      statuses.push_back(ok_status());
    }
    log(line);
    return statuses;
  }
  std::vector<Result<HeldMessage>> read_held(const std::vector<const QueuedMessage*>& messages,
                                             ContentPart part) override {
    log("read_held " + std::to_string(messages.size()) +
        (part == ContentPart::headers_only ? " headers" : ""));
    std::vector<Result<HeldMessage>> out;
    for (const QueuedMessage* listed : messages) {
      const QueuedMessage* m = find(listed->queue_id);
      if (m == nullptr || !m->held || reused.contains(listed->queue_id)) {
        out.emplace_back(make_error(listed->queue_id + ": another message", ErrorKind::gone));
        continue;
      }
      auto found = contents.find(m->queue_id);
      out.emplace_back(
          HeldMessage{envelope_of(*m), found == contents.end() ? content : found->second});
    }
    return out;
  }
  std::vector<Status> remove_held(const std::vector<std::string>& queue_ids) override {
    std::vector<Status> statuses;
    std::string line = "remove_held";
    for (const std::string& id : queue_ids) {
      line += " " + id;
      const QueuedMessage* m = find(id);
      if (fail_remove || m == nullptr || !m->held) {
        statuses.push_back(make_error("cannot remove " + id));
        continue;
      }
      std::erase_if(queue, [&](const QueuedMessage& q) { return q.queue_id == id; });
      statuses.push_back(ok_status());
    }
    log(line);
    return statuses;
  }
  std::vector<Status> release_held(const std::vector<std::string>& queue_ids) override {
    std::vector<Status> statuses;
    for (const std::string& id : queue_ids) {
      log("release " + id);
      QueuedMessage* m = find(id);
      if (m == nullptr || !m->held) {
        statuses.push_back(make_error(id + ": not on hold"));
        continue;
      }
      m->held = false;
      m->queue_name = "deferred";
      statuses.push_back(ok_status());
    }
    return statuses;
  }

  QueuedMessage* find(const std::string& queue_id) {
    for (QueuedMessage& m : queue) {
      if (m.queue_id == queue_id) return &m;
    }
    return nullptr;
  }

  std::vector<std::string> calls() const {
    std::ifstream in(log_path_);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

 private:
  static QueuedEnvelope envelope_of(const QueuedMessage& m) {
    QueuedEnvelope e;
    e.envelope.sender = m.sender;
    for (const QueuedRecipient& r : m.recipients) e.recipients.push_back({r.address, {}});
    e.queue_name = m.queue_name;
    e.arrival_time = m.arrival_time;
    return e;
  }
  void log(const std::string& line) {
    std::ofstream out(log_path_, std::ios::app);
    out << line << "\n";
  }
  std::string log_path_;
  int reinjected_ = 0;
};

}  // namespace etrn::testing
