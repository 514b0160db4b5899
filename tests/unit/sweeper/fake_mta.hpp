// fake_mta.hpp - an Mta for executor tests: a queue held in memory, and
// every call appended as one line to a log FILE, so that calls made in the
// outbox's submission child (a forked process) are seen by the test too.
#pragma once

#include <algorithm>
#include <fstream>
#include <map>
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
  bool fail_submit = false;
  std::string refuse_dsn_to;  // a DSN recipient whose DSN the MTA refuses
  bool fail_listing = false;
  bool fail_remove = false;
  std::string next_queue_id = "9NeW1";
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
    QueuedEnvelope e;
    for (const QueuedMessage& m : queue) {
      if (m.queue_id != queue_id) continue;
      e.envelope.sender = m.sender;
      for (const QueuedRecipient& r : m.recipients) e.recipients.push_back({r.address, {}});
    }
    return e;
  }
  Result<std::string> read_content(const std::string& queue_id, ContentPart part) override {
    log("content " + queue_id + (part == ContentPart::headers_only ? " headers" : ""));
    auto found = contents.find(queue_id);
    return found == contents.end() ? content : found->second;
  }
  Status hold(const std::string& queue_id) override {
    log("hold " + queue_id);
    return ok_status();
  }
  Status remove(const std::string& queue_id) override {
    log("remove " + queue_id);
    if (fail_remove) return make_error("cannot remove " + queue_id);
    std::erase_if(queue, [&](const QueuedMessage& m) { return m.queue_id == queue_id; });
    return ok_status();
  }
  Status submit_dsn(const std::string& dsn_text, const std::string& recipient) override {
    log("submit " + recipient +
        (dsn_text.find("Message-ID:") != std::string::npos ? " with-id" : " no-id"));
    if (fail_submit || recipient == refuse_dsn_to) return make_error("sendmail: refused");
    return ok_status();
  }
  // The bulk forms log themselves, then do what Mta's defaults do.
  std::vector<Result<std::string>> read_contents(const std::vector<std::string>& queue_ids,
                                                 ContentPart part) override {
    if (queue_ids.empty()) return {};
    log("read_contents " + std::to_string(queue_ids.size()));
    return Mta::read_contents(queue_ids, part);
  }
  std::vector<Status> remove_all(const std::vector<std::string>& queue_ids) override {
    log("remove_all " + std::to_string(queue_ids.size()));
    return Mta::remove_all(queue_ids);
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
    return next_queue_id;
  }
  Result<QueueLifetimes> queue_lifetimes() override { return QueueLifetimes{432000, 432000}; }

  std::vector<std::string> calls() const {
    std::ifstream in(log_path_);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

 private:
  void log(const std::string& line) {
    std::ofstream out(log_path_, std::ios::app);
    out << line << "\n";
  }
  std::string log_path_;
};

}  // namespace etrn::testing
