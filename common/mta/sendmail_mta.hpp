// sendmail_mta.hpp - the Mta interface over one Sendmail 8.17 instance:
// its queue directories read directly (sendmail_queue.hpp,
// sendmail_qf_parser.hpp) and its own `sendmail` command, always with
// `-C <sendmail_config_file>` when one is configured.
//
// Verified on Debian 12's 8.17.1.9 (run from its unpacked packages):
// - `sendmail -C cf -bv ADDR...` prints one line per address,
//   "ADDR... deliverable: mailer dsmtp, host [127.0.0.1], user ADDR": the
//   mailer a recipient routes to (mailertable), which is how unrecorded
//   mail for an ETRN site (`dsmtp`) is recognised for adoption. Asked once
//   per listing for one address of each domain, only when etrn_transports
//   is set.
// - `sendmail -C cf -i -f '<>' -- RCPT` submits with the null sender (the
//   qf says `S<>`).
// - `sendmail -C cf -bs -M{client_addr}127.0.0.1` speaks SMTP on
//   stdin/stdout (nothing may be sent before its greeting; without the
//   macro a socket on stdin is taken for a remote client and relaying to
//   the site is denied, seen) and answers DATA with
//   "250 2.0.0 <ID> Message accepted for delivery"; NOTIFY, ORCPT, RET and
//   ENVID survive into the qf.
// - `sendmail -C cf -qI<ID> -Q<reason>` quarantines the message (qf -> hf
//   with a `q` line), Sendmail's own "hold": a quarantined message is not
//   delivered and does not expire. It is used for a partial expiry, as
//   `postsuper -h` is on Postfix.
// - `sendmail -C cf -qQ -qI<ID> -Q` (no reason) lifts that quarantine.
// - `sendmail -C cf -bt` with `$j` on stdin prints `> mx.provider.example`:
//   the host name Sendmail gives itself, the Reporting-MTA by default.
// - The expiry protocol: the control file locked (flock LOCK_EX|LOCK_NB)
//   before any DSN and kept locked to the unlink; the qf read from the
//   locked descriptor, its T (creation time) and S (sender) compared with
//   the listing. Sendmail skips a message whose lock it cannot get.
// - The qf keeps each recipient as given at RCPT (the R line; Sendmail
//   parses it again at each delivery attempt), with its ORCPT (a Q line)
//   when the client gave one and an `r` line "RFC822; address"; either
//   names the recipient's original address for the sweeper's matching.
// - Sendmail has no queue lifetime the sweeper can compare per domain
//   (Timeout.queuereturn is per precedence, in the .cf): queue_lifetimes()
//   reports none; the README gives the advice instead.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config/config.hpp"
#include "common/mta/mta.hpp"
#include "common/mta/sendmail_qf_parser.hpp"
#include "common/mta/sendmail_queue.hpp"
#include "common/util/subprocess.hpp"

namespace etrn {

struct SendmailCommands {
  std::string program;      // the sendmail binary
  std::string config_file;  // -C; empty: Sendmail's default
  std::vector<std::string> queue_directories;
  std::vector<std::string> etrn_transports;  // mailers worth asking -bv about
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};

  static SendmailCommands from_config(const Config& config);
};

// The queue ID in Sendmail's "250 2.0.0 6AT3P87O011046 Message accepted
// for delivery" (with or without the reply code), validated.
Result<std::string> sendmail_queue_id_from_reply(std::string_view reply);

// address -> mailer from `sendmail -bv` output lines; lines that do not say
// "deliverable: mailer X" are left out.
std::map<std::string, std::string> parse_sendmail_verify_output(
    const std::vector<std::string>& lines);

class SendmailMta : public Mta {
 public:
  SendmailMta(SendmailCommands commands, std::shared_ptr<CommandRunner> runner);
  explicit SendmailMta(const Config& config);  // with the real ProcessRunner

  Status available() override;
  Status for_each_queued(const std::function<void(QueuedMessage&&)>& visit) override;
  Result<QueuedEnvelope> read_envelope(const std::string& queue_id) override;
  Result<std::string> read_content(const std::string& queue_id, ContentPart part) override;
  Status hold(const std::string& queue_id) override;
  Status remove(const std::string& queue_id) override;
  std::string how_to_remove_held(const std::string& queue_id) const override;
  std::string how_to_release_held(const std::string& queue_id) const override;
  // Batches of DSNs use Mta's default submitter, one `sendmail -i` each,
  // not one `sendmail -bs` conversation: Sendmail forgets -M{client_addr}
  // after the conversation's first message, and the next RCPT then fails
  // the relay check (seen on 8.17: "550 5.7.1 Relaying denied").
  Status submit_dsn(const std::string& dsn_text, const std::string& recipient) override;
  Result<std::string> reinject(const std::string& content, const Envelope& envelope,
                               const std::vector<ReinjectRecipient>& recipients) override;
  Result<QueueLifetimes> queue_lifetimes() override;
  Result<std::string> own_host_name() override;
  // Sendmail's default MaxRecipientsPerMessage is no limit.
  Result<std::size_t> recipients_per_copy() override { return std::size_t{0}; }
  std::vector<Status> hold_all(const std::vector<HoldRequest>& requests) override;
  std::vector<Result<HeldMessage>> read_held(const std::vector<const QueuedMessage*>& messages,
                                             ContentPart part) override;
  std::vector<Status> remove_held(const std::vector<std::string>& queue_ids) override;
  std::vector<Status> release_held(const std::vector<std::string>& queue_ids) override;
  // A direct look at each message's control file (qf or hf).
  Status look_again(const std::vector<std::string>& queue_ids,
                    const std::function<void(QueuedMessage&&)>& visit) override;

 private:
  CommandSpec command(std::vector<std::string> args) const;
  Result<SendmailQueueFile> find(const std::string& queue_id) const;
  // The parsed control file of one message; damaged files are errors.
  Result<SendmailQf> read_qf(const SendmailQueueFile& file) const;
  Status take(const HoldRequest& request);
  Result<HeldMessage> read_claimed(const QueuedMessage& listed, ContentPart part) const;
  Status run_checked(const CommandSpec& spec);
  Status lift_quarantine(const std::string& queue_id);
  // Mailer per domain for the listed messages (empty when not asked or failed).
  std::map<std::string, std::string> mailers_by_domain(const std::vector<QueuedMessage>& queue);
  // Visits the messages with their recipients' mailers filled in.
  void visit_with_mailers(std::vector<QueuedMessage>& listed,
                          const std::function<void(QueuedMessage&&)>& visit);

  SendmailCommands commands_;
  std::shared_ptr<CommandRunner> runner_;
  SendmailQueue queue_;
  // The messages hold_all locked, by queue ID; a lock lasts until
  // remove_held, release_held or the end of this object (the run).
  std::map<std::string, LockedQueueFile> claims_;
};

}  // namespace etrn
