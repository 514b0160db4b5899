// history_command.cpp - the `history` command (see history_command.hpp).
#include "sweeper/history_command.hpp"

#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/store/audit_reads.hpp"
#include "common/util/printable.hpp"
#include "common/util/sysexits.hpp"
#include "common/util/time_format.hpp"
#include "sweeper/lookup_key.hpp"
#include "sweeper/report_command.hpp"
#include "sweeper/store_access.hpp"

namespace etrn {

namespace {

std::string shown(const std::string& text, const char* when_empty = "-") {
  return text.empty() ? when_empty : printable(text);
}

void print_message(std::ostream& out, const StoryMessage& m) {
  out << "message " << printable(m.queue_id) << " (" << m.source << ")\n"
      << "  host:       " << shown(m.instance) << "\n"
      << "  sender:     " << (m.sender.empty() ? "<>" : printable(m.sender)) << "\n"
      << "  message-id: " << shown(m.message_id) << "\n"
      << "  subject:    " << shown(m.subject) << "\n"
      << "  priority:   " << shown(m.priority) << "\n"
      << "  arrived:    " << readable_utc(m.arrival_time) << "\n"
      << "  recorded:   " << readable_utc(m.recorded_at) << "\n";
  if (m.mta_arrival_time) out << "  in queue:   " << readable_utc(*m.mta_arrival_time) << "\n";
  if (m.done_at) out << "  closed:     " << readable_utc(*m.done_at) << "\n";
  std::vector<std::vector<std::string>> lines;
  for (const StoryRecipient& r : m.recipients) {
    lines.push_back({"   ", printable(r.address), printable(r.state),
                     "since " + readable_utc(r.state_changed_at),
                     "expires " + readable_utc(r.expires_at)});
  }
  out << "  recipients:\n";
  print_columns(out, lines);
}

nlohmann::json optional_time(const std::optional<EpochSeconds>& t) {
  return t ? nlohmann::json(*t) : nlohmann::json(nullptr);
}

nlohmann::json message_json(const StoryMessage& m) {
  nlohmann::json recipients = nlohmann::json::array();
  for (const StoryRecipient& r : m.recipients) {
    recipients.push_back({{"recipient", r.address},
                          {"state", r.state},
                          {"expires_at", r.expires_at},
                          {"state_changed_at", r.state_changed_at}});
  }
  return {{"type", "message"},
          {"instance", m.instance},
          {"queue_id", m.queue_id},
          {"arrival_time", m.arrival_time},
          {"mta_arrival_time", optional_time(m.mta_arrival_time)},
          {"recorded_at", m.recorded_at},
          {"done_at", optional_time(m.done_at)},
          {"sender", m.sender},
          {"message_id", m.message_id},
          {"subject", m.subject},
          {"priority", m.priority},
          {"source", m.source},
          {"recipients", recipients}};
}

nlohmann::json event_json(const StoryEvent& e) {
  return {{"type", "event"},        {"instance", e.instance},   {"at", e.at},
          {"queue_id", e.queue_id}, {"recipient", e.recipient}, {"kind", e.kind},
          {"detail", e.detail}};
}

void print_json_line(std::ostream& out, const nlohmann::json& line) {
  out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace

void print_history_json(std::ostream& out, const MessageStory& story) {
  for (const StoryMessage& m : story.messages) print_json_line(out, message_json(m));
  for (const StoryEvent& e : story.events) print_json_line(out, event_json(e));
}

std::string readable_utc(EpochSeconds t) {
  std::string text = format_iso8601(t);  // 2026-12-01T09:00:00Z
  if (text.size() == 20 && text[10] == 'T' && text.back() == 'Z') {
    text[10] = ' ';
    text.back() = ' ';
    text += "UTC";
  }
  return text;
}

void print_history(std::ostream& out, const MessageStory& story) {
  for (const StoryMessage& m : story.messages) print_message(out, m), out << "\n";
  // Hosts reuse each other's queue IDs: a story on several names each event's.
  std::set<std::string> hosts;
  for (const StoryEvent& e : story.events) hosts.insert(e.instance);
  out << "events:\n";
  std::vector<std::vector<std::string>> lines;
  for (const StoryEvent& e : story.events) {
    lines.push_back({" ", readable_utc(e.at), printable(e.queue_id), shown(e.recipient),
                     printable(e.kind), printable(e.detail)});
    if (hosts.size() > 1) lines.back().insert(lines.back().begin() + 2, shown(e.instance));
  }
  print_columns(out, lines);
}

int run_history(const Config& config, const Options& options) {
  auto key = classify_lookup(options.lookup, config.mta);
  if (!key) throw FatalError(ExitCode::usage, "history: " + key.error().message);
  auto db = open_store(config, OpenMode::read_only, ExitCode::io_error);
  const auto instance = audit_instance(config, options.instance, DefaultScope::every_host);
  const MessageStory story = message_story(*db, key->kind, key->text, instance);
  if (story.messages.empty() && story.events.empty()) {
    std::cerr << "etrn-sweeper: no record of " << printable(key->text) << "\n";
    return kExitNothingFound;
  }
  if (options.report_format == ReportFormat::json) {
    print_history_json(std::cout, story);
  } else {
    print_history(std::cout, story);
  }
  return 0;
}

}  // namespace etrn
