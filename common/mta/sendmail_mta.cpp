// sendmail_mta.cpp - Mta over one Sendmail instance: the queue read from
// its directories, everything else through its own `sendmail` command (see
// the header for what was verified on 8.17.1.9).
#include "common/mta/sendmail_mta.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "common/mta/smtp_submission.hpp"
#include "common/policy/etrn_match.hpp"
#include "common/util/posix_file.hpp"
#include "common/util/strings.hpp"

namespace etrn {

namespace {

constexpr const char* kNullSenderArgument = "<>";
constexpr const char* kHoldReason = "etrn-sweeper: partial expiry in progress";
// Sendmail's address test mode prints a macro's value for "$j".
constexpr const char* kOwnNameQuery = "$j\n";
constexpr std::string_view kControlQueue = "queue";
// A quarantined message (hf file) is Sendmail's held one, and is shown so.
constexpr std::string_view kQuarantineQueue = "hold";
constexpr std::string_view kDeliverableMarker = "... deliverable: mailer ";
constexpr std::chrono::seconds kVerifyTimeout{120};
// `sendmail -bs` takes its client from getpeername() on stdin; our stdin
// channel is a socket pair, which made Sendmail deny relaying to the ETRN
// site (seen). Naming the client as the local host, as a pipe would, makes
// it the local submission it is.
constexpr const char* kLocalClientMacro = "-M{client_addr}127.0.0.1";

bool usable_address_argument(const std::string& address) {
  return !address.empty() && address.front() != '-' &&
         address.find_first_of(std::string_view(" \t\r\n\0", 5)) == std::string::npos;
}

std::int64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : 0;
}

// The address of an "rfc822; address" value (ORCPT, the r line), or "".
std::string rfc822_address(std::string_view typed) {
  const std::size_t semicolon = typed.find(';');
  if (semicolon == std::string_view::npos || !iequals(trim(typed.substr(0, semicolon)), "rfc822"))
    return "";
  return std::string(strip_angle_brackets(trim(typed.substr(semicolon + 1))));
}

std::string original_recipient(const SendmailQfRecipient& r) {
  std::string original = rfc822_address(r.dsn.orcpt);
  return original.empty() ? rfc822_address(r.final_recipient) : original;
}

QueuedMessage listed_message(const SendmailQueueFile& file, const SendmailQf& qf, bool busy) {
  QueuedMessage m;
  m.queue_name = std::string(file.quarantined ? kQuarantineQueue : kControlQueue);
  m.queue_id = file.queue_id;
  m.arrival_time = qf.creation_time;
  m.size = file_size(file.data_path) + static_cast<std::int64_t>(qf.headers.size());
  m.sender = qf.envelope.sender;
  m.busy = busy;
  m.held = file.quarantined;
  for (const SendmailQfRecipient& r : qf.recipients) m.recipients.push_back({r.address, ""});
  return m;
}

}  // namespace

SendmailCommands SendmailCommands::from_config(const Config& config) {
  SendmailCommands commands;
  commands.program = config.sendmail_program;
  commands.config_file = config.sendmail_config_file;
  commands.queue_directories = sendmail_queue_directories(config.sendmail_queue_directory);
  commands.etrn_transports = config.etrn_transports;
  return commands;
}

Result<std::string> sendmail_queue_id_from_reply(std::string_view reply) {
  std::istringstream words{std::string(reply)};
  std::string word;
  words >> word;
  const bool reply_code = word.size() == 3 && std::all_of(word.begin(), word.end(), [](char c) {
                            return std::isdigit(static_cast<unsigned char>(c));
                          });
  if (reply_code) words >> word;
  const bool enhanced_code = !word.empty() && word.find('.') != std::string::npos &&
                             std::isdigit(static_cast<unsigned char>(word[0]));
  if (enhanced_code) words >> word;
  auto id = validate_sendmail_queue_id(word);
  if (!id) return make_error("no queue ID in reply \"" + std::string(reply) + "\"");
  return id;
}

std::map<std::string, std::string> parse_sendmail_verify_output(
    const std::vector<std::string>& lines) {
  std::map<std::string, std::string> mailers;
  for (const std::string& line : lines) {
    const std::size_t at = line.find(kDeliverableMarker);
    if (at == std::string::npos) continue;
    std::string mailer = line.substr(at + kDeliverableMarker.size());
    mailer = mailer.substr(0, mailer.find_first_of(", "));
    if (!mailer.empty()) mailers[ascii_lower(line.substr(0, at))] = mailer;
  }
  return mailers;
}

