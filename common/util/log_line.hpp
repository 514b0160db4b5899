// log_line.hpp - the text of a log line in Postfix's own style, so that
// `grep QID /var/log/mail.log` follows a message through Postfix's lines
// and ours alike:
//
//   QID: to=<bob@customer.example>, relay=none, delay=172800, dsn=5.4.7,
//        status=expired (...), returned to sender <DSN Message-ID>
//
// The queue ID first, then items separated by ", ": a bare phrase, a
// key=value, a key=<address>, or status=word (reason). No timestamp: syslog
// or the journal add the time, host and program[pid].
//
// Every value is made safe for one line the way Postfix's printable()
// does it: a control byte becomes '?'. So an envelope address cannot break
// or forge a line, and an odd address reads the same in Postfix's lines
// as in ours (a grep for one finds the other).
#pragma once

#include <string>
#include <string_view>

namespace etrn {

class LogLine {
 public:
  explicit LogLine(std::string_view queue_id);

  // A bare item: "recorded", "split", "returned to sender <...>".
  LogLine& phrase(std::string_view words);
  // key=value
  LogLine& field(std::string_view key, std::string_view value);
  // key=<address> ("<>" for the null sender)
  LogLine& address(std::string_view key, std::string_view address);
  // status=word (reason); no parentheses when the reason is empty.
  LogLine& status(std::string_view word, std::string_view reason);

  const std::string& str() const { return line_; }

 private:
  void next_item();
  void append(std::string_view text);

  std::string line_;
  bool first_item_ = true;
};

}  // namespace etrn
