// postfix_mta.hpp - the Mta interface over one Postfix instance's commands.
//
// Every command runs from an argv vector through a CommandRunner, with
// MAIL_CONFIG=<postfix_config_directory> in its environment and, where the
// command has it, `-c <dir>` too. Commands come from
// postfix_command_directory (postqueue, postcat, postsuper, postconf,
// sendmail). Queue IDs are validated (postfix_queue_id.hpp) before any
// command sees them.
//
// Verified on Postfix 3.7 (Debian 12):
// - `postqueue -j` lists all queues including hold; null sender = "MAILER-DAEMON".
//   It lists the maildrop queue too, but a maildrop file gets a NEW queue ID
//   when pickup moves it into incoming (seen), so for_each_queued leaves
//   maildrop entries out: they show up again under their real ID.
// - `postcat -e -q ID` prints the envelope (postcat_parser.hpp); a missing
//   ID exits 1 with "postcat: fatal: open queue file ID: No such file...".
//   Its frame line names the queue ("*** ENVELOPE RECORDS hold/ID ***"), its
//   message_arrival_time is asctime() in the TZ it runs with (TZ is in
//   Postfix's default import_environment; the adapter gives it UTC).
// - `postsuper -h - deferred` (IDs on stdin) prints, on stderr, one line
//   "postsuper: ID: placed on hold" per message it moved, then a count; an
//   ID not in deferred gives no line and the exit status is still 0. The
//   same shape for `-H - hold` ("released from hold") and `-d - hold`
//   ("removed"). Only those per-ID lines are believed.
// - `postcat -bh -q ID` prints headers and body exactly, no framing lines,
//   LF line ends; `-h` alone stops after the last header (no blank line).
// - `postsuper -d ID` reports "postsuper: ID: removed" and
//   "postsuper: Deleted: 1 message" on stderr and exits 0 also when the ID
//   did not exist (then nothing is printed), so the count is checked.
// - `sendmail -f '<>'` (and `-f ''`) submit with the null sender; `-i`
//   keeps a lone "." line as content.
// - `sendmail -bs` speaks SMTP on stdin/stdout and answers DATA with
//   "250 2.0.0 Ok: queued as ID". Run as root it is "stand-alone": the mail
//   goes through postdrop/pickup, which gives it ANOTHER queue ID and drops
//   RET, ENVID and SMTPUTF8 (smtpd.c writes them only when not stand-alone).
//   Run as mail_owner it talks to cleanup directly: the reply carries the
//   real queue ID and RET, ENVID, SMTPUTF8, NOTIFY and ORCPT all survive
//   (seen). So reinject runs it as mail_owner (root or mail_owner only).
//   As a normal smtpd it applies smtpd_milters and the smtpd_*_restrictions
//   to the copy (client localhost[127.0.0.1]). An error after DATA was sent
//   (e.g. the final reply timed out) may still leave a queued copy.
// - hold() of a message already on hold is an error ("Placed on hold: 0").
// - `postconf -h myhostname` is the Reporting-MTA when none is configured;
//   `postconf -h smtpd_recipient_limit` (default 1000) bounds the
//   recipients of one re-injected copy.
// - `postmap -q - MAP` reads keys from stdin and prints "key<TAB>value" for
//   each one found; exit 0 when one was found, 1 when none was (or, with
//   "fatal:" on stderr, when the map cannot be read).
// - Non-root callers: postqueue/postdrop are set-gid and accept a
//   non-default MAIL_CONFIG only if it is in alternate_config_directories.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include "common/config/config.hpp"
#include "common/mta/mta.hpp"
#include "common/util/subprocess.hpp"

namespace etrn {

struct PostfixCommands {
  std::string config_directory;   // MAIL_CONFIG / -c
  std::string command_directory;  // where postqueue & co. live
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};

  static PostfixCommands from_config(const Config& config);
};

class PostfixMta : public Mta {
 public:
  PostfixMta(PostfixCommands commands, std::shared_ptr<CommandRunner> runner);
  explicit PostfixMta(const Config& config);  // with the real ProcessRunner

