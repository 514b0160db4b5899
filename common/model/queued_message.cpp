// queued_message.cpp - looking a recipient up in a queued envelope.
#include "common/model/queued_message.hpp"

#include "common/util/strings.hpp"

namespace etrn {

RecipientDsnParams QueuedEnvelope::dsn_for(std::string_view address) const {
  for (const Recipient& r : recipients) {
    if (iequals(r.address, address)) return r.dsn;
  }
  return {};
}

}  // namespace etrn
