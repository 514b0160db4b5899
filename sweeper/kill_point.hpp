// kill_point.hpp - a test hook: when the environment variable
// ETRN_SWEEPER_TEST_KILL_AFTER names a step, the sweeper SIGKILLs itself
// right after that step, so tests can check what a crash at that point
// leaves behind. Steps: outbox-written (the DSNs' rows and texts
// committed, none submitted), submitting (the submission children
// started, their sent logs locked), dsn-submitted (the children done, the
// DSNs not yet finalized), finalized (recorded as sent, the message not
// yet removed), held (a batch taken out of delivery, its hold recorded),
// reinjected (a split's survivors re-injected, not yet recorded), child-submitted (in a
// submission child: the MTA accepted a DSN, its id not yet in the sent
// log). With ETRN_SWEEPER_TEST_KILL_SIGNAL=TERM-group it sends SIGTERM to
// its whole process group instead (as systemctl stop or Ctrl-C would) and
// goes on; the sweeper must lead that group. Unset in production; it has
// no other effect.
#pragma once

#include <string_view>

namespace etrn {

void kill_point(std::string_view step);

}  // namespace etrn
