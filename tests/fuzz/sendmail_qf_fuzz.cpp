// sendmail_qf_fuzz.cpp - Sendmail queue control files (parse_sendmail_qf):
// the sweeper reads every qf file in the queue directory, including ones a
// crash or a full disk left damaged.
//
// Properties: a file is a value or an Error, never a crash; a parsed file
// has its T and S lines and only non-empty recipient addresses; its header
// section is as the header file promises: LF line ends, each header ending
// in LF, no blank line at its end (the DSN builder takes a blank line as
// the end of the headers).
#include <cstdint>

#include "common/mta/sendmail_qf_parser.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = etrn::fuzz::as_text(data, size);
  const auto qf = etrn::parse_sendmail_qf(input);
  if (!qf) {
    FUZZ_CHECK(!qf.error().message.empty(), "a damaged file says why");
    return 0;
  }
  FUZZ_CHECK(input.find("\nT") != std::string_view::npos || input.starts_with("T"),
             "a parsed file has its creation time");
  for (const auto& recipient : qf->recipients) {
    FUZZ_CHECK(!recipient.address.empty(), "no empty recipient address");
  }
  const std::string& headers = qf->headers;
  FUZZ_CHECK(headers.empty() || headers.back() == '\n', "the header section ends with LF");
  FUZZ_CHECK(!headers.starts_with("\n") && headers.find("\n\n") == std::string::npos,
             "no blank line in the header section");
  return 0;
}
