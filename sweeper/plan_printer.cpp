// plan_printer.cpp - renders a Plan as text, one line per message and one
// indented line per recipient that something happens to.
#include "sweeper/plan_printer.hpp"

#include "common/util/printable.hpp"
#include "common/util/time_format.hpp"

namespace etrn {

namespace {

std::string message_verb(const MessagePlan& m) {
  std::string verb;
  if (m.adopt) verb += "adopt; ";
  if (m.reopen) verb += "reopen (listed again after it looked gone); ";
  if (!m.queued) verb += "gone from the queue; ";
  if (!m.left_alone_because.empty()) verb += "left alone: " + m.left_alone_because + "; ";
  if (m.needs_person) verb += "kept on hold for a person; ";
  if (m.release) verb += "put back from the sweeper's hold; ";
  if (m.removal == Removal::whole) verb += "hold, remove from the queue; ";
  if (m.removal == Removal::split) {
    verb += "hold, re-inject " + std::to_string(m.survivors.size()) +
            " other recipient(s), remove the original; ";
  }
  if (m.removal == Removal::none && m.acts_on_queue()) verb += "hold, then put back; ";
  if (verb.empty()) verb = "update; ";
  return verb.substr(0, verb.size() - 2);
}

// How the recipient came to be planned, when not simply as recorded.
std::string origin_note(const RecipientPlan& r) {
  std::string note;
  if (r.origin == RecipientOrigin::followed || r.origin == RecipientOrigin::expanded)
    note += " (queued by the MTA for recorded " + printable(r.recorded_address) + ")";
  if (r.origin == RecipientOrigin::adopted && r.id == 0) note += " (adopted)";
  if (r.reopened) note += " (reopened)";
  return note;
}

std::string recipient_line(const RecipientPlan& r) {
  std::string line = "  " + printable(r.address) + ": ";
  switch (r.action) {
    case RecipientAction::warn:
      line += "delay DSN (4.4.7), will retry until " + format_iso8601(r.deadlines.expires_at);
      break;
    case RecipientAction::expire_dsn:
      line += "expired " + format_iso8601(r.deadlines.expires_at) + ", failure DSN (5.4.7)";
      break;
    case RecipientAction::expire_silent:
      line += "expired " + format_iso8601(r.deadlines.expires_at) + ", " + r.why;
      break;
    default:
      line += std::string(to_string(r.action));
      if (r.action == RecipientAction::none)
        line += " until " + format_iso8601(r.deadlines.expires_at);
  }
  if (r.deadlines_changed) line += " (deadlines recomputed: " + r.policy + ")";
  return line + origin_note(r) + "\n";
}

}  // namespace

void print_plan(std::ostream& out, const Plan& plan) {
  out << "sweep plan as of " << format_iso8601(plan.now) << "\n";
  bool any = false;
  for (const Merge& merge : plan.merges) {
    out << "merge duplicate record " << merge.drop << " into " << merge.keep << "\n";
    any = true;
  }
  for (const MessagePlan& m : plan.messages) {
    if (!m.changes_something()) continue;
    any = true;
    out << printable(m.queue_id) << " (from <" << printable(m.envelope.sender) << ">, arrived "
        << format_iso8601(m.arrival_time)
        << (m.queued ? ", in " + m.queued->queue_name : std::string()) << "): " << message_verb(m)
        << "\n";
    for (const RecipientPlan& r : m.recipients) {
      if (r.changes_something() || m.adopt) out << recipient_line(r);
    }
  }
  if (!any) out << "nothing to do\n";
}

}  // namespace etrn
