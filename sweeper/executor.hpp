// executor.hpp - carries out a sweep Plan through the Mta, the store, the
// DSN builder and the outbox.
//
// Order per message, so that a crash anywhere loses nothing and repeats no
// DSN: reconcile first (one transaction: merges, queue arrival times,
// changed deadlines, departures, adoptions, done marks); then per message
// the delay DSN; for expiry, hold the message first when it is split, the
// failure DSN through the outbox (finalized before anything is removed),
// the silent expiries, then either removal or re-injection of the
// survivors followed by removal of the original. A message whose DSN was
// not accepted is not removed; the run then ends with 75. A DSN that
// cannot be built at all (the builder refuses the sender) is not retried:
// a failure DSN becomes an expiry without DSN, a delay DSN is skipped.
#pragma once

#include <string>
#include <vector>

#include "common/config/config.hpp"
#include "common/mta/mta.hpp"
#include "common/store/database.hpp"
#include "sweeper/outbox.hpp"
#include "sweeper/planner.hpp"

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
  void reconcile(Plan& plan);
  void reconcile_message(MessagePlan& m);
  bool adopt(MessagePlan& m);
  Status act(MessagePlan& m);
  Status send_dsn(MessagePlan& m, OutboxKind kind, RecipientAction which);
  Result<std::string> build(const MessagePlan& m, OutboxKind kind, RecipientAction which,
                            const std::string& dsn_message_id);
  void expire_silently(const MessagePlan& m);
  Status handle_unusable_dsn(MessagePlan& m, RecipientAction which, const std::string& reason);
  Status remove_whole(const MessagePlan& m);
  Status split(const MessagePlan& m);
  Result<std::string> reinject_survivors(const MessagePlan& m);
  std::optional<std::string> copy_from_interrupted_run(const MessagePlan& m);

  const Config& config_;
  Database& db_;
  Mta& mta_;
  Outbox& outbox_;
  std::string reporting_mta_;
  ExecutorClock clock_;
  RunSummary summary_;
  // Set by build() when the DSN builder refuses the input itself (e.g. a
  // sender that cannot be addressed): retrying would never help.
  std::optional<std::string> unusable_dsn_;
};

// The header put on a re-injected copy, naming the original queue ID.
inline constexpr const char* kReinjectedHeader = "X-ETRN-Sweeper-Reinjected";

// Adds `kReinjectedHeader: <old id>` at the top of a message's content.
std::string with_reinjected_header(const std::string& content, const std::string& old_queue_id);
// Does a header section carry `kReinjectedHeader: <old id>`?
bool names_original(std::string_view headers, const std::string& old_queue_id);

}  // namespace etrn