SendmailMta::SendmailMta(SendmailCommands commands, std::shared_ptr<CommandRunner> runner)
    : commands_(std::move(commands)),
      runner_(std::move(runner)),
      queue_(commands_.queue_directories) {}

SendmailMta::SendmailMta(const Config& config)
    : SendmailMta(SendmailCommands::from_config(config), std::make_shared<ProcessRunner>()) {}

CommandSpec SendmailMta::command(std::vector<std::string> args) const {
  CommandSpec spec;
  spec.argv.push_back(commands_.program);
  if (!commands_.config_file.empty()) spec.argv.push_back("-C" + commands_.config_file);
  for (auto& arg : args) spec.argv.push_back(std::move(arg));
  spec.timeout = commands_.timeout;
  return spec;
}

Result<SendmailQueueFile> SendmailMta::find(const std::string& queue_id) const {
  return queue_.find(queue_id);
}

Result<SendmailQf> SendmailMta::read_qf(const SendmailQueueFile& file) const {
  auto control = SendmailQueue::read_control(file);
  if (!control) return control.error();
  auto qf = parse_sendmail_qf(control->text);
  if (!qf) return make_error(file.control_path + ": damaged, left alone: " + qf.error().message);
  return qf;
}

Status SendmailMta::available() {
  if (commands_.queue_directories.empty())
    return make_error("Sendmail is not there: sendmail_queue_directory names no directory");
  for (const std::string& directory : commands_.queue_directories) {
    struct stat st {};
    if (::stat(directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return make_error("Sendmail is not there: no queue directory " + directory +
                        " (sendmail_queue_directory)");
  }
  return ok_status();
}

Status SendmailMta::for_each_queued(const std::function<void(QueuedMessage&&)>& visit) {
  std::vector<QueuedMessage> listed;
  std::size_t damaged = 0;
  auto scanned = queue_.for_each_file([&](SendmailQueueFile&& file) {
    auto control = SendmailQueue::read_control(file);
    if (!control) {  // vanished between listing and opening: delivered meanwhile
      spdlog::debug("{}", control.error().message);
      return;
    }
    auto qf = parse_sendmail_qf(control->text);
    if (!qf) {
      ++damaged;
      spdlog::warn("{}: damaged, left alone: {}", file.control_path, qf.error().message);
      return;
    }
    listed.push_back(listed_message(file, *qf, control->busy));
  });
  if (!scanned) return scanned.error();
  if (damaged > 0) spdlog::warn("{} damaged Sendmail queue file(s) skipped", damaged);
  visit_with_mailers(listed, visit);
  return ok_status();
}

Status SendmailMta::look_again(const std::vector<std::string>& queue_ids,
                               const std::function<void(QueuedMessage&&)>& visit) {
  std::vector<QueuedMessage> found;
  for (const std::string& id : queue_ids) {
    auto file = find(id);
    if (!file) continue;  // gone
    auto control = SendmailQueue::read_control(*file);
    if (!control) continue;  // gone between finding and opening
    auto qf = parse_sendmail_qf(control->text);
    if (!qf) {  // as the listing does: a damaged file is no message to follow
      spdlog::warn("{}: damaged, left alone: {}", file->control_path, qf.error().message);
      continue;
    }
    found.push_back(listed_message(*file, *qf, control->busy));
  }
  visit_with_mailers(found, visit);
  return ok_status();
}

void SendmailMta::visit_with_mailers(std::vector<QueuedMessage>& listed,
                                     const std::function<void(QueuedMessage&&)>& visit) {
  const auto mailers = mailers_by_domain(listed);
  for (QueuedMessage& m : listed) {
    for (QueuedRecipient& r : m.recipients) {
      auto found = mailers.find(ascii_lower(domain_of(r.address)));
      if (found != mailers.end()) r.mailer = found->second;
    }
    visit(std::move(m));
  }
}

std::map<std::string, std::string> SendmailMta::mailers_by_domain(
    const std::vector<QueuedMessage>& queue) {
  if (commands_.etrn_transports.empty()) return {};
  std::map<std::string, std::string> address_of_domain;
  for (const QueuedMessage& m : queue) {
    for (const QueuedRecipient& r : m.recipients) {
      const std::string domain = ascii_lower(domain_of(r.address));
      if (!domain.empty() && usable_address_argument(r.address))
        address_of_domain.emplace(domain, r.address);
    }
  }
  if (address_of_domain.empty()) return {};
  std::vector<std::string> args{"-bv", "--"};
  for (const auto& [domain, address] : address_of_domain) args.push_back(address);
  CommandSpec spec = command(std::move(args));
  spec.timeout = kVerifyTimeout;
  std::vector<std::string> lines;
  auto result = runner_->run(spec, [&](std::string_view line) { lines.emplace_back(line); });
  if (!result) {
    spdlog::warn("cannot ask Sendmail for the recipients' mailers: {}", result.error().message);
    return {};
  }
  const auto mailers = parse_sendmail_verify_output(lines);
  std::map<std::string, std::string> by_domain;
  for (const auto& [domain, address] : address_of_domain) {
    auto found = mailers.find(ascii_lower(address));
    if (found != mailers.end()) by_domain.emplace(domain, found->second);
  }
  return by_domain;
}

namespace {

QueuedEnvelope envelope_of(const SendmailQf& qf, bool quarantined) {
  QueuedEnvelope queued{qf.envelope, {}};
  for (const SendmailQfRecipient& r : qf.recipients)
    queued.recipients.push_back({r.address, r.dsn, original_recipient(r)});
  queued.queue_name = quarantined ? kQuarantineQueue : kControlQueue;
  queued.arrival_time = qf.creation_time;
  return queued;
}

}  // namespace

Result<QueuedEnvelope> SendmailMta::read_envelope(const std::string& queue_id) {
  auto file = find(queue_id);
  if (!file) return make_error(file.error().message, ErrorKind::gone);
  auto control = SendmailQueue::read_control(*file);
  if (!control) return control.error();
  auto qf = parse_sendmail_qf(control->text);
  if (!qf) return make_error(file->control_path + ": damaged, left alone: " + qf.error().message);
  QueuedEnvelope queued = envelope_of(*qf, file->quarantined);
  queued.in_delivery = control->busy;
  return queued;
}

Result<std::string> SendmailMta::read_content(const std::string& queue_id, ContentPart part) {
  auto file = find(queue_id);
  if (!file) return file.error();
  auto qf = read_qf(*file);
  if (!qf) return qf.error();
  if (part == ContentPart::headers_only) return qf->headers;
  auto body = read_file(file->data_path);
  if (!body) return body.error();
  return qf->headers + "\n" + *body;
}

Status SendmailMta::run_checked(const CommandSpec& spec) {
  auto result = runner_->run(spec, [](std::string_view) {});
  if (!result) return result.error();
  if (!result->exited_zero()) return make_error(spec.describe() + ": " + result->describe());
  return ok_status();
}

Status SendmailMta::lift_quarantine(const std::string& queue_id) {
  return run_checked(command({"-qQ", "-qI" + queue_id, "-Q"}));
}

Status SendmailMta::hold(const std::string& queue_id) {
  auto file = find(queue_id);
  if (!file) return file.error();
  if (file->quarantined) return make_error(queue_id + ": already quarantined");
  ETRN_TRY(run_checked(command({"-qI" + file->queue_id, std::string("-Q") + kHoldReason})));
  // A queue run skips a message it cannot lock: only the hf file tells.
  auto after = find(queue_id);
  if (!after || !after->quarantined) {
    return make_error(queue_id + ": not quarantined (busy or gone); left for the next run");
  }
  return ok_status();
}

Status SendmailMta::remove(const std::string& queue_id) {
  auto file = find(queue_id);
  if (!file) return file.error();
  return SendmailQueue::remove(*file);
}

// Sendmail has no command that removes a queued message: its files go.
std::string SendmailMta::how_to_release_held(const std::string& queue_id) const {
  return "release it with sendmail -qQ -qI" + queue_id + " -Q";
}

std::string SendmailMta::how_to_remove_held(const std::string& queue_id) const {
  auto file = find(queue_id);
  if (!file) return "delete hf" + queue_id + " and df" + queue_id + " in the queue directory";
  return "remove it with rm " + file->control_path + " " + file->data_path;
}

Status SendmailMta::submit_dsn(const std::string& dsn_text, const std::string& recipient) {
  if (!usable_address_argument(recipient)) {
    return make_error("refusing to submit a DSN to an unusable recipient address");
  }
  CommandSpec spec = command({"-i", "-f", kNullSenderArgument, "--", recipient});
  spec.stdin_source = StdinSource::text(dsn_text);
  auto result = runner_->run(spec, [](std::string_view) {});
  if (!result) return result.error();
  if (!result->exited_zero()) {
    return make_error(spec.describe() + ": " + result->describe(),
                      submission_refused_for_good(*result) ? ErrorKind::refused : ErrorKind::other);
  }
  return ok_status();
}

Result<std::string> SendmailMta::reinject(const std::string& content, const Envelope& envelope,
                                          const std::vector<ReinjectRecipient>& recipients) {
  auto sendmail_bs = [this]() -> Result<CommandSpec> {
    return command({"-bs", kLocalClientMacro});
  };
  return submit_content_through(*runner_, sendmail_bs, SmtpSubmission{envelope, false, recipients},
                                content, sendmail_queue_id_from_reply);
}

Result<QueueLifetimes> SendmailMta::queue_lifetimes() {
  return QueueLifetimes{};
}

Result<std::string> SendmailMta::own_host_name() {
  CommandSpec spec = command({"-bt"});
  spec.stdin_source = StdinSource::text(kOwnNameQuery);
  spec.timeout = kVerifyTimeout;
  std::optional<std::string> name;
  auto result = runner_->run(spec, [&](std::string_view line) {
    if (!name && line.starts_with("> ") && !trim(line.substr(2)).empty())
      name = std::string(trim(line.substr(2)));
  });
  if (!result) return result.error();
  if (!result->exited_zero()) return make_error(spec.describe() + ": " + result->describe());
  if (!name) return make_error(spec.describe() + ": printed no value for $j");
  return *name;
}

Status SendmailMta::take(const HoldRequest& request) {
  const std::string& id = request.listed->queue_id;
  auto file = find(id);
  if (!file) return make_error(file.error().message, ErrorKind::gone);
  const bool quarantine = request.until_released && !file->quarantined;
  if (quarantine) {
    ETRN_TRY(hold(id));
    file = find(id);
    if (!file) return make_error(file.error().message, ErrorKind::gone);
  }
  auto locked = SendmailQueue::lock(*file);
  if (!locked) {
    // Not taken after all: the quarantine just made must not stay.
    if (quarantine) (void)lift_quarantine(file->queue_id);
    return locked.error();
  }
  claims_.insert_or_assign(id, std::move(*locked));
  return ok_status();
}

std::vector<Status> SendmailMta::hold_all(const std::vector<HoldRequest>& requests) {
  std::vector<Status> statuses;
  statuses.reserve(requests.size());
  for (const HoldRequest& request : requests) statuses.push_back(take(request));
  return statuses;
}

// Read from the locked descriptor, so it is the file Sendmail cannot touch now.
Result<HeldMessage> SendmailMta::read_claimed(const QueuedMessage& listed, ContentPart part) const {
  auto claim = claims_.find(listed.queue_id);
  if (claim == claims_.end()) return make_error(listed.queue_id + ": not held by this run");
  const LockedQueueFile& locked = claim->second;
  auto text = SendmailQueue::read_locked(locked);
  if (!text) return text.error();
  auto qf = parse_sendmail_qf(*text);
  if (!qf) return make_error(locked.file.control_path + ": damaged: " + qf.error().message);
  HeldMessage held{envelope_of(*qf, locked.file.quarantined), ""};
  ETRN_TRY(check_same_message(listed, held.envelope));
  held.content = qf->headers;
  if (part == ContentPart::whole_message) {
    auto body = read_file(locked.file.data_path);
    if (!body) return body.error();
    held.content += "\n" + *body;
  }
  return held;
}

std::vector<Result<HeldMessage>> SendmailMta::read_held(
    const std::vector<const QueuedMessage*>& messages, ContentPart part) {
  std::vector<Result<HeldMessage>> held;
  held.reserve(messages.size());
  for (const QueuedMessage* m : messages) held.push_back(read_claimed(*m, part));
  return held;
}

std::vector<Status> SendmailMta::remove_held(const std::vector<std::string>& queue_ids) {
  std::vector<Status> statuses;
  for (const std::string& id : queue_ids) {
    auto claim = claims_.find(id);
    if (claim == claims_.end()) {
      statuses.push_back(make_error(id + ": not held by this run"));
      continue;
    }
    statuses.push_back(SendmailQueue::remove_locked(claim->second));
    claims_.erase(claim);  // the lock goes with the descriptor
  }
  return statuses;
}

// The lock first, so that Sendmail can lift the quarantine.
std::vector<Status> SendmailMta::release_held(const std::vector<std::string>& queue_ids) {
  std::vector<Status> statuses;
  for (const std::string& id : queue_ids) {
    claims_.erase(id);
    auto file = find(id);
    if (!file || !file->quarantined) {
      statuses.push_back(ok_status());
      continue;
    }
    statuses.push_back(lift_quarantine(file->queue_id));
  }
  return statuses;
}

}  // namespace etrn
