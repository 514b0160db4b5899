// kill_point.hpp - a test hook: when the environment variable
// ETRN_SWEEPER_TEST_KILL_AFTER names a step, the sweeper SIGKILLs itself
// right after that step, so tests can check what a crash at that point
// leaves behind. Steps: outbox-written (DSN spooled and recorded, not yet
// submitted), submitting (the submission child started), dsn-submitted
// (the MTA accepted the DSN, not yet finalized), finalized (recorded as
// sent, message not yet removed), held, reinjected (survivors re-injected,
// not yet recorded), child-submitted (in the submission child: the MTA
// accepted the DSN, not yet renamed to .sent). Unset in production; it has
// no other effect.
#pragma once

#include <string_view>

namespace etrn {

void kill_point(std::string_view step);

}  // namespace etrn
