// executor.hpp - carries out a sweep Plan through the Mta, the store, the
// DSN builder and the outbox, following the expiry protocol
// (sweeper/README.md): nothing is reported on or removed before it is out
// of delivery and read again.
//
// Order, so that a crash anywhere loses nothing, repeats no DSN and never
// bounces what is being delivered:
// 1. reconcile (one transaction: merges, reopened records, queue arrival
//    times, recipients followed to the addresses the MTA queued them as or
//    adopted into their message, changed deadlines, departures, adoptions,
//    done marks, stale hold marks);
//    release what the sweeper held in a run that died and that needs
//    nothing any more.
// 2. per batch of kExpiryBatchSize messages to report on or remove: record
//    the hold in the database, take them out of delivery (Mta::hold_all;
//    an ID not confirmed is left for the next run: it may be in delivery),
//    read each again (Mta::read_held: where it was put, the same arrival
//    time and sender, else it is put back untouched) and fit its plan to
//    what it holds now (fit_to_held: bounce only recipients still in it,
//    DSNs to the sender as queued).
// 3. a split, alone: re-inject the survivors (chunks of at most
//    Mta::recipients_per_copy; an admin's hold is put on the copies too),
//    record the copies, then the DSNs, the silent expiries and the removal
//    from hold. A re-injection that fails before any DSN puts the original
//    back where it was (unless an admin held it) and reports it.
// 4. the others together: every delay and failure DSN of the batch through
//    the outbox at once, the silent expiries, then one removal from hold of
//    the messages whose failure DSN went out, and the warned ones put back.
//    A message whose failure DSN did not go out stays on hold: in flight
//    (retried by the outbox) or in attention (the RefusalHandler told the
//    postmaster).
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/config/config.hpp"
#include "common/model/run.hpp"
#include "common/mta/mta.hpp"
#include "common/store/database.hpp"
#include "sweeper/outbox.hpp"
#include "sweeper/plan.hpp"
#include "sweeper/refusal.hpp"

namespace etrn {

struct RunSummary {
  // What the runs table keeps; its errors and need_a_person are the sizes
  // of the lists below, set when the run ends.
  RunCounts counts;
  int released = 0;
  int recovered = 0;
  std::vector<std::string> errors;  // per message, to try again; the others went ahead
  // Messages kept on hold for a person (attention), by queue ID.
  std::vector<std::string> need_a_person;

  std::string to_string() const;
};

struct ExecutorClock {
  EpochSeconds act_now = 0;   // the time the run acts as (--now): events, states, DSN dates
  EpochSeconds real_now = 0;  // the clock: when rows are recorded, for matching them later
};

class Executor {
 public:
  Executor(const Config& config, Database& db, Mta& mta, Outbox& outbox, RefusalHandler& refusals,
           std::string reporting_mta, ExecutorClock clock);

  RunSummary execute(Plan plan);

 private:
  // A message taken out of delivery and read again.
  struct Held {
    MessagePlan* m = nullptr;
    HeldMessage copy;
    ContentPart part = ContentPart::whole_message;  // what copy.content holds
  };
  // One DSN wanted for a held message (it reports the recipients of action_reported_by(kind)).
  struct DsnWant {
    Held* held;
    DsnKind kind;
  };
  // A re-injected copy of a split's survivors.
  struct Copy {
    std::string queue_id;
    std::vector<std::string> addresses;
  };

  void reconcile(Plan& plan);
  // `arrivals` gets the MTA arrival time to store for m, if any (stored
  // in bulk with the plan's own, Plan::arrivals).
  void reconcile_message(MessagePlan& m,
                         std::vector<std::pair<std::int64_t, EpochSeconds>>& arrivals);
  void follow_the_queue(MessagePlan& m);
  bool adopt(MessagePlan& m);
  void release_idle(std::vector<MessagePlan>& messages);
  void act_on_batch(const std::vector<MessagePlan*>& batch);
  std::vector<MessagePlan*> take_out_of_delivery(const std::vector<MessagePlan*>& batch);
  std::vector<Held> read_again(const std::vector<MessagePlan*>& taken);
  void put_back(const std::vector<MessagePlan*>& messages);
  void report_and_remove(const std::vector<Held*>& together);
  std::vector<DsnFate> send_dsns(const std::vector<DsnWant>& wants);
  void log_reported(const MessagePlan& m, DsnKind kind, const std::string& dsn_message_id);
  DsnJob job_for(const DsnWant& want);
  Result<std::string> build(const Held& h, DsnKind kind, const std::string& dsn_message_id,
                            bool headers_only) const;
  ContentPart returned_part(const MessagePlan& m) const;
  void expire_silently(const std::vector<MessagePlan*>& messages);
  void remove_from_hold(const std::vector<MessagePlan*>& messages, const std::string& detail);
  Status split(Held& h);
  Result<std::vector<Copy>> reinject_survivors(const Held& h);
  Result<std::vector<Copy>> reinject_in_chunks(const Held& h,
                                               const std::vector<std::string>& addresses);
  std::vector<Copy> copies_from_interrupted_run(const MessagePlan& m);
  void record_copies(const MessagePlan& m, const std::vector<Copy>& copies);
  void note_error(const MessagePlan& m, const std::string& error);

  const Config& config_;
  Database& db_;
  Mta& mta_;
  Outbox& outbox_;
  RefusalHandler& refusals_;
  std::string reporting_mta_;
  ExecutorClock clock_;
  RunSummary summary_;
  std::optional<std::size_t> recipients_per_copy_;  // asked once per run
};

// Messages acted on together (one postsuper -h, one postcat, one commit,
// one sendmail -bs, one postsuper -d): large enough to amortize the
// commands, small enough to keep the originals of a batch in memory and
// the database write lock short.
inline constexpr std::size_t kExpiryBatchSize = 250;

// Adds `kReinjectedHeader: <old id>` at the top of a message's content.
std::string with_reinjected_header(const std::string& content, const std::string& old_queue_id);
// Does a header section carry `kReinjectedHeader: <old id>`?
bool names_original(std::string_view headers, const std::string& old_queue_id);

}  // namespace etrn
