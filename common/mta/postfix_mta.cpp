// postfix_mta.cpp - Mta over postqueue, postcat, postsuper, postconf and
// sendmail of one Postfix instance. Thin: building argv, judging exit
// status and stderr; the parsing lives in the *_parser files.
#include "common/mta/postfix_mta.hpp"

#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
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

// Messages read by one postcat when many are read (adoption): a bounded
// command line and output, and a message that left the queue meanwhile
// sends only its batch the slow way.
constexpr std::size_t kPostcatBatch = 250;
// The queue of mail on hold, where the expiry protocol puts what it acts on.
constexpr const char* kHoldQueue = "hold";
// postcat prints dates in its time zone; this one is what the parser reads.
constexpr std::pair<const char*, const char*> kPostcatTimeZone{"TZ", "UTC"};

// "postsuper: 3F1C2A7225E: removed" -> the queue ID, for `done` = "removed".
std::optional<std::string> confirmed_queue_id(std::string_view line, std::string_view done) {
  constexpr std::string_view prefix = "postsuper: ";
  if (!line.starts_with(prefix)) return std::nullopt;
  line.remove_prefix(prefix.size());
  if (line.size() <= done.size() + 2 || !line.ends_with(done)) return std::nullopt;
  line.remove_suffix(done.size());
  if (!line.ends_with(": ")) return std::nullopt;
  line.remove_suffix(2);
  return std::string(line);
}

// The copy read back must be where the sweeper put it, and the message listed.
Status check_is_held_listed_message(const QueuedMessage& listed, const QueuedEnvelope& read) {
  if (read.queue_name != kHoldQueue)
    return make_error(listed.queue_id + ": not on hold but in \"" + read.queue_name + "\"",
                      ErrorKind::gone);
  return check_same_message(listed, read);
}

