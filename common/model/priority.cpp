// priority.cpp - the spelling of a priority class in the database and reports.
#include "common/model/priority.hpp"

#include "common/util/strings.hpp"

namespace etrn {

std::string_view to_string(Priority p) {
  switch (p) {
    case Priority::urgent:
      return "urgent";
    case Priority::normal:
      return "normal";
    case Priority::non_urgent:
      return "non-urgent";
  }
  return "normal";
}

// Case-insensitive; also accepts "non_urgent" (the config key spelling).
std::optional<Priority> parse_priority_name(std::string_view name) {
  const auto n = trim(name);
  if (iequals(n, "urgent")) return Priority::urgent;
  if (iequals(n, "normal")) return Priority::normal;
  if (iequals(n, "non-urgent") || iequals(n, "non_urgent")) return Priority::non_urgent;
  return std::nullopt;
}

}  // namespace etrn
