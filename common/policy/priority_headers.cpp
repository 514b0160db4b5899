// priority_headers.cpp - a message's priority from its headers (pure).
//
// Names and values are case-insensitive and whitespace-tolerant; a value
// may carry a comment after the keyword ("2 (High)", "urgent (call me)").
// Only the first header of each kind that says something known counts.
// When kinds disagree the most specific one wins:
// Priority > X-Priority > Importance > Precedence.
#include "common/policy/priority_headers.hpp"

#include "common/util/strings.hpp"

namespace etrn {

namespace {

// The first word of a header value: up to whitespace, '(' or ';'.
std::string_view first_word(std::string_view value) {
  const auto v = trim(value);
  const auto end = v.find_first_of(" \t\r\n(;");
  return v.substr(0, end);
}

std::optional<Priority> from_priority(std::string_view value) {
  return parse_priority_name(first_word(value));
}

std::optional<Priority> from_x_priority(std::string_view value) {
  const auto w = first_word(value);
  if (w.empty()) return std::nullopt;
  switch (w.front()) {
    case '1':
    case '2':
      return w.size() == 1 ? std::optional(Priority::urgent) : std::nullopt;
    case '3':
      return w.size() == 1 ? std::optional(Priority::normal) : std::nullopt;
    case '4':
    case '5':
      return w.size() == 1 ? std::optional(Priority::non_urgent) : std::nullopt;
    default:
      break;
  }
  // Some clients write only the word: "X-Priority: High".
  if (iequals(w, "high") || iequals(w, "highest")) return Priority::urgent;
  if (iequals(w, "normal")) return Priority::normal;
  if (iequals(w, "low") || iequals(w, "lowest")) return Priority::non_urgent;
  return std::nullopt;
}

std::optional<Priority> from_importance(std::string_view value) {
  const auto w = first_word(value);
  if (iequals(w, "high")) return Priority::urgent;
  if (iequals(w, "normal")) return Priority::normal;
  if (iequals(w, "low")) return Priority::non_urgent;
  return std::nullopt;
}

std::optional<Priority> from_precedence(std::string_view value) {
  const auto w = first_word(value);
  if (iequals(w, "bulk") || iequals(w, "junk") || iequals(w, "list")) return Priority::non_urgent;
  // Sendmail's default precedences: special-delivery=100 (urgent),
  // first-class=0 (normal), list=-30, bulk=-60, junk=-100 (non-urgent).
  if (iequals(w, "special-delivery") || iequals(w, "urgent")) return Priority::urgent;
  if (iequals(w, "first-class")) return Priority::normal;
  return std::nullopt;
}

void keep_first(std::optional<Priority>& slot, std::optional<Priority> found) {
  if (!slot && found) slot = found;
}

}  // namespace

bool PriorityDetector::reads(std::string_view name) {
  const auto n = trim(name);
  return iequals(n, "Priority") || iequals(n, "X-Priority") || iequals(n, "Importance") ||
         iequals(n, "Precedence");
}

void PriorityDetector::add_header(std::string_view name, std::string_view value) {
  const auto n = trim(name);
  if (iequals(n, "Priority"))
    keep_first(priority_, from_priority(value));
  else if (iequals(n, "X-Priority"))
    keep_first(x_priority_, from_x_priority(value));
  else if (iequals(n, "Importance"))
    keep_first(importance_, from_importance(value));
  else if (iequals(n, "Precedence"))
    keep_first(precedence_, from_precedence(value));
}

Priority PriorityDetector::priority() const {
  for (const auto* slot : {&priority_, &x_priority_, &importance_, &precedence_}) {
    if (*slot) return **slot;
  }
  return Priority::normal;
}

}  // namespace etrn
