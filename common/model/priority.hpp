// priority.hpp - a message's priority class, as Exchange and Sendmail know it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace etrn {

enum class Priority { urgent, normal, non_urgent };

// "urgent", "normal", "non-urgent": the spelling in the database and reports.
std::string_view to_string(Priority p);
std::optional<Priority> parse_priority_name(std::string_view name);

}  // namespace etrn
