// postqueue_json_fuzz.cpp - `postqueue -j` lines (parse_postqueue_json_line),
// the sweeper's view of the whole Postfix queue. Each line of the input is
// parsed as postqueue would print it, and the whole input as one line.
//
// Properties: a line is a message or an error, never a crash; a message's
// queue ID is one Postfix could have made (it becomes a postsuper argument);
// `held` is exactly "in the hold queue"; showq's MAILER-DAEMON is never a
// sender (it means the null sender); and the streaming reader agrees with
// the document reader it replaced (postqueue_json_properties.cpp): the
// same message, field by field, or the same error.
#include <cstdint>

#include "common/mta/postfix_queue_id.hpp"
#include "common/mta/postqueue_parser.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/postqueue_json_properties.hpp"

namespace {

bool same_recipients(const etrn::QueuedMessage& a, const etrn::QueuedMessage& b) {
  if (a.recipients.size() != b.recipients.size()) return false;
  for (std::size_t i = 0; i < a.recipients.size(); ++i) {
    if (a.recipients[i].address != b.recipients[i].address ||
        a.recipients[i].mailer != b.recipients[i].mailer)
      return false;
  }
  return true;
}

void parse_one(std::string_view line) {
  const auto message = etrn::parse_postqueue_json_line(line);
  const auto reference = etrn::reference_postqueue_json_line(line);
  FUZZ_CHECK(message.ok() == reference.ok(),
             "the reader and the document reader agree on message or error");
  if (!message) {
    FUZZ_CHECK(message.error().message == reference.error().message,
               "the reader gives the document reader's error");
    return;
  }
  const etrn::QueuedMessage& m = *message;
  const etrn::QueuedMessage& r = *reference;
  FUZZ_CHECK(m.queue_name == r.queue_name && m.queue_id == r.queue_id &&
                 m.arrival_time == r.arrival_time && m.size == r.size && m.sender == r.sender &&
                 m.forced_expire == r.forced_expire && m.busy == r.busy && m.held == r.held &&
                 same_recipients(m, r),
             "the reader reads every field as the document reader does");
  FUZZ_CHECK(etrn::is_postfix_queue_id(message->queue_id),
             "a listed queue ID is a Postfix queue ID");
  FUZZ_CHECK(message->held == (message->queue_name == etrn::kPostfixHoldQueue),
             "held exactly when in the hold queue");
  FUZZ_CHECK(message->sender != etrn::kPostqueueNullSender,
             "MAILER-DAEMON is read as the null sender");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = etrn::fuzz::as_text(data, size);
  parse_one(input);
  for (const std::string_view line : etrn::fuzz::lines_of(input)) parse_one(line);
  return 0;
}
