// message.hpp - what the milter records about a message: the message with
// its ETRN-only recipients, and (MessageToRecord) their deadlines, as the
// store writes it. Plain data, no behaviour.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/model/deadlines.hpp"
#include "common/model/envelope.hpp"
#include "common/model/priority.hpp"
#include "common/util/epoch_seconds.hpp"

namespace etrn {

struct RecipientRecord {
  std::string address;  // as given, without angle brackets
  std::string domain;   // lower-cased, no trailing dot
  RecipientDsnParams dsn;
  std::string mailer;  // {rcpt_mailer}, empty if not known
};

struct MessageRecord {
  std::string queue_id;
  EpochSeconds arrival_time = 0;
  Envelope envelope;
  std::int64_t size = 0;   // bytes, as the MTA or the client stated them; 0: not known
  std::string message_id;  // Message-ID header, as given
  std::string subject;     // Subject header, as given (may be encoded-words)
  Priority priority = Priority::normal;
  std::string client_addr;
  std::string client_name;
  std::string helo;
  std::string auth_user;
  std::vector<RecipientRecord> recipients;  // ETRN-only recipients only
  std::string instance;  // the MTA host it was queued on (config key `instance`); '' not known
};

// A message to record (by the milter, or by the sweeper adopting it).
struct MessageToRecord {
  MessageRecord message;
  std::vector<Deadlines> deadlines;  // one per message.recipients entry
};

}  // namespace etrn
