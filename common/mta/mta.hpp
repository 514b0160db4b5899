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

// A message the sweeper took out of delivery (Mta::hold_all), read again
// where it now is: its envelope as the MTA queued it (the sender a DSN goes
// to, the recipients still in it) and its content (whole, or headers).
struct HeldMessage {
  QueuedEnvelope envelope;
  std::string content;
};

// One message to take out of delivery: its listing entry, and whether the
// hold must outlive this run (a split, whose survivors are re-injected:
// Sendmail then quarantines it; Postfix's hold always does).
struct HoldRequest {
  const QueuedMessage* listed = nullptr;
  bool until_released = false;
};

// A survivor re-injected with its own DSN parameters (partial expiry).
struct ReinjectRecipient {
  std::string address;
  RecipientDsnParams dsn;
};

// Submits DSNs one after another over one conversation with the MTA
// (sendmail -bs), so that a run sending thousands costs one process, not
// thousands. submit() has Mta::submit_dsn's meaning, errors included.
class DsnSubmitter {
 public:
  virtual ~DsnSubmitter() = default;
  virtual Status submit(const std::string& dsn_text, const std::string& recipient) = 0;
};

// Is `read` (a held copy, read again) the message `listed` was? The same
// arrival time and the same sender; otherwise an error of kind gone: with
// short queue IDs, an ID may name a newer message.
Status check_same_message(const QueuedMessage& listed, const QueuedEnvelope& read);

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

  // The envelope of one message where it is now (queue_name, arrival_time
  // and in_delivery set); an error of kind gone when it is not queued.
  virtual Result<QueuedEnvelope> read_envelope(const std::string& queue_id) = 0;

  // The message content (headers and body as RFC 5322 text, LF line ends),
  // or only its header section.
  virtual Result<std::string> read_content(const std::string& queue_id, ContentPart part) = 0;

  // Puts one message on hold wherever it is (Postfix: postsuper -h ID; the
  // re-injected copy of an admin's held message). Not for the expiry
  // protocol: hold_all is.
  virtual Status hold(const std::string& queue_id) = 0;

  // Removes one message wherever it is (a re-injected copy that must go
  // again). Not for the expiry protocol: remove_held is.
  virtual Status remove(const std::string& queue_id) = 0;

  // How an admin removes a message held by hold(), in the MTA's own terms,
  // for the error when the sweeper could not: "remove it with postsuper -d
  // ID hold" (Postfix).
  virtual std::string how_to_remove_held(const std::string& queue_id) const;
  // The same for putting it back into delivery: "release it with postsuper -H ID".
  virtual std::string how_to_release_held(const std::string& queue_id) const;

  // Submits a complete RFC 5322 message (`dsn_text`, LF line ends) with a
  // null reverse-path to `recipient`, through the MTA's own submission command.
  // Success means the MTA has accepted responsibility for it. An error of
  // kind `refused` means the MTA refused this message for good (an SMTP
  // 5xx, or a submission exit status that says so); any other error may
  // pass (try again later).
  virtual Status submit_dsn(const std::string& dsn_text, const std::string& recipient) = 0;

  // Submits `content` (a message as read_content gives it) again for
  // `recipients` with the original envelope (sender, RET, ENVID,
  // SMTPUTF8); returns the new queue ID.
  virtual Result<std::string> reinject(const std::string& content, const Envelope& envelope,
                                       const std::vector<ReinjectRecipient>& recipients) = 0;

  virtual Result<QueueLifetimes> queue_lifetimes() = 0;

  // The MTA's own host name (Postfix: myhostname; Sendmail: $j), the
  // Reporting-MTA of DSNs when reporting_mta is not set.
  virtual Result<std::string> own_host_name() = 0;

  // The most recipients one re-injected copy may carry (Postfix:
  // smtpd_recipient_limit); 0: no limit.
  virtual Result<std::size_t> recipients_per_copy() = 0;

  // --- The expiry protocol (sweeper/README.md). Before any DSN, the
  // messages acted on are taken out of delivery, read again where they
  // are now, and in the end removed from there or put back. Results are in
  // the order given.

  // Takes each message out of delivery. Postfix: deferred mail moves to
  // hold (`postsuper -h - deferred`, each ID confirmed by postsuper's own
  // line); mail on hold already stays. Sendmail: the control file is
  // locked, the lock kept until remove_held or release_held (or the end of
  // the run); with until_released it is quarantined first. An error: not
  // taken (it moved on, e.g. into delivery, or it is busy): leave it for
  // the next run.
  virtual std::vector<Status> hold_all(const std::vector<HoldRequest>& requests) = 0;
  // Each held message read again, with `part` of its content. An error of
  // kind `gone`: its queue ID no longer names the message listed (it left,
  // it is not where it was put, or it is another message that reused the
  // ID: its arrival time or sender differ).
  virtual std::vector<Result<HeldMessage>> read_held(
      const std::vector<const QueuedMessage*>& messages, ContentPart part) = 0;
  // Removes held messages from where hold_all put them (Postfix:
  // `postsuper -d - hold`, confirmed per ID; Sendmail: unlinked under the lock).
  virtual std::vector<Status> remove_held(const std::vector<std::string>& queue_ids) = 0;
  // Puts messages the sweeper held back where they were (Postfix:
  // `postsuper -H - hold`, confirmed per ID; Sendmail: its quarantine
  // lifted, the lock released).
  virtual std::vector<Status> release_held(const std::vector<std::string>& queue_ids) = 0;

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

  // The envelopes of many messages where they are now, in the order given
  // (read_envelope's meaning for each). The default reads them one by one;
  // Postfix reads the lot with one postcat.
  virtual std::vector<Result<QueuedEnvelope>> read_envelopes(
      const std::vector<std::string>& queue_ids);
  // The envelopes and header sections of many messages where they are now,
  // in the order given (read_envelope and read_content(headers_only) for
  // each): what adopting them needs. The default reads them one by one;
  // Postfix reads them with one postcat per few hundred.
  virtual std::vector<Result<HeldMessage>> read_headers(const std::vector<std::string>& queue_ids);

  // A submitter for many DSNs; it must be used (and destroyed) in the
  // process that opened it. The default submits each with submit_dsn.
  virtual Result<std::unique_ptr<DsnSubmitter>> open_dsn_submitter();
  // Called in the sweeper's own process before it forks the children that
  // open submitters: what each of them would look up again is looked up
  // here, once (Postfix: mail_owner).
  virtual void prepare_dsn_submission() {}
};

}  // namespace etrn
