// postmaster_notice.hpp - the notice the postmaster gets when a failure DSN
// cannot be delivered even as headers only (pure). Like Postfix's
// 2bounce notice: the mail system tells a person, since the sender cannot
// be told. The expired message is kept on hold; the notice says which it
// is, whom it was for, why the DSN failed, how to act, and shows the
// refused DSN's headers.
#pragma once

#include <string>
#include <vector>

#include "common/util/epoch_seconds.hpp"
#include "common/util/result.hpp"

namespace etrn {

struct PostmasterNoticeInput {
  std::string reporting_mta;  // From: MAILER-DAEMON@ and the Message-ID's right side
  std::string postmaster;     // To:
  std::string message_id;     // the notice's own Message-ID, without brackets
  EpochSeconds now = 0;
  std::string queue_id;  // of the message kept on hold
  std::string sender;    // the DSN's recipient
  std::vector<std::string> recipients;
  std::string reason;           // why the DSN could not be delivered
  std::string refused_headers;  // the header section of the refused DSN ("" if none was built)
  std::string how_to_release;   // the MTA's own command (postsuper -H ID hold)
  std::string how_to_remove;    // the MTA's own command (postsuper -d ID hold)
};

// The notice as RFC 5322 text with LF line ends: text/plain, UTF-8 in
// quoted-printable when it is not plain ASCII; nothing from the input
// reaches a header unchecked.
Result<std::string> build_postmaster_notice(const PostmasterNoticeInput& input);

}  // namespace etrn
