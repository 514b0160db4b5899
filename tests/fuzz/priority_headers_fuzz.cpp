// priority_headers_fuzz.cpp - a message's priority from its headers: the
// milter's PriorityDetector (fed name and value) and the sweeper's
// priority_from_headers (a header section as postcat prints it, used when
// it adopts a message the milter never saw). The priority picks the
// message's expiry time.
//
// Input: a header section (lines, folded or not, LF or CRLF).
// Properties: the body never counts (whatever follows the first blank
// line, even a Priority: line, changes nothing); names and keywords are
// ASCII case-insensitive (swapping the case of every ASCII letter changes
// nothing); only the four priority headers count (the detector ignores
// any other name, with any value).
#include <cstdint>
#include <string>

#include "common/policy/priority_headers.hpp"
#include "common/util/strings.hpp"
#include "sweeper/planner.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

std::string case_swapped(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
    else if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_priority_header(std::string_view name) {
  for (const char* known : {"Priority", "X-Priority", "Importance", "Precedence"}) {
    if (etrn::iequals(etrn::trim(name), known)) return true;
  }
  return false;
}

void check_detector(std::string_view input) {
  etrn::PriorityDetector detector;
  for (const std::string_view line : etrn::fuzz::lines_of(input)) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = line.substr(colon + 1);
    const etrn::Priority before = detector.priority();
    detector.add_header(name, value);
    if (!is_priority_header(name)) {
      FUZZ_CHECK(detector.priority() == before, "only the four priority headers count");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = etrn::fuzz::as_text(data, size);
  const etrn::Priority priority = etrn::priority_from_headers(input);
  const std::string with_body = std::string(input) + "\n\nPriority: urgent\nX-Priority: 5\n";
  FUZZ_CHECK(etrn::priority_from_headers(with_body) == priority, "the body never counts");
  FUZZ_CHECK(etrn::priority_from_headers(case_swapped(input)) == priority,
             "names and keywords are case-insensitive");
  check_detector(input);
  return 0;
}
