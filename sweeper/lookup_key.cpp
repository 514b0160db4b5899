// lookup_key.cpp - classifying a look-up argument (see lookup_key.hpp).
#include "sweeper/lookup_key.hpp"

#include "common/mta/postfix_queue_id.hpp"
#include "common/mta/sendmail_queue.hpp"
#include "common/util/strings.hpp"

namespace etrn {

Result<std::string> validate_queue_id(std::string_view text, MtaKind mta) {
  return mta == MtaKind::sendmail ? validate_sendmail_queue_id(text)
                                  : validate_postfix_queue_id(text);
}

Result<LookupKey> classify_lookup(std::string_view text, MtaKind mta) {
  text = trim(text);
  if (text.size() >= 2 && text.front() == '<' && text.back() == '>')
    return LookupKey{LookupKind::message_id, std::string(text)};
  if (text.find('@') != std::string_view::npos)
    return LookupKey{LookupKind::address, std::string(text)};
  auto queue_id = validate_queue_id(text, mta);
  if (!queue_id) {
    return make_error(queue_id.error().message +
                      " (want a queue ID, an address with @, or a Message-ID in <>)");
  }
  return LookupKey{LookupKind::queue_id, *queue_id};
}

}  // namespace etrn
