// postmaster_notice.cpp - the postmaster's notice of a DSN that could not be
// delivered (see postmaster_notice.hpp).
#include "common/dsn/postmaster_notice.hpp"

#include "common/dsn/dsn_text.hpp"
#include "common/dsn/header_encoding.hpp"
#include "common/dsn/mime_parts.hpp"
#include "common/util/time_format.hpp"

namespace etrn {

namespace {

// Each line of `text` indented, made printable (the refused DSN's headers).
std::string quoted_block(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    out += "    " + printable_text(text.substr(start, end - start)) + "\n";
    start = end + 1;
  }
  return out;
}

std::string body_of(const PostmasterNoticeInput& in) {
  std::string text =
      "This is the mail system at host " + printable_text(in.reporting_mta) +
      ".\n\n"
      "ETRN Sweeper expired a message, but the MTA refused the failure DSN to its sender, "
      "even with only the original's headers. The sender has not been told. The message is "
      "kept on hold so that nothing is lost; ETRN Sweeper will not touch it again (audit "
      "state \"attention\").\n\n";
  text += "Queue ID:   " + printable_text(in.queue_id) + "\n";
  text += "Sender:     <" + printable_text(in.sender) + ">\n";
  for (const std::string& r : in.recipients) text += "Recipient:  <" + printable_text(r) + ">\n";
  text += "Reason:     " + printable_text(in.reason) + "\n\n";
  text += "To deliver it after all (its site may still ask for it), release it:\n    " +
          printable_text(in.how_to_release) + "\nTo drop it, delete it:\n    " +
          printable_text(in.how_to_remove) + "\n";
  if (!in.refused_headers.empty())
    text += "\nThe headers of the refused DSN:\n\n" + quoted_block(in.refused_headers);
  return text;
}

}  // namespace

Result<std::string> build_postmaster_notice(const PostmasterNoticeInput& in) {
  if (!is_valid_hostname(reporting_host_name(in.reporting_mta)))
    return make_error("reporting MTA is not a valid host name");
  if (in.postmaster.empty() || has_control_chars(in.postmaster) || !is_ascii(in.postmaster) ||
      in.postmaster.find_first_of("<> ,") != std::string::npos)
    return make_error("the postmaster address cannot stand in a header");
  if (in.message_id.empty() || has_control_chars(in.message_id) ||
      in.message_id.find_first_of("<> ") != std::string::npos)
    return make_error("the notice's Message-ID is unusable");
  const std::string body = body_of(in);
  std::string out;
  out += "From: Mail Delivery System <MAILER-DAEMON@" +
         std::string(reporting_host_name(in.reporting_mta)) + ">\n";
  out += "To: <" + in.postmaster + ">\n";
  out += "Date: " + format_rfc5322_date(in.now) + "\n";
  out += "Message-ID: <" + in.message_id + ">\n";
  out += fold_header("Subject", "ETRN Sweeper: a failure DSN was refused; message " +
                                    printable_text(in.queue_id) + " kept on hold");
  out += "Auto-Submitted: auto-generated\n";
  out += "MIME-Version: 1.0\n";
  if (is_ascii(body) && identity_transfer_encoding(body) == "7bit") {
    out += "Content-Type: text/plain; charset=us-ascii\n\n" + body;
  } else {
    out +=
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n";
    out += quoted_printable_encode(body);
  }
  return out;
}

}  // namespace etrn
