// plan.cpp - the rules that read a sweep plan (see plan.hpp).
#include "sweeper/plan.hpp"

#include <algorithm>

namespace etrn {

std::string_view to_string(RecipientAction a) {
  switch (a) {
    case RecipientAction::none:
      return "wait";
    case RecipientAction::depart:
      return "departed";
    case RecipientAction::warn:
      return "warn";
    case RecipientAction::expire_dsn:
      return "expire";
    case RecipientAction::expire_silent:
      return "expire (no DSN)";
    case RecipientAction::already_expired:
      return "remove (expired earlier)";
  }
  return "wait";
}

RecipientAction action_reported_by(DsnKind kind) {
  return kind == DsnKind::delayed ? RecipientAction::warn : RecipientAction::expire_dsn;
}

bool RecipientPlan::leaves_queue() const {
  return action == RecipientAction::expire_dsn || action == RecipientAction::expire_silent ||
         action == RecipientAction::already_expired;
}

bool RecipientPlan::keeps_waiting() const {
  return is_waiting(state) && (action == RecipientAction::none || action == RecipientAction::warn);
}

std::string_view to_string(RecipientOrigin o) {
  switch (o) {
    case RecipientOrigin::recorded:
      return "recorded";
    case RecipientOrigin::followed:
      return "followed";
    case RecipientOrigin::expanded:
      return "expanded";
    case RecipientOrigin::adopted:
      return "adopted";
  }
  return "recorded";
}

bool RecipientPlan::changes_something() const {
  return action != RecipientAction::none || deadlines_changed ||
         origin != RecipientOrigin::recorded || reopened;
}

std::string_view to_string(Removal r) {
  switch (r) {
    case Removal::none:
      return "none";
    case Removal::whole:
      return "remove";
    case Removal::split:
      return "split";
  }
  return "none";
}

bool MessagePlan::has(RecipientAction a) const {
  return std::any_of(recipients.begin(), recipients.end(),
                     [a](const RecipientPlan& r) { return r.action == a; });
}

bool MessagePlan::changes_something() const {
  if (adopt || reopen || done || record_mta_arrival || removal != Removal::none) return true;
  return std::any_of(recipients.begin(), recipients.end(),
                     [](const RecipientPlan& r) { return r.changes_something(); });
}

bool MessagePlan::keeps_waiting() const {
  return std::any_of(recipients.begin(), recipients.end(),
                     [](const RecipientPlan& r) { return r.keeps_waiting(); });
}

}  // namespace etrn
