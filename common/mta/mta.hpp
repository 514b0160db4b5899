// mta.hpp - what the sweeper needs from an MTA, behind one interface so
// that the sweep can run against Postfix, Sendmail, or a fake in tests.
//
// Implementations: mta/postfix_mta.{hpp,cpp} (postqueue/postcat/postsuper/
// sendmail of one instance); mta/sendmail_mta.{hpp,cpp} (qf files).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/model/envelope.hpp"
#include "common/model/queue_lifetimes.hpp"
#include "common/model/queued_message.hpp"
#include "common/util/result.hpp"

namespace etrn {

// What read_content returns of a queued message.
enum class ContentPart { whole_message, headers_only };

// A survivor re-injected with its own DSN parameters (partial expiry).
struct ReinjectRecipient {
  std::string address;
  RecipientDsnParams dsn;
};

// Submits DSNs one after another over one conversation with the MTA
// (sendmail -bs), so that a run sending thousands costs one process, not
// thousands. submit() has Mta::submit_dsn's meaning.
class DsnSubmitter {
 public:
  virtual ~DsnSubmitter() = default;
  virtual Status submit(const std::string& dsn_text, const std::string& recipient) = 0;
};

class Mta {
 public:
  virtual ~Mta() = default;

  // Is the MTA there at all (its commands, its queue)? An error here means
  // a configuration or installation problem (exit 69), not a passing one.
  virtual Status available() { return ok_status(); }

  // Streams every queued message, all queues including hold, to `visit`.
  // An error (command failed, output cut short) means the listing is not
  // complete and the caller must change nothing.
  virtual Status for_each_queued(const std::function<void(QueuedMessage&&)>& visit) = 0;

  virtual Result<QueuedEnvelope> read_envelope(const std::string& queue_id) = 0;

  // The message content (headers and body as RFC 5322 text, LF line ends),
  // or only its header section.
  virtual Result<std::string> read_content(const std::string& queue_id, ContentPart part) = 0;

  // Stops delivery of a message (Postfix: hold queue).
  virtual Status hold(const std::string& queue_id) = 0;

  // Removes a message from the queue. The queue ID is validated first.
  virtual Status remove(const std::string& queue_id) = 0;

  // How an admin removes a message held by hold(), in the MTA's own terms,
  // for the error when the sweeper could not: "remove it with postsuper -d
  // ID hold" (Postfix).
  virtual std::string how_to_remove_held(const std::string& queue_id) const;

  // Submits a complete RFC 5322 message (`dsn_text`, LF line ends) with a
  // null reverse-path to `recipient`, through the MTA's own submission command.
  // Success means the MTA has accepted responsibility for it.
  virtual Status submit_dsn(const std::string& dsn_text, const std::string& recipient) = 0;

  // Submits `content` (a message as read_content gives it) again for
  // `recipients` with the original envelope (sender, RET, ENVID,
  // SMTPUTF8); returns the new queue ID.
  virtual Result<std::string> reinject(const std::string& content, const Envelope& envelope,
                                       const std::vector<ReinjectRecipient>& recipients) = 0;

  virtual Result<QueueLifetimes> queue_lifetimes() = 0;

  // A second look for messages a listing did not show: a listing can miss a
  // message that moves between queues while it runs. Visits those of
  // `queue_ids` that are queued now (as for_each_queued would), others not.
  // Default: the whole listing again, only those kept.
  virtual Status look_again(const std::vector<std::string>& queue_ids,
                            const std::function<void(QueuedMessage&&)>& visit);

  // The transport (Postfix) or mailer (Sendmail) the MTA routes each
  // address to, for the addresses it can tell, keyed as given. The
  // default knows none (Sendmail's listing names the mailers itself).
  virtual Result<std::map<std::string, std::string>> transports_for(
      const std::vector<std::string>& addresses);

  // --- Bulk forms, for runs that act on many messages. The defaults call
  // the single forms one by one; adapters override them with one command
  // for the lot. Results are in the order of the queue IDs given.

  virtual std::vector<Result<QueuedEnvelope>> read_envelopes(
      const std::vector<std::string>& queue_ids);
  virtual std::vector<Result<std::string>> read_contents(const std::vector<std::string>& queue_ids,
                                                         ContentPart part);
  virtual std::vector<Status> remove_all(const std::vector<std::string>& queue_ids);
  // A submitter for many DSNs; it must be used (and destroyed) in the
  // process that opened it.
  virtual Result<std::unique_ptr<DsnSubmitter>> open_dsn_submitter();
};

}  // namespace etrn
