// postfix_mta.cpp - Mta over postqueue, postcat, postsuper, postconf and
// sendmail of one Postfix instance. Thin: building argv, judging exit
// status and stderr; the parsing lives in the *_parser files.
#include "common/mta/postfix_mta.hpp"

#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <unordered_set>

#include "common/mta/postcat_parser.hpp"
#include "common/mta/postfix_queue_id.hpp"
#include "common/mta/postfix_time.hpp"
#include "common/mta/postfix_transport.hpp"
#include "common/mta/postqueue_parser.hpp"
#include "common/mta/smtp_submission.hpp"
#include "common/util/strings.hpp"

namespace etrn {

namespace {

// Postfix's sendmail takes both "" and "<>" for the null sender (seen on
// 3.7); "<>" is visible in process listings and logs.
constexpr const char* kNullSenderArgument = "<>";
constexpr std::string_view kMaildropQueue = "maildrop";

bool usable_recipient_argument(const std::string& address) {
  return !address.empty() && address.front() != '-' &&
         address.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

std::string joined_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

// "postsuper: 3F1C2A7225E: removed" -> the queue ID.
std::optional<std::string> removed_queue_id(std::string_view line) {
  constexpr std::string_view prefix = "postsuper: ";
  constexpr std::string_view suffix = ": removed";
  if (!line.starts_with(prefix) || !line.ends_with(suffix)) return std::nullopt;
  line.remove_prefix(prefix.size());
  line.remove_suffix(suffix.size());
  return std::string(line);
}

Result<RunAs> credentials_of(const std::string& user) {
  struct passwd entry {};
  struct passwd* found = nullptr;
  std::vector<char> buffer(16 * 1024);
  if (getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
    return make_error("mail_owner \"" + user + "\" is not a known user");
  }
  return RunAs{found->pw_uid, found->pw_gid};
}

}  // namespace

PostfixCommands PostfixCommands::from_config(const Config& config) {
  PostfixCommands commands;
  commands.config_directory = config.postfix_config_directory;
  commands.command_directory = config.postfix_command_directory;
  return commands;
}

PostfixMta::PostfixMta(PostfixCommands commands, std::shared_ptr<CommandRunner> runner)
    : commands_(std::move(commands)), runner_(std::move(runner)) {}

PostfixMta::PostfixMta(const Config& config)
    : PostfixMta(PostfixCommands::from_config(config), std::make_shared<ProcessRunner>()) {}

CommandSpec PostfixMta::command(const std::string& program, std::vector<std::string> args) const {
  CommandSpec spec;
  spec.argv.push_back(commands_.command_directory + "/" + program);
  for (auto& arg : args) spec.argv.push_back(std::move(arg));
  spec.env_additions.emplace_back("MAIL_CONFIG", commands_.config_directory);
  spec.timeout = commands_.timeout;
  return spec;
}

Result<CommandResult> PostfixMta::run(const CommandSpec& spec, const LineSink& sink) {
  auto result = runner_->run(spec, sink);
  if (!result) return result.error();
  if (!result->exited_zero()) return make_error(spec.describe() + ": " + result->describe());
  return result;
}

Status PostfixMta::available() {
  const std::string postqueue = commands_.command_directory + "/postqueue";
  if (::access(postqueue.c_str(), X_OK) != 0)
    return make_error("Postfix is not there: cannot run " + postqueue +
                      " (postfix_command_directory)");
  const std::string main_cf = commands_.config_directory + "/main.cf";
  if (::access(main_cf.c_str(), R_OK) != 0)
    return make_error("Postfix is not there: cannot read " + main_cf +
                      " (postfix_config_directory)");
  return ok_status();
}

Status PostfixMta::for_each_queued(const std::function<void(QueuedMessage&&)>& visit) {
  return list_queue(nullptr, visit);
}

Status PostfixMta::look_again(const std::vector<std::string>& queue_ids,
                              const std::function<void(QueuedMessage&&)>& visit) {
  const std::unordered_set<std::string> only(queue_ids.begin(), queue_ids.end());
  return list_queue(&only, visit);
}

Status PostfixMta::list_queue(const std::unordered_set<std::string>* only,
                              const std::function<void(QueuedMessage&&)>& visit) {
  CommandSpec spec = command("postqueue", {"-c", commands_.config_directory, "-j"});
  spec.deliver_unterminated_last_line = false;
  std::size_t skipped = 0;
  const auto unwanted = [only](std::string_view id) {
    return only != nullptr && !only->contains(std::string(id));
  };
  const LineSink sink = [&](std::string_view line) {
    if (line.empty()) return;
    if (only != nullptr) {  // a cheap look at the ID first: parsing is the cost
      if (auto id = postqueue_line_queue_id(line); id && unwanted(*id)) return;
    }
    auto message = parse_postqueue_json_line(line);
    if (!message) {
      ++skipped;
      spdlog::warn("postqueue -j: skipping a line: {}", message.error().message);
      return;
    }
    // A maildrop file is not queued mail yet: pickup gives it a new queue
    // ID (seen), so acting on the maildrop name would miss the message.
    if (message->queue_name == kMaildropQueue || unwanted(message->queue_id)) return;
    visit(std::move(*message));
  };
  auto result = run(spec, sink);
  if (!result) return result.error();
  if (result->last_line_unterminated) {
    return make_error(spec.describe() + ": output cut short (no final newline)");
  }
  if (skipped > 0) spdlog::warn("postqueue -j: {} unreadable line(s) skipped", skipped);
  return ok_status();
}

Result<QueuedEnvelope> PostfixMta::read_envelope(const std::string& queue_id) {
  auto id = validate_postfix_queue_id(queue_id);
  if (!id) return id.error();
  PostcatEnvelopeParser parser;
  const CommandSpec spec = command("postcat", {"-c", commands_.config_directory, "-e", "-q", *id});
  auto result = run(spec, [&](std::string_view line) { parser.add_line(line); });
  if (!result) return result.error();
  auto envelope = parser.finish();
  if (!envelope) return make_error(*id + ": " + envelope.error().message);
  return envelope;
}

Result<std::string> PostfixMta::read_content(const std::string& queue_id, ContentPart part) {
  auto id = validate_postfix_queue_id(queue_id);
  if (!id) return id.error();
  std::vector<std::string> args{"-c", commands_.config_directory, "-h"};
  if (part == ContentPart::whole_message) args.emplace_back("-b");
  args.insert(args.end(), {"-q", *id});
  std::string content;
  auto result = run(command("postcat", std::move(args)), [&](std::string_view line) {
    content.append(line);
    content.push_back('\n');
  });
  if (!result) return result.error();
  return content;
}

Status PostfixMta::run_postsuper(const std::string& option, const std::string& queue_id,
                                 std::string_view want_stderr) {
  auto id = validate_postfix_queue_id(queue_id);
  if (!id) return id.error();
  const CommandSpec spec = command("postsuper", {"-c", commands_.config_directory, option, *id});
  auto result = run(spec, [](std::string_view) {});
  if (!result) return result.error();
  // postsuper exits 0 even when the ID matched nothing; only its count tells.
  if (result->stderr_tail.find(want_stderr) == std::string::npos) {
    return make_error(spec.describe() + ": not done (not in the queue?): " + result->describe());
  }
  return ok_status();
}

Status PostfixMta::hold(const std::string& queue_id) {
  return run_postsuper("-h", queue_id, "Placed on hold: 1 message");
}

Status PostfixMta::remove(const std::string& queue_id) {
  return run_postsuper("-d", queue_id, "Deleted: 1 message");
}

std::string PostfixMta::how_to_remove_held(const std::string& queue_id) const {
  return "remove it with postsuper -d " + queue_id + " hold";
}

Status PostfixMta::submit_dsn(const std::string& dsn_text, const std::string& recipient) {
  if (!usable_recipient_argument(recipient)) {
    return make_error("refusing to submit a DSN to an unusable recipient address");
  }
  CommandSpec spec = command("sendmail", {"-i", "-f", kNullSenderArgument, "--", recipient});
  spec.stdin_source = StdinSource::text(dsn_text);
  auto result = run(spec, [](std::string_view) {});
  if (!result) return result.error();
  return ok_status();
}

Result<std::optional<RunAs>> PostfixMta::smtp_credentials() {
  std::vector<std::string> lines;
  auto result = run(command("postconf", {"-c", commands_.config_directory, "-h", "mail_owner"}),
                    [&](std::string_view line) { lines.emplace_back(line); });
  if (!result) return result.error();
  if (lines.size() != 1 || lines[0].empty()) return make_error("postconf: no mail_owner");
  auto owner = credentials_of(lines[0]);
  if (!owner) return owner.error();
  if (::geteuid() == 0) return std::optional<RunAs>(*owner);
  if (::geteuid() == owner->uid) return std::optional<RunAs>();
  return make_error("re-injection must run as root or as mail_owner \"" + lines[0] +
                    "\": stand-alone `sendmail -bs` would drop RET, ENVID and SMTPUTF8");
}

Result<CommandSpec> PostfixMta::sendmail_bs() {
  auto who = smtp_credentials();
  if (!who) return who.error();
  CommandSpec spec = command("sendmail", {"-bs"});
  spec.run_as = *who;
  return spec;
}

Result<std::string> PostfixMta::reinject(const std::string& content, const Envelope& envelope,
                                         const std::vector<ReinjectRecipient>& recipients) {
  return submit_content_through(
      *runner_, [this] { return sendmail_bs(); }, SmtpSubmission{envelope, false, recipients},
      content, queue_id_from_reply);
}

Result<QueueLifetimes> PostfixMta::queue_lifetimes() {
  std::vector<std::string> lines;
  auto result = run(command("postconf", {"-c", commands_.config_directory, "-h",
                                         "maximal_queue_lifetime", "bounce_queue_lifetime"}),
                    [&](std::string_view line) { lines.emplace_back(line); });
  if (!result) return result.error();
  return parse_queue_lifetimes(joined_lines(lines));
}

// `postconf -xh NAME...`: one line per name, $names expanded.
Result<std::vector<std::string>> PostfixMta::postconf_values(
    const std::vector<std::string>& names) {
  std::vector<std::string> args{"-c", commands_.config_directory, "-xh"};
  args.insert(args.end(), names.begin(), names.end());
  std::vector<std::string> lines;
  auto result = run(command("postconf", std::move(args)),
                    [&](std::string_view line) { lines.emplace_back(line); });
  if (!result) return result.error();
  if (lines.size() != names.size())
    return make_error("postconf: " + std::to_string(lines.size()) + " values for " +
                      std::to_string(names.size()) + " parameters");
  return lines;
}

Result<std::map<std::string, std::string>> PostfixMta::look_up(
    const std::string& map, const std::vector<std::string>& keys) {
  std::string keys_on_stdin;
  for (const std::string& key : keys) keys_on_stdin += key + "\n";
  CommandSpec spec = command("postmap", {"-c", commands_.config_directory, "-q", "-", map});
  spec.stdin_source = StdinSource::text(std::move(keys_on_stdin));
  std::map<std::string, std::string> found;
  auto result = runner_->run(spec, [&](std::string_view line) {
    const std::size_t tab = line.find('\t');
    if (tab != std::string_view::npos)
      found.emplace(ascii_lower(line.substr(0, tab)), std::string(line.substr(tab + 1)));
  });
  if (!result) return result.error();
  // Exit 1 alone means "none of the keys found"; with stderr, a failure.
  const bool none_found = result->exit_status == 1 && result->stderr_tail.empty();
  if (!result->exited_zero() && !none_found)
    return make_error(spec.describe() + ": " + result->describe());
  return found;
}

Result<std::map<std::string, std::string>> PostfixMta::transports_for(
    const std::vector<std::string>& addresses) {
  std::vector<std::string> usable;
  for (const std::string& address : addresses) {
    if (usable_recipient_argument(address) && address.find_first_of(" \t") == std::string::npos)
      usable.push_back(address);
  }
  if (usable.empty()) return std::map<std::string, std::string>{};
  auto settings = postconf_values({"transport_maps", "parent_domain_matches_subdomains"});
  if (!settings) return settings.error();
  const ParentDomainStyle style = parent_domain_style((*settings)[1]);
  // Per map: its keys asked once, its answers kept.
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> answers;
  for (const std::string& map : postfix_map_names((*settings)[0])) {
    std::set<std::string> keys;
    for (const std::string& address : usable) {
      for (std::string& key : transport_lookup_keys(address, style, is_pattern_table(map)))
        keys.insert(std::move(key));
    }
    auto found = look_up(map, {keys.begin(), keys.end()});
    if (!found) return found.error();
    answers.emplace_back(map, std::move(*found));
  }
  std::map<std::string, std::string> transports;
  for (const std::string& address : usable) {
    const std::vector<std::string> keys = transport_lookup_keys(address, style, false);
    for (const std::string& key : keys) {
      const auto hit = std::find_if(answers.begin(), answers.end(), [&](const auto& answer) {
        const bool asked = key == keys.front() || !is_pattern_table(answer.first);
        return asked && answer.second.contains(key);
      });
      if (hit == answers.end()) continue;
      transports.emplace(address, transport_of_entry(hit->second.at(key)));
      break;
    }
  }
  return transports;
}

std::vector<Result<QueuedEnvelope>> PostfixMta::read_envelopes(
    const std::vector<std::string>& queue_ids) {
  const bool all_valid = std::all_of(queue_ids.begin(), queue_ids.end(), [](const auto& id) {
    return validate_postfix_queue_id(id).ok();
  });
  if (!all_valid || queue_ids.size() < 2) return Mta::read_envelopes(queue_ids);
  std::vector<std::string> args{"-c", commands_.config_directory, "-e", "-q"};
  args.insert(args.end(), queue_ids.begin(), queue_ids.end());
  PostcatEnvelopeSplitter splitter(queue_ids);
  auto result = run(command("postcat", std::move(args)),
                    [&](std::string_view line) { splitter.add_line(line); });
  auto envelopes = result ? splitter.finish() : Result<std::vector<QueuedEnvelope>>(result.error());
  if (!envelopes) {
    // E.g. one of them left the queue meanwhile (postcat stops at the first).
    spdlog::info("reading {} envelopes at once failed, reading them one by one: {}",
                 queue_ids.size(), envelopes.error().message);
    return Mta::read_envelopes(queue_ids);
  }
  return {std::make_move_iterator(envelopes->begin()), std::make_move_iterator(envelopes->end())};
}

std::vector<Result<std::string>> PostfixMta::read_contents(
    const std::vector<std::string>& queue_ids, ContentPart part) {
  std::vector<std::string> valid;
  for (const std::string& id : queue_ids) {
    if (validate_postfix_queue_id(id)) valid.push_back(id);
  }
  if (valid.size() != queue_ids.size() || valid.size() < 2)
    return Mta::read_contents(queue_ids, part);
  std::vector<std::string> args{"-c", commands_.config_directory, "-e", "-h"};
  if (part == ContentPart::whole_message) args.emplace_back("-b");
  args.emplace_back("-q");
  args.insert(args.end(), valid.begin(), valid.end());
  PostcatContentSplitter splitter(valid);
  auto result = run(command("postcat", std::move(args)),
                    [&](std::string_view line) { splitter.add_line(line); });
  auto contents = result ? splitter.finish() : Result<std::vector<std::string>>(result.error());
  if (!contents) {
    // E.g. one of them left the queue meanwhile (postcat stops at the first).
    spdlog::info("reading {} messages at once failed, reading them one by one: {}", valid.size(),
                 contents.error().message);
    return Mta::read_contents(queue_ids, part);
  }
  return {std::make_move_iterator(contents->begin()), std::make_move_iterator(contents->end())};
}

std::vector<Status> PostfixMta::remove_all(const std::vector<std::string>& queue_ids) {
  std::vector<Status> statuses(queue_ids.size(), ok_status());
  std::string ids_on_stdin;
  for (std::size_t i = 0; i < queue_ids.size(); ++i) {
    auto id = validate_postfix_queue_id(queue_ids[i]);
    if (id)
      ids_on_stdin += *id + "\n";
    else
      statuses[i] = id.error();
  }
  if (ids_on_stdin.empty()) return statuses;
  CommandSpec spec = command("postsuper", {"-c", commands_.config_directory, "-d", "-"});
  spec.stdin_source = StdinSource::text(std::move(ids_on_stdin));
  spec.stderr_to_stdout = true;  // "postsuper: ID: removed", one line per message
  std::unordered_set<std::string> removed;
  auto result = run(spec, [&](std::string_view line) {
    if (auto id = removed_queue_id(line)) removed.emplace(*id);
  });
  for (std::size_t i = 0; i < queue_ids.size(); ++i) {
    if (!statuses[i] || removed.contains(queue_ids[i])) continue;
    statuses[i] =
        result ? make_error("postsuper -d " + queue_ids[i] + ": not removed (not in the queue?)")
               : result.error();
  }
  return statuses;
}

Result<std::unique_ptr<DsnSubmitter>> PostfixMta::open_dsn_submitter() {
  auto spec = sendmail_bs();
  if (!spec) return spec.error();
  return SmtpDsnSubmitter::open(*runner_, *spec,
                                [this](const std::string& dsn_text, const std::string& recipient) {
                                  return submit_dsn(dsn_text, recipient);
                                });
}

}  // namespace etrn
