// executor.hpp - carries out a sweep Plan through the Mta, the store, the
// DSN builder and the outbox.
//
// Order, so that a crash anywhere loses nothing and repeats no DSN:
// reconcile first (one transaction: merges, reopened records, queue
// arrival times, recipients followed to the addresses the MTA queued them
// as or adopted into their message, changed deadlines, departures,
// adoptions, done marks). Then a message that is
// split, alone: the delay DSN, hold, the failure DSN through the outbox
// (finalized before anything is removed), the silent expiries, re-injection
// of the survivors, removal of the original. The others in batches of
// kExpiryBatchSize: every delay and failure DSN of the batch through the
// outbox at once (finalized before anything is removed), the silent
// expiries, then removal of the messages that leave the queue. A message
// whose DSN was not accepted is not removed; the run then ends with 75. A DSN that
// cannot be built at all (the builder refuses the sender) is not retried:
// a failure DSN becomes an expiry without DSN, a delay DSN is skipped.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "common/config/config.hpp"
#include "common/mta/mta.hpp"
#include "common/store/database.hpp"
#include "sweeper/outbox.hpp"
#include "sweeper/plan.hpp"

namespace etrn {

struct RunSummary {
  int departed = 0;
  int adopted = 0;
  int warned = 0;
  int expired = 0;
  int dsns_sent = 0;
  int removed = 0;
  int split = 0;
  int recovered = 0;
  std::vector<std::string> errors;  // per message; the others went ahead

  std::string to_string() const;
};

struct ExecutorClock {
  EpochSeconds act_now = 0;   // the time the run acts as (--now): events, states, DSN dates
  EpochSeconds real_now = 0;  // the clock: when rows are recorded, for matching them later
};

class Executor {
 public:
  Executor(const Config& config, Database& db, Mta& mta, Outbox& outbox, std::string reporting_mta,
           ExecutorClock clock);

  RunSummary execute(Plan plan);

 private:
  // One DSN wanted for a message (it reports the recipients of action_reported_by(kind)).
  struct DsnWant {
    MessagePlan* m;
    DsnKind kind;
  };

  void reconcile(Plan& plan);
  void reconcile_message(MessagePlan& m);
  void follow_the_queue(MessagePlan& m);
  bool adopt(MessagePlan& m);
  static bool acts_on(const MessagePlan& m);
  Status act_alone(MessagePlan& m);
  void act_together(const std::vector<MessagePlan*>& batch);
  std::vector<Status> send_dsns(const std::vector<DsnWant>& wants);
  std::unordered_map<std::string, Result<std::string>> read_originals(
      const std::vector<DsnWant>& wants);
  ContentPart returned_part(const MessagePlan& m) const;
  Result<std::string> build(const MessagePlan& m, DsnKind kind, const std::string& dsn_message_id,
                            const std::string& original);
  void expire_silently(const std::vector<MessagePlan*>& messages);
  Status handle_unusable_dsn(MessagePlan& m, DsnKind kind, const std::string& reason);
  void remove_all_whole(const std::vector<MessagePlan*>& messages);
  Status split(const MessagePlan& m);
  Result<std::string> reinject_survivors(const MessagePlan& m);
  std::optional<std::string> copy_from_interrupted_run(const MessagePlan& m);
  void note_error(const MessagePlan& m, const Error& error);

  const Config& config_;
  Database& db_;
  Mta& mta_;
  Outbox& outbox_;
  std::string reporting_mta_;
  ExecutorClock clock_;
  RunSummary summary_;
};

// Messages acted on together (one postcat, one commit, one sendmail -bs,
// one postsuper): large enough to amortize the commands, small enough to
// keep the originals of a batch in memory and the database write lock short.
inline constexpr std::size_t kExpiryBatchSize = 250;

// The header put on a re-injected copy, naming the original queue ID.
inline constexpr const char* kReinjectedHeader = "X-ETRN-Sweeper-Reinjected";

// Adds `kReinjectedHeader: <old id>` at the top of a message's content.
std::string with_reinjected_header(const std::string& content, const std::string& old_queue_id);
// Does a header section carry `kReinjectedHeader: <old id>`?
bool names_original(std::string_view headers, const std::string& old_queue_id);

}  // namespace etrn
