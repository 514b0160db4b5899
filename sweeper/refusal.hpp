// refusal.hpp - what becomes of a DSN the sweeper cannot deliver: one the
// MTA refused even as headers only, one that failed kMaxDsnAttempts times,
// or one that could not be built at all (not even as headers only).
//
// Nothing is lost and a person is told:
// - A failure DSN: its recipients go to the audit state `attention`
//   (events dsn_refused and attention), the message stays on hold (it is
//   not removed), the postmaster gets a notice with the queue ID, the
//   recipients, the reason and the refused DSN's headers (event
//   postmaster_notified), and a warning goes to stderr (cron mails it). The
//   sweeper does nothing more with the message until a person releases it
//   or deletes it; the run goes on with everything else and exits 1.
// - A delay DSN: the warning is given up (event dsn_refused, state
//   warned), so it is not tried every run; the expiry goes on as usual.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/mta/mta.hpp"
#include "common/store/database.hpp"
#include "common/util/epoch_seconds.hpp"
#include "sweeper/outbox.hpp"

namespace etrn {

struct UndeliverableDsn {
  DsnRequest dsn;  // which DSN, for whom
  std::string reason;
  std::string dsn_text;                   // "" when none could be built
  std::optional<std::int64_t> outbox_id;  // its outbox row, closed in the same transaction
};

class RefusalHandler {
 public:
  RefusalHandler(Database& db, Mta& mta, std::string postmaster, std::string reporting_mta);

  // Records it (one transaction), then tells the postmaster. Throws
  // DatabaseError like the store.
  void give_up(const UndeliverableDsn& undeliverable, EpochSeconds now);

  // The messages put in attention by this run, by queue ID.
  const std::vector<std::string>& attention() const { return attention_; }

 private:
  void notify_postmaster(const UndeliverableDsn& undeliverable,
                         const std::vector<std::string>& recipients, EpochSeconds now);

  Database& db_;
  Mta& mta_;
  std::string postmaster_;
  std::string reporting_mta_;
  std::vector<std::string> attention_;
};

}  // namespace etrn
