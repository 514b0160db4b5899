// mta.cpp - what all MTAs share: the same-message check, the default
// advice, the one-by-one DSN submitter and envelope reads, a second look
// as a second listing, no transports known.
#include "common/mta/mta.hpp"

#include <unordered_set>

namespace etrn {

namespace {

// Submits each DSN with the MTA's single-message command.
class OneByOneSubmitter : public DsnSubmitter {
 public:
  explicit OneByOneSubmitter(Mta& mta) : mta_(mta) {}
  Status submit(const std::string& dsn_text, const std::string& recipient) override {
    return mta_.submit_dsn(dsn_text, recipient);
  }

 private:
  Mta& mta_;
};

}  // namespace

Status check_same_message(const QueuedMessage& listed, const QueuedEnvelope& read) {
  if (read.arrival_time && *read.arrival_time == listed.arrival_time &&
      read.envelope.sender == listed.sender)
    return ok_status();
  return make_error(
      listed.queue_id + ": the queue ID now names another message (arrival time or sender differ)",
      ErrorKind::gone);
}

std::string Mta::how_to_remove_held(const std::string& queue_id) const {
  return "remove " + queue_id + " from the MTA's queue by hand";
}

Status Mta::look_again(const std::vector<std::string>& queue_ids,
                       const std::function<void(QueuedMessage&&)>& visit) {
  const std::unordered_set<std::string> wanted(queue_ids.begin(), queue_ids.end());
  return for_each_queued([&](QueuedMessage&& m) {
    if (wanted.contains(m.queue_id)) visit(std::move(m));
  });
}

Result<std::map<std::string, std::string>> Mta::transports_for(const std::vector<std::string>&) {
  return std::map<std::string, std::string>{};
}

std::vector<Result<QueuedEnvelope>> Mta::read_envelopes(const std::vector<std::string>& queue_ids) {
  std::vector<Result<QueuedEnvelope>> envelopes;
  envelopes.reserve(queue_ids.size());
  for (const std::string& id : queue_ids) envelopes.push_back(read_envelope(id));
  return envelopes;
}

std::vector<Result<HeldMessage>> Mta::read_headers(const std::vector<std::string>& queue_ids) {
  std::vector<Result<HeldMessage>> out;
  out.reserve(queue_ids.size());
  for (const std::string& id : queue_ids) {
    auto envelope = read_envelope(id);
    auto headers = envelope ? read_content(id, ContentPart::headers_only)
                            : Result<std::string>(envelope.error());
    if (headers)
      out.emplace_back(HeldMessage{std::move(*envelope), std::move(*headers)});
    else
      out.emplace_back(headers.error());
  }
  return out;
}

std::string Mta::how_to_release_held(const std::string& queue_id) const {
  return "put " + queue_id + " back into delivery with the MTA's own tools";
}

Result<std::unique_ptr<DsnSubmitter>> Mta::open_dsn_submitter() {
  return std::unique_ptr<DsnSubmitter>(std::make_unique<OneByOneSubmitter>(*this));
}

}  // namespace etrn
