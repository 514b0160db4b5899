// dsn_properties.hpp - what every DSN build_dsn returns must satisfy,
// checked without the builder's own helpers (a property that reused them
// would agree with their bugs). A violation aborts (fuzz_check.hpp).
//
// The builder's promise (common/dsn/dsn.hpp): RFC 5322 text with LF line
// ends for a sendmail-style command, which turns them into CRLF. So:
// - line ends: no CR anywhere (a CR would reach the MTA bare), the text ends
//   with LF;
// - header sections (the message's, each part's, each delivery-status
//   field group): every line is "Name: value" or a folded continuation,
//   at most 998 octets, without control bytes other than TAB, ASCII unless
//   SMTPUTF8; the top-level fields are exactly the expected ones, each once
//   (nothing injected), and the envelope's values in them name what they
//   came from (To: is the sender, quoted where needed; the queue ID and the
//   host are plain tokens);
// - MIME: the boundary is legal and occurs only in delimiter lines, one
//   per part and one closing line at the end; each part's content fits its
//   Content-Transfer-Encoding and the message's encoding covers all parts;
// - the words part is printable UTF-8 text;
// - the delivery-status part parses as RFC 3464 field groups: the
//   per-message fields, then one group per recipient with an address, in
//   order, each naming its recipient exactly (as is or xtext) with the
//   Action and Status of the DSN's kind; an ENVID comes back exactly;
// - the original comes back as the rules say: whole, or only its header
//   section (RET=HDRS, headers only, or larger than the limit), with its
//   line ends made LF and nothing else changed.
#pragma once

#include <string_view>

#include "common/dsn/dsn.hpp"

namespace etrn::fuzz {

void check_dsn(const DsnInput& input, std::string_view dsn);

}  // namespace etrn::fuzz