  Status available() override;
  Status for_each_queued(const std::function<void(QueuedMessage&&)>& visit) override;
  // A second `postqueue -j` in which only the lines of those messages are
  // parsed (the JSON parse is most of a listing's cost).
  Status look_again(const std::vector<std::string>& queue_ids,
                    const std::function<void(QueuedMessage&&)>& visit) override;
  Result<QueuedEnvelope> read_envelope(const std::string& queue_id) override;
  Result<std::string> read_content(const std::string& queue_id, ContentPart part) override;
  Status hold(const std::string& queue_id) override;
  Status remove(const std::string& queue_id) override;
  std::string how_to_remove_held(const std::string& queue_id) const override;
  std::string how_to_release_held(const std::string& queue_id) const override;
  Status submit_dsn(const std::string& dsn_text, const std::string& recipient) override;
  Result<std::string> reinject(const std::string& content, const Envelope& envelope,
                               const std::vector<ReinjectRecipient>& recipients) override;
  Result<QueueLifetimes> queue_lifetimes() override;
  Result<std::string> own_host_name() override;
  Result<std::size_t> recipients_per_copy() override;
  // Bulk: one `postsuper -h - deferred`, one `postcat -e -h [-b] -q ID...`
  // (one by one if its output cannot be split safely), one `postsuper -d -
  // hold` or `-H - hold`, each with the IDs on stdin and each ID confirmed
  // by its own line of postsuper's.
  std::vector<Status> hold_all(const std::vector<HoldRequest>& requests) override;
  std::vector<Result<HeldMessage>> read_held(const std::vector<const QueuedMessage*>& messages,
                                             ContentPart part) override;
  std::vector<Status> remove_held(const std::vector<std::string>& queue_ids) override;
  std::vector<Status> release_held(const std::vector<std::string>& queue_ids) override;
  // One `postcat -e -q ID...` (one by one if its output cannot be split safely).
  std::vector<Result<QueuedEnvelope>> read_envelopes(
      const std::vector<std::string>& queue_ids) override;
  // One `postcat -e -h -q ID...` per kPostcatBatch messages (one by one
  // where its output cannot be split safely).
  std::vector<Result<HeldMessage>> read_headers(const std::vector<std::string>& queue_ids) override;
  // postmap -q - against each map of transport_maps (one run per map, the
  // keys of every address on its stdin), in trivial-rewrite's order
  // (postfix_transport.hpp).
  Result<std::map<std::string, std::string>> transports_for(
      const std::vector<std::string>& addresses) override;
  // DSNs over one `sendmail -bs` run as mail_owner (like reinject), which
  // hands each to cleanup directly instead of through postdrop and pickup.
  Result<std::unique_ptr<DsnSubmitter>> open_dsn_submitter() override;
  // Looks up mail_owner once, so that the submission children need not.
  void prepare_dsn_submission() override;

 private:
  CommandSpec command(const std::string& program, std::vector<std::string> args) const;
  // postcat with TZ=UTC, so its dates read as UTC.
  CommandSpec postcat(std::vector<std::string> args) const;
  enum class Expand { none, names };
  Result<std::vector<std::string>> postconf(std::vector<std::string> names,
                                            Expand expand = Expand::none);
  std::vector<Result<HeldMessage>> read_many(const std::vector<std::string>& ids, ContentPart part);
  std::vector<Status> postsuper_each(const std::string& option, const std::string& queue,
                                     const std::vector<std::string>& queue_ids,
                                     std::string_view done);
  // postqueue -j; `only`: the queue IDs wanted (null: all).
  Status list_queue(const std::unordered_set<std::string>* only,
                    const std::function<void(QueuedMessage&&)>& visit);
  Result<CommandResult> run(const CommandSpec& spec, const LineSink& sink);
  // Who runs `sendmail -bs`: mail_owner (as root), else ourselves if we are
  // mail_owner; otherwise an error (see reinject in the .cpp).
  Result<std::optional<RunAs>> smtp_credentials();
  Result<CommandSpec> sendmail_bs();
  Status run_postsuper(const std::string& option, const std::string& queue_id,
                       std::string_view want_stderr);
  // key -> entry of one map, for the keys it has.
  Result<std::map<std::string, std::string>> look_up(const std::string& map,
                                                     const std::vector<std::string>& keys);

  PostfixCommands commands_;
  std::shared_ptr<CommandRunner> runner_;
  std::optional<std::optional<RunAs>> smtp_credentials_;  // once found
};

}  // namespace etrn
