// queued_message.hpp - a message as the MTA's queue shows it: the listing
// entry every MTA adapter gives (QueuedMessage), and the DSN-relevant
// envelope it reads from the queue file on demand (QueuedEnvelope). Plain
// data: the adapters fill it in their MTA's terms; the planner and the
// executor read it without knowing which MTA it came from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/envelope.hpp"
#include "common/util/epoch_seconds.hpp"

namespace etrn {

struct QueuedRecipient {
  std::string address;
  // The MTA's mailer/transport for it, when known: Sendmail's listing names
  // it; for Postfix the sweep asks transport_maps where it must judge it.
  std::string mailer = {};
};

// One message as the MTA's queue listing shows it.
struct QueuedMessage {
  // Where the MTA keeps it, in the MTA's words, for people (--dry-run):
  // Postfix's incoming active deferred hold corrupt; Sendmail's queue, or
  // hold for a quarantined message.
  std::string queue_name;
  std::string queue_id;
  EpochSeconds arrival_time = 0;
  std::int64_t size = 0;
  std::string sender;  // "" for the null sender
  bool forced_expire = false;
  std::vector<QueuedRecipient> recipients;
  // The MTA is working on it right now (Postfix: in incoming or active, a
  // delivery may be under way; Sendmail: its lock is taken): not acted on,
  // not departed, not adopted this run.
  bool busy = false;
  // Out of delivery until released (Postfix: the hold queue; Sendmail: quarantined).
  bool held = false;
};

// The DSN-relevant envelope of a queued message (Postfix: postcat -e;
// Sendmail: the qf file), as the MTA queued it.
struct QueuedEnvelope {
  Envelope envelope;  // the sender exact: "" for the null sender
  struct Recipient {
    std::string address;
    RecipientDsnParams dsn;
    // The address the message was first sent to, before the MTA rewrote or
    // expanded it (Postfix's original_recipient; Sendmail's ORCPT or r
    // line), or "" when the MTA does not say.
    std::string original_recipient = {};
  };
  std::vector<Recipient> recipients;  // recipients still to be delivered
  // Where the copy read lies (Postfix: the queue in postcat's frame line,
  // e.g. "hold"; Sendmail: "queue" or "hold") and its arrival time as the
  // queue file says, when the MTA tells: with the sender, what tells the
  // listed message from another one that reused its queue ID.
  std::string queue_name = {};
  std::optional<EpochSeconds> arrival_time = {};
  // The MTA may be delivering it right now (Postfix: incoming or active;
  // Sendmail: its lock is taken).
  bool in_delivery = false;

  // The DSN parameters of `address` (compared without regard to case), or
  // none when the envelope does not list it.
  RecipientDsnParams dsn_for(std::string_view address) const;
};

}  // namespace etrn