// Mail outside hold and deferred is being delivered (or not queued yet).
void mark_in_delivery(QueuedEnvelope& envelope) {
  envelope.in_delivery = envelope.queue_name != kHoldQueue && envelope.queue_name != "deferred";
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

CommandSpec PostfixMta::postcat(std::vector<std::string> args) const {
  CommandSpec spec = command("postcat", std::move(args));
  spec.env_additions.emplace_back(kPostcatTimeZone.first, kPostcatTimeZone.second);
  return spec;
}

Result<QueuedEnvelope> PostfixMta::read_envelope(const std::string& queue_id) {
  auto id = validate_postfix_queue_id(queue_id);
  if (!id) return id.error();
  PostcatEnvelopeParser parser;
  const CommandSpec spec = postcat({"-c", commands_.config_directory, "-e", "-q", *id});
  auto result = runner_->run(spec, [&](std::string_view line) { parser.add_line(line); });
  if (!result) return result.error();
  if (!result->exited_zero()) {
    // "postcat: fatal: open queue file ID: No such file or directory"
    const bool gone = result->stderr_tail.find("No such file") != std::string::npos;
    return make_error(spec.describe() + ": " + result->describe(),
                      gone ? ErrorKind::gone : ErrorKind::other);
  }
  auto envelope = parser.finish();
  if (!envelope) return make_error(*id + ": " + envelope.error().message);
  mark_in_delivery(*envelope);
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

std::string PostfixMta::how_to_release_held(const std::string& queue_id) const {
  return "release it with postsuper -H " + queue_id;
}

Status PostfixMta::submit_dsn(const std::string& dsn_text, const std::string& recipient) {
  if (!usable_recipient_argument(recipient)) {
    return make_error("refusing to submit a DSN to an unusable recipient address");
  }
  CommandSpec spec = command("sendmail", {"-i", "-f", kNullSenderArgument, "--", recipient});
  spec.stdin_source = StdinSource::text(dsn_text);
  auto result = runner_->run(spec, [](std::string_view) {});
  if (!result) return result.error();
  if (!result->exited_zero()) {
    return make_error(spec.describe() + ": " + result->describe(),
                      submission_refused_for_good(*result) ? ErrorKind::refused : ErrorKind::other);
  }
  return ok_status();
}

// Looked up once per run (postconf takes a good part of a second on a busy
// machine, and every submission child would ask again).
Result<std::optional<RunAs>> PostfixMta::smtp_credentials() {
  if (smtp_credentials_) return *smtp_credentials_;
  auto lines = postconf({"mail_owner"});
  if (!lines) return lines.error();
  const std::string& name = lines->front();
  if (name.empty()) return make_error("postconf: no mail_owner");
  auto owner = credentials_of(name);
  if (!owner) return owner.error();
  if (::geteuid() == 0) {
    smtp_credentials_ = std::optional<RunAs>(*owner);
  } else if (::geteuid() == owner->uid) {
    smtp_credentials_ = std::optional<RunAs>();
  } else {
    return make_error("re-injection must run as root or as mail_owner \"" + name +
                      "\": stand-alone `sendmail -bs` would drop RET, ENVID and SMTPUTF8");
  }
  return *smtp_credentials_;
}

void PostfixMta::prepare_dsn_submission() {
  (void)smtp_credentials();  // an error is reported by the submitter that needs it
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

// `postconf -h NAME...`: one line per name; with Expand::names (-x), the
// $names in the values expanded (transport_maps = hash:$config_directory/...).
Result<std::vector<std::string>> PostfixMta::postconf(std::vector<std::string> names,
                                                      Expand expand) {
  std::vector<std::string> args{"-c", commands_.config_directory,
                                expand == Expand::names ? "-xh" : "-h"};
  args.insert(args.end(), names.begin(), names.end());
  std::vector<std::string> lines;
  auto result =
      run(command("postconf", std::move(args)), [&](std::string_view l) { lines.emplace_back(l); });
  if (!result) return result.error();
  if (lines.size() != names.size())
    return make_error("postconf printed " + std::to_string(lines.size()) + " lines, want " +
                      std::to_string(names.size()));
  return lines;
}

Result<QueueLifetimes> PostfixMta::queue_lifetimes() {
  auto lines = postconf({"maximal_queue_lifetime", "bounce_queue_lifetime"});
  if (!lines) return lines.error();
  return parse_queue_lifetimes(joined_lines(*lines));
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
  auto settings = postconf({"transport_maps", "parent_domain_matches_subdomains"}, Expand::names);
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
  auto result =
      run(postcat(std::move(args)), [&](std::string_view line) { splitter.add_line(line); });
  auto envelopes = result ? splitter.finish() : Result<std::vector<QueuedEnvelope>>(result.error());
  if (!envelopes) {
    // E.g. one of them left the queue meanwhile (postcat stops at the first).
    spdlog::info("reading {} envelopes at once failed, reading them one by one: {}",
                 queue_ids.size(), envelopes.error().message);
    return Mta::read_envelopes(queue_ids);
  }
  std::vector<Result<QueuedEnvelope>> out;
  out.reserve(envelopes->size());
  for (QueuedEnvelope& envelope : *envelopes) {
    mark_in_delivery(envelope);
    out.emplace_back(std::move(envelope));
  }
  return out;
}

Result<std::string> PostfixMta::own_host_name() {
  auto lines = postconf({"myhostname"});
  if (!lines) return lines.error();
  return lines->front();
}

Result<std::size_t> PostfixMta::recipients_per_copy() {
  auto lines = postconf({"smtpd_recipient_limit"});
  if (!lines) return lines.error();
  std::size_t limit = 0;
  const std::string& text = lines->front();
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
  if (ec != std::errc() || end != text.data() + text.size())
    return make_error("postconf: smtpd_recipient_limit is \"" + text + "\", not a number");
  return limit;
}

// One postsuper for many IDs on stdin, restricted to `queue`; each ID is
// done only if postsuper printed "postsuper: ID: <done>" (it exits 0 when an
// ID matched nothing).
std::vector<Status> PostfixMta::postsuper_each(const std::string& option, const std::string& queue,
                                               const std::vector<std::string>& queue_ids,
                                               std::string_view done) {
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
  CommandSpec spec = command("postsuper", {"-c", commands_.config_directory, option, "-", queue});
  spec.stdin_source = StdinSource::text(std::move(ids_on_stdin));
  spec.stderr_to_stdout = true;  // "postsuper: ID: removed", one line per message
  std::unordered_set<std::string> confirmed;
  auto result = run(spec, [&](std::string_view line) {
    if (auto id = confirmed_queue_id(line, done)) confirmed.emplace(*id);
  });
  for (std::size_t i = 0; i < queue_ids.size(); ++i) {
    if (!statuses[i] || confirmed.contains(queue_ids[i])) continue;
    // Not where it was: moved on (into delivery, say) or gone; try next run.
    statuses[i] =
        result ? make_error("postsuper " + option + " " + queue_ids[i] + " " + queue + ": not " +
                                std::string(done) + " (not in " + queue + " any more)",
                            ErrorKind::busy)
               : result.error();
  }
  return statuses;
}

std::vector<Status> PostfixMta::hold_all(const std::vector<HoldRequest>& requests) {
  std::vector<std::string> deferred;
  for (const HoldRequest& r : requests) {
    if (!r.listed->held) deferred.push_back(r.listed->queue_id);
  }
  const std::vector<Status> moved = postsuper_each("-h", "deferred", deferred, "placed on hold");
  std::vector<Status> statuses;
  statuses.reserve(requests.size());
  std::size_t next = 0;
  for (const HoldRequest& r : requests)
    statuses.push_back(r.listed->held ? ok_status() : moved[next++]);
  return statuses;
}

std::vector<Result<HeldMessage>> PostfixMta::read_held(
    const std::vector<const QueuedMessage*>& messages, ContentPart part) {
  std::vector<Result<HeldMessage>> held;
  held.reserve(messages.size());
  std::vector<std::string> ids;
  ids.reserve(messages.size());
  for (const QueuedMessage* m : messages) ids.push_back(m->queue_id);
  auto read = read_many(ids, part);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (read[i]) {
      if (Status same = check_is_held_listed_message(*messages[i], read[i]->envelope); !same)
        read[i] = same.error();
    }
    held.push_back(std::move(read[i]));
  }
  return held;
}

// One `postcat -e -h [-b] -q ID...`; one by one when its output cannot be
// split safely (a content with lines like postcat's frame, or a message that
// is gone: postcat stops at the first it cannot open).
std::vector<Result<HeldMessage>> PostfixMta::read_many(const std::vector<std::string>& ids,
                                                       ContentPart part) {
  const bool all_valid = std::all_of(ids.begin(), ids.end(), [](const std::string& id) {
    return validate_postfix_queue_id(id).ok();
  });
  if (ids.size() >= 2 && all_valid) {
    std::vector<std::string> args{"-c", commands_.config_directory, "-e", "-h"};
    if (part == ContentPart::whole_message) args.emplace_back("-b");
    args.emplace_back("-q");
    args.insert(args.end(), ids.begin(), ids.end());
    PostcatContentSplitter splitter(ids);
    auto result =
        run(postcat(std::move(args)), [&](std::string_view line) { splitter.add_line(line); });
    auto split = result ? splitter.finish() : Result<std::vector<PostcatMessage>>(result.error());
    if (split) {
      std::vector<Result<HeldMessage>> out;
      for (PostcatMessage& m : *split) {
        if (!m.envelope)
          out.emplace_back(m.envelope.error());
        else
          out.emplace_back(HeldMessage{std::move(*m.envelope), std::move(m.content)});
      }
      return out;
    }
    spdlog::info("reading {} messages at once failed, reading them one by one: {}", ids.size(),
                 split.error().message);
  }
  std::vector<Result<HeldMessage>> out;
  for (const std::string& id : ids) {
    auto envelope = read_envelope(id);
    auto content = envelope ? read_content(id, part) : Result<std::string>(envelope.error());
    if (!content)
      out.emplace_back(content.error());
    else
      out.emplace_back(HeldMessage{std::move(*envelope), std::move(*content)});
  }
  return out;
}

std::vector<Result<HeldMessage>> PostfixMta::read_headers(
    const std::vector<std::string>& queue_ids) {
  std::vector<Result<HeldMessage>> out;
  out.reserve(queue_ids.size());
  for (std::size_t start = 0; start < queue_ids.size(); start += kPostcatBatch) {
    const auto end = queue_ids.begin() +
                     static_cast<std::ptrdiff_t>(std::min(queue_ids.size(), start + kPostcatBatch));
    const std::vector<std::string> chunk(queue_ids.begin() + static_cast<std::ptrdiff_t>(start),
                                         end);
    for (Result<HeldMessage>& m : read_many(chunk, ContentPart::headers_only)) {
      if (m) mark_in_delivery(m->envelope);
      out.push_back(std::move(m));
    }
  }
  return out;
}

std::vector<Status> PostfixMta::remove_held(const std::vector<std::string>& queue_ids) {
  return postsuper_each("-d", kHoldQueue, queue_ids, "removed");
}

std::vector<Status> PostfixMta::release_held(const std::vector<std::string>& queue_ids) {
  return postsuper_each("-H", kHoldQueue, queue_ids, "released from hold");
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
