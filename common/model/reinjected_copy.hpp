// reinjected_copy.hpp - the header that marks a copy the sweeper re-injects.
//
// A split re-injects the recipients that stay in a copy whose first header
// names the original's queue ID. The milter does not record such a copy,
// and a rerun after a crash recognizes it as the original's, not as mail
// to adopt.
#pragma once

#include <string_view>

namespace etrn {

inline constexpr std::string_view kReinjectedHeader = "X-ETRN-Sweeper-Reinjected";

}  // namespace etrn
