// priority_headers.hpp - a message's priority from its headers (pure).
//
// Looks at Priority: (RFC 2156: urgent / normal / non-urgent), X-Priority:
// (1-2 urgent, 3 normal, 4-5 non-urgent), Importance: (high / normal /
// low) and Precedence: (as Sendmail's default classes: bulk, junk, list
// -> non-urgent; first-class -> normal; special-delivery -> urgent). Feed every header; ask at the
// end.
#pragma once

#include <optional>
#include <string_view>

#include "common/model/priority.hpp"

namespace etrn {

class PriorityDetector {
 public:
  void add_header(std::string_view name, std::string_view value);
  Priority priority() const;  // normal when no header said anything
  // True for the headers add_header() looks at (any other is ignored).
  static bool reads(std::string_view name);

 private:
  // The first header of each kind that gave a known value, strongest kind first.
  std::optional<Priority> priority_, x_priority_, importance_, precedence_;
};

}  // namespace etrn
