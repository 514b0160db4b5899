// record_log_line.hpp - the log line of a message as it is recorded (by
// the milter at end of message, or by the sweeper adopting it):
//
//   QID: recorded, from=<alice@sender.example>, size=1234, nrcpt=2,
//        to=<bob@customer.example>, to=<carol@customer.example>,
//        priority=normal, expires=2026-12-04T05:00:01Z
//
// nrcpt counts the ETRN-only recipients recorded (Postfix's qmgr line
// counts all of them); expires is the earliest of their deadlines.
#pragma once

#include <string_view>

#include "common/model/message.hpp"
#include "common/util/log_line.hpp"

namespace etrn {

// `action`: "recorded" or "adopted"; the caller may add items.
LogLine record_log_line(std::string_view action, const MessageToRecord& item);

}  // namespace etrn
