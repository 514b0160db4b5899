// dsn_text.cpp - the plain-words part of a DSN.
//
// Written for the person who sent the mail, not for a parser: it names
// the ETRN site (RFC 1985) that did not collect its mail, so the sender
// knows whom to call, and says how long the mail waited and why it gave up
// (or when it will). Wording stays close to what Postfix users know.
#include "common/dsn/dsn_text.hpp"

#include <cstdio>
#include <vector>

#include "common/dsn/header_encoding.hpp"
#include "common/util/time_format.hpp"

namespace etrn {

namespace {

constexpr std::size_t kWrapColumn = 72;

std::string hex_escape(unsigned char c) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "\\x%02X", static_cast<unsigned>(c));
  return buffer;
}

// Greedy word wrap of one paragraph; `indent` starts continuation lines.
std::string wrap(std::string_view paragraph, std::string_view indent = "") {
  std::string out;
  std::size_t line_length = 0;
  std::size_t start = 0;
  while (start < paragraph.size()) {
    std::size_t space = paragraph.find(' ', start);
    if (space == std::string_view::npos) space = paragraph.size();
    const std::string_view word = paragraph.substr(start, space - start);
    if (line_length > 0 && line_length + 1 + word.size() > kWrapColumn) {
      out += '\n';
      out += indent;
      line_length = indent.size();
    } else if (line_length > 0) {
      out += ' ';
      ++line_length;
    }
    out += word;
    line_length += word.size();
    start = space + 1;
  }
  return out + "\n";
}

std::string site_of(const DsnRecipient& recipient) {
  return recipient.domain.empty() ? std::string("its site") : printable_text(recipient.domain);
}

std::string introduction(const DsnInput& input) {
  const std::string waited = format_duration_words(seconds_between(input.arrival_time, input.now));
  std::string text = "This is the mail system at host " +
                     printable_text(reporting_host_name(input.reporting_mta)) + ".";
  if (input.kind == DsnKind::failed) {
    text +=
        " I'm sorry to have to inform you that your message could not be delivered to one or "
        "more recipients. Their mail is held for a site that collects it with ETRN (RFC 1985), "
        "and the site did not ask for it in time: delivery time expired after the message "
        "waited " +
        waited + " in the queue, so it has been removed from the queue and is returned to you.";
  } else {
    text +=
        " This is only a warning: you do not need to send your message again. It has not yet "
        "been delivered to one or more recipients because their mail is held for a site that "
        "collects it with ETRN (RFC 1985), and the site has not asked for it yet. The message "
        "has waited " +
        waited + " so far. Delivery attempts will continue until the time shown below.";
  }
  return wrap(text);
}

std::string recipient_paragraph(const DsnInput& input, const DsnRecipient& recipient) {
  const bool failed = input.kind == DsnKind::failed;
  std::string text = "<" + printable_text(recipient.address) + ">: " + site_of(recipient) +
                     (failed ? " never asked for its mail with ETRN."
                             : " has not yet asked for its mail with ETRN.");
  if (!recipient.policy.empty()) text += " Policy: " + printable_text(recipient.policy) + ".";
  if (!failed) {
    text += " The mail system will keep trying until " + format_rfc5322_date(recipient.expires_at) +
            "; if the site has not asked for the mail by then, it is returned to you.";
  }
  return wrap(text, "    ");
}

std::string closing(const DsnInput& input) {
  std::string text = "The message arrived on " + format_rfc5322_date(input.arrival_time) + ".";
  if (!input.queue_id.empty()) text += " Its queue ID was " + printable_text(input.queue_id) + ".";
  text += input.kind == DsnKind::failed
              ? " If you need the mail delivered, ask the recipients to connect and issue ETRN "
                "for their domain, or to use another address, then send it again."
              : " No action is needed from you unless the recipients tell you they cannot "
                "collect their mail.";
  return wrap(text);
}

}  // namespace

std::string printable_text(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      out += hex_escape(c);
      ++i;
      continue;
    }
    std::size_t length = 1;
    if (c >= 0x80) {
      length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      if (i + length > text.size() || !is_valid_utf8(text.substr(i, length))) {
        out += hex_escape(c);
        ++i;
        continue;
      }
    }
    out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

std::string describe_dsn_in_words(const DsnInput& input) {
  std::string text = introduction(input);
  text += "\n";
  for (const DsnRecipient& recipient : input.recipients) {
    text += recipient_paragraph(input, recipient);
    text += "\n";
  }
  text += closing(input);
  return text;
}

}  // namespace etrn
