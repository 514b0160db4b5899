// mta.cpp - the defaults of Mta: the bulk forms as the single forms one
// by one, a second look as a second listing, no transports known.
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

std::vector<Result<std::string>> Mta::read_contents(const std::vector<std::string>& queue_ids,
                                                    ContentPart part) {
  std::vector<Result<std::string>> contents;
  contents.reserve(queue_ids.size());
  for (const std::string& id : queue_ids) contents.push_back(read_content(id, part));
  return contents;
}

std::vector<Status> Mta::remove_all(const std::vector<std::string>& queue_ids) {
  std::vector<Status> removed;
  removed.reserve(queue_ids.size());
  for (const std::string& id : queue_ids) removed.push_back(remove(id));
  return removed;
}

Result<std::unique_ptr<DsnSubmitter>> Mta::open_dsn_submitter() {
  return std::unique_ptr<DsnSubmitter>(std::make_unique<OneByOneSubmitter>(*this));
}

}  // namespace etrn
