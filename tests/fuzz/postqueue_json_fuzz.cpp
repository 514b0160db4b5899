// postqueue_json_fuzz.cpp - `postqueue -j` lines (parse_postqueue_json_line),
// the sweeper's view of the whole Postfix queue. Each line of the input is
// parsed as postqueue would print it, and the whole input as one line.
//
// Properties: a line is a message or an error, never a crash; a message's
// queue ID is one Postfix could have made (it becomes a postsuper argument);
// `held` is exactly "in the hold queue"; showq's MAILER-DAEMON is never a
// sender (it means the null sender).
#include <cstdint>

#include "common/mta/postfix_queue_id.hpp"
#include "common/mta/postqueue_parser.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

void parse_one(std::string_view line) {
  const auto message = etrn::parse_postqueue_json_line(line);
  if (!message) return;
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
