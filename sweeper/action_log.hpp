// action_log.hpp - the text of the sweeper's log lines about what it did to
// a message, in Postfix's style (common/util/log_line.hpp), so that
// `grep QID /var/log/mail.log` shows them beside Postfix's own lines:
//
//   QID: to=<bob@customer.example>, relay=none, delay=18000, dsn=4.4.7,
//        status=delayed (waiting for customer.example to collect its mail
//        with ETRN until 2026-12-04T05:00:01Z), warning sent to sender <DSN Message-ID>
//   QID: to=<bob@customer.example>, orig_to=<bob@old.example>, relay=none,
//        delay=176400, dsn=5.4.7, status=expired (customer.example did not
//        collect its mail with ETRN within 2d), returned to sender <DSN Message-ID>
//   QID: to=<bob@customer.example>, delay=3600, status=departed (left the queue)
//   QID: to=<archive@customer.example>, expires=2026-12-04T05:00:01Z,
//        status=adopted (added to the message after the milter saw it)
//   QID: split, survivors requeued as NEWQID
//   QID: removed (expired)
//   QID: to=<bob@customer.example>, relay=none, dsn=5.4.7, status=attention
//        (failure DSN not deliverable: ...), kept on hold for a person: ...
//
// Pure: the plan, the time and the DSN's Message-ID in, one line out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/model/dsn_kind.hpp"
#include "common/util/epoch_seconds.hpp"
#include "sweeper/plan.hpp"

namespace etrn {

// A recipient warned (action warn) or expired (expire_dsn, expire_silent)
// at `now`; `dsn_message_id`: the Message-ID of the DSN the MTA accepted
// for it ("" when none was sent: r.why says why).
std::string recipient_action_line(const MessagePlan& m, const RecipientPlan& r, EpochSeconds now,
                                  std::string_view dsn_message_id);
// A recipient that left the queue (delivered after ETRN, or removed by someone).
std::string departed_line(const MessagePlan& m, const RecipientPlan& r, EpochSeconds now,
                          std::string_view why);
// A recipient the message gained after the milter saw it (recipient_bcc_maps, ...).
std::string adopted_recipient_line(const MessagePlan& m, const RecipientPlan& r);
// The survivors of a split re-injected as `copies` (their queue IDs).
std::string split_line(std::string_view queue_id, const std::vector<std::string>& copies);
// The message taken out of the queue (postsuper -d).
std::string removed_line(const MessagePlan& m);
// A DSN the MTA would not take: `recipients` it reported, `what` happened,
// and what a person can do.
std::string attention_line(std::string_view queue_id, const std::vector<std::string>& recipients,
                           DsnKind kind, std::string_view what, std::string_view advice);

}  // namespace etrn
