// executor.cpp - does a sweep Plan (see executor.hpp for the order of
// steps and why).
#include "sweeper/executor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "common/dsn/dsn.hpp"
#include "common/util/strings.hpp"
#include "sweeper/kill_point.hpp"

namespace etrn {

std::string RunSummary::to_string() const {
  return "departed " + std::to_string(departed) + ", adopted " + std::to_string(adopted) +
         ", warned " + std::to_string(warned) + ", expired " + std::to_string(expired) +
         ", DSNs sent " + std::to_string(dsns_sent) + ", removed " + std::to_string(removed) +
         ", split " + std::to_string(split) + ", recovered " + std::to_string(recovered) +
         ", errors " + std::to_string(errors.size());
}

std::string with_reinjected_header(const std::string& content, const std::string& old_queue_id) {
  return std::string(kReinjectedHeader) + ": " + old_queue_id + "\n" + content;
}

bool names_original(std::string_view headers, const std::string& old_queue_id) {
  const std::string wanted = std::string(kReinjectedHeader) + ": " + old_queue_id;
  std::size_t start = 0;
  while (start < headers.size()) {
    std::size_t end = std::min(headers.find('\n', start), headers.size());
    std::string_view line = headers.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return false;  // end of the header section
    if (iequals(line, wanted)) return true;
    start = end + 1;
  }
  return false;
}

namespace {

std::vector<const RecipientPlan*> with_action(const MessagePlan& m, RecipientAction action) {
  std::vector<const RecipientPlan*> out;
  for (const RecipientPlan& r : m.recipients) {
    if (r.action == action && r.id != 0) out.push_back(&r);
  }
  return out;
}

MessageToRecord adoption_record(const MessagePlan& m) {
  MessageToRecord item;
  MessageRecord& record = item.message;
  record.queue_id = m.queue_id;
  record.arrival_time = m.arrival_time;
  record.envelope = m.envelope;
  record.priority = m.priority;
  record.size = m.queued ? m.queued->size : 0;
  for (const RecipientPlan& r : m.recipients) {
    record.recipients.push_back(RecipientRecord{r.address, r.domain, r.dsn, ""});
    item.deadlines.push_back(r.deadlines);
  }
  return item;
}

}  // namespace

Executor::Executor(const Config& config, Database& db, Mta& mta, Outbox& outbox,
                   std::string reporting_mta, ExecutorClock clock)
    : config_(config),
      db_(db),
      mta_(mta),
      outbox_(outbox),
      reporting_mta_(std::move(reporting_mta)),
      clock_(clock) {}

RunSummary Executor::execute(Plan plan) {
  reconcile(plan);
  std::vector<MessagePlan*> batch;
  for (MessagePlan& m : plan.messages) {
    if (m.id == 0 || !m.queued) continue;
    if (m.removal == Removal::split) {
      Status done = act_alone(m);
      if (!done) note_error(m, done.error());
      continue;
    }
    if (!acts_on(m)) continue;
    batch.push_back(&m);
    if (batch.size() < kExpiryBatchSize) continue;
    act_together(batch);
    batch.clear();
  }
  if (!batch.empty()) act_together(batch);
  return summary_;
}

void Executor::note_error(const MessagePlan& m, const Error& error) {
  spdlog::error("{}: {}", m.queue_id, error.message);
  summary_.errors.push_back(m.queue_id + ": " + error.message);
}

void Executor::reconcile(Plan& plan) {
  Transaction transaction(db_);
  for (const Merge& merge : plan.merges)
    merge_messages(db_, merge.keep, merge.drop, clock_.act_now);
  for (MessagePlan& m : plan.messages) reconcile_message(m);
  transaction.commit();
}

void Executor::reconcile_message(MessagePlan& m) {
  if (m.adopt && !adopt(m)) return;
  if (m.reopen) reopen_message(db_, m.id);
  if (m.record_mta_arrival && m.queued) set_mta_arrival(db_, m.id, m.queued->arrival_time);
  if (!m.adopt) follow_the_queue(m);
  for (const RecipientPlan& r : m.recipients) {
    if (r.deadlines_changed) update_deadlines(db_, r.id, r.deadlines);
    if (r.action != RecipientAction::depart) continue;
    // Gone with its whole message: a listing may show it again (reopen).
    const auto reopen_as = m.queued ? std::nullopt : std::optional<RecipientState>(r.state);
    depart_recipient(db_, RecipientRef{r.id, m.queue_id, r.address}, reopen_as,
                     m.queued ? "no longer queued for this recipient" : "left the queue",
                     clock_.act_now);
    ++summary_.departed;
  }
  if (m.done) mark_done(db_, m.id, clock_.act_now);
}

// The recipients as the MTA queued them: reopened, followed to a new
// address, expanded into more rows, or gained by the message.
void Executor::follow_the_queue(MessagePlan& m) {
  std::map<std::string, std::vector<std::string>> expansions;  // recorded address -> queued ones
  for (RecipientPlan& r : m.recipients) {
    if (r.origin == RecipientOrigin::recorded && !r.reopened) continue;  // most, every run
    const RecipientRecord as{r.address, r.domain, r.dsn, ""};
    if (r.reopened) {
      reopen_recipient(db_, RecipientRef{r.id, m.queue_id, r.address}, r.state,
                       "queued again with the same arrival time", clock_.act_now);
    }
    if (r.origin == RecipientOrigin::followed) follow_recipient(db_, r.id, as);
    if (r.origin == RecipientOrigin::followed || r.origin == RecipientOrigin::expanded)
      expansions[r.recorded_address].push_back(r.address);
    if (r.origin == RecipientOrigin::expanded || r.origin == RecipientOrigin::adopted)
      r.id = add_recipient(db_, m.id, NewRecipient{as, r.state, r.deadlines}, clock_.act_now);
    if (r.origin == RecipientOrigin::adopted) {
      append_event(db_, clock_.act_now, m.queue_id, r.address, "adopted",
                   "added to the message after the milter saw it; expires_at=" +
                       std::to_string(r.deadlines.expires_at));
    }
  }
  for (const auto& [recorded, queued] : expansions) {
    std::string detail = "queued by the MTA as";
    for (const std::string& address : queued) detail += " " + address;
    append_event(db_, clock_.act_now, m.queue_id, recorded, "expanded", detail);
  }
}

// Records an adopted message; false (and nothing to act on) when a row for it turned up meanwhile.
bool Executor::adopt(MessagePlan& m) {
  std::optional<std::int64_t> id = adopt_message(db_, adoption_record(m), clock_.real_now);
  if (!id) {
    m.id = 0;
    return false;
  }
  m.id = *id;
  m.record_mta_arrival = false;
  const auto ids = recipient_ids(db_, m.id);
  for (RecipientPlan& r : m.recipients) {
    auto found = ids.find(r.address);
    r.id = found == ids.end() ? 0 : found->second;
  }
  ++summary_.adopted;
  return true;
}

// A split, alone: the delay DSN, hold, the failure DSN, then re-injection.
Status Executor::act_alone(MessagePlan& m) {
  if (!with_action(m, RecipientAction::warn).empty())
    ETRN_TRY(send_dsns({{&m, DsnKind::delayed}}).front());
  if (!m.queued->held) {
    ETRN_TRY(mta_.hold(m.queue_id));
    kill_point("held");
  }
  if (!with_action(m, RecipientAction::expire_dsn).empty())
    ETRN_TRY(send_dsns({{&m, DsnKind::failed}}).front());
  if (!with_action(m, RecipientAction::expire_silent).empty()) expire_silently({&m});
  return split(m);
}

bool Executor::acts_on(const MessagePlan& m) {
  for (RecipientAction a :
       {RecipientAction::warn, RecipientAction::expire_dsn, RecipientAction::expire_silent}) {
    if (!with_action(m, a).empty()) return true;
  }
  return m.removal == Removal::whole;
}

// Messages that are not split, many at once: their DSNs read, built,
// committed, submitted and finalized as one batch (send_dsns); then the
// silent expiries; then one removal of every message whose DSNs went out.
// A message whose DSN failed is left alone.
void Executor::act_together(const std::vector<MessagePlan*>& batch) {
  std::vector<DsnWant> wants;
  for (MessagePlan* m : batch) {
    for (DsnKind kind : {DsnKind::delayed, DsnKind::failed}) {
      if (!with_action(*m, action_reported_by(kind)).empty()) wants.push_back({m, kind});
    }
  }
  std::unordered_set<const MessagePlan*> failed;
  const std::vector<Status> sent = send_dsns(wants);
  for (std::size_t i = 0; i < wants.size(); ++i) {
    if (sent[i] || failed.contains(wants[i].m)) continue;
    failed.insert(wants[i].m);
    note_error(*wants[i].m, sent[i].error());
  }
  std::vector<MessagePlan*> going_on;
  for (MessagePlan* m : batch) {
    if (!failed.contains(m)) going_on.push_back(m);
  }
  expire_silently(going_on);
  remove_all_whole(going_on);
}

// Reads the originals (two bulk reads: headers only, whole), builds every
// DSN, commits them to the outbox at once and has it submit them. A result
// per want, in order. (A message has a delay and a failure DSN in one run
// only when it is split, and a split sends each alone.)
std::vector<Status> Executor::send_dsns(const std::vector<DsnWant>& wants) {
  const auto originals = read_originals(wants);
  std::vector<std::optional<std::string>> unusable(wants.size());
  std::vector<DsnJob> jobs;
  for (std::size_t i = 0; i < wants.size(); ++i) {
    const DsnWant& w = wants[i];
    DsnRequest request{w.m->id, w.m->queue_id, w.m->envelope.sender, w.kind, {}, reporting_mta_};
    for (const RecipientPlan* r : with_action(*w.m, action_reported_by(w.kind)))
      request.recipient_ids.push_back(r->id);
    const Result<std::string>* original = &originals.at(w.m->queue_id);
    auto build_it = [this, &unusable, i, w,
                     original](const std::string& id) -> Result<std::string> {
      if (!*original)
        return make_error("reading the original for the DSN: " + original->error().message);
      auto dsn = build(*w.m, w.kind, id, **original);
      if (!dsn) unusable[i] = dsn.error().message;
      return dsn;
    };
    jobs.push_back({std::move(request), build_it});
  }
  std::vector<Result<OutboxRow>> rows = outbox_.enqueue_all(jobs, clock_.act_now);
  std::vector<Status> results(wants.size(), ok_status());
  std::vector<OutboxRow> spooled;
  std::vector<std::size_t> spooled_want;
  for (std::size_t i = 0; i < wants.size(); ++i) {
    if (rows[i]) {
      spooled.push_back(*rows[i]);
      spooled_want.push_back(i);
    } else if (unusable[i]) {
      results[i] = handle_unusable_dsn(*wants[i].m, wants[i].kind, *unusable[i]);
    } else {
      results[i] = rows[i].error();
    }
  }
  const std::vector<Status> delivered = outbox_.deliver_all(spooled, clock_.act_now);
  for (std::size_t k = 0; k < delivered.size(); ++k) {
    const std::size_t i = spooled_want[k];
    results[i] = delivered[k];
    if (!delivered[k]) continue;
    ++summary_.dsns_sent;
    int& counter = wants[i].kind == DsnKind::delayed ? summary_.warned : summary_.expired;
    counter += static_cast<int>(spooled[k].recipient_ids.size());
  }
  return results;
}

// The originals the DSNs return, by queue ID: one bulk read for those
// returned whole, one for those returned as headers only.
std::unordered_map<std::string, Result<std::string>> Executor::read_originals(
    const std::vector<DsnWant>& wants) {
  std::unordered_map<std::string, Result<std::string>> originals;
  for (ContentPart part : {ContentPart::whole_message, ContentPart::headers_only}) {
    std::vector<std::string> ids;
    for (const DsnWant& w : wants) {
      if (returned_part(*w.m) == part) ids.push_back(w.m->queue_id);
    }
    auto contents = mta_.read_contents(ids, part);
    for (std::size_t i = 0; i < contents.size(); ++i)
      originals.insert_or_assign(ids[i], std::move(contents[i]));
  }
  return originals;
}

// RET=HDRS, or a message over bounce_size_limit: only its headers.
ContentPart Executor::returned_part(const MessagePlan& m) const {
  const bool headers_only =
      m.envelope.ret == ReturnContent::headers || m.queued->size > config_.bounce_size_limit;
  return headers_only ? ContentPart::headers_only : ContentPart::whole_message;
}

Result<std::string> Executor::build(const MessagePlan& m, DsnKind kind,
                                    const std::string& dsn_message_id,
                                    const std::string& original) {
  DsnInput in;
  in.kind = kind;
  in.reporting_mta = reporting_mta_;
  in.message_id = dsn_message_id;
  in.envelope = m.envelope;
  in.queue_id = m.queue_id;
  in.arrival_time = m.arrival_time;
  in.now = clock_.act_now;
  for (const RecipientPlan* r : with_action(m, action_reported_by(kind))) {
    in.recipients.push_back(
        DsnRecipient{r->address, r->dsn, r->domain, r->deadlines.expires_at, r->policy});
  }
  in.original = original;
  in.original_is_headers_only = returned_part(m) == ContentPart::headers_only;
  in.size_limit = static_cast<std::size_t>(config_.bounce_size_limit);
  return build_dsn(in);
}

Status Executor::handle_unusable_dsn(MessagePlan& m, DsnKind kind, const std::string& reason) {
  spdlog::warn("{}: no {} DSN possible: {}", m.queue_id,
               kind == DsnKind::delayed ? "delay" : "failure", reason);
  if (kind == DsnKind::delayed) return ok_status();
  for (RecipientPlan& r : m.recipients) {
    if (r.action != RecipientAction::expire_dsn) continue;
    r.action = RecipientAction::expire_silent;
    r.why = "no DSN: " + reason;
  }
  return ok_status();
}

void Executor::expire_silently(const std::vector<MessagePlan*>& messages) {
  Transaction transaction(db_);
  for (const MessagePlan* m : messages) {
    for (const RecipientPlan* r : with_action(*m, RecipientAction::expire_silent)) {
      set_recipient_state(db_, RecipientRef{r->id, m->queue_id, r->address},
                          RecipientState::expired, r->why, clock_.act_now);
      spdlog::info("{}: {} expired, {}", m->queue_id, r->address, r->why);
      ++summary_.expired;
    }
  }
  transaction.commit();
}

// One removal command for all of them, then one commit for those removed.
void Executor::remove_all_whole(const std::vector<MessagePlan*>& messages) {
  std::vector<const MessagePlan*> whole;
  std::vector<std::string> ids;
  for (const MessagePlan* m : messages) {
    if (m->removal != Removal::whole) continue;
    whole.push_back(m);
    ids.push_back(m->queue_id);
  }
  if (ids.empty()) return;
  const std::vector<Status> removed = mta_.remove_all(ids);
  Transaction transaction(db_);
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (!removed[i]) {
      note_error(*whole[i], removed[i].error());
      continue;
    }
    std::vector<std::string> addresses;
    for (const RecipientPlan& r : whole[i]->recipients) {
      if (r.leaves_queue()) addresses.push_back(r.address);
    }
    mark_removed(db_, whole[i]->id, whole[i]->queue_id, addresses,
                 "expired; removed from the queue", clock_.act_now);
    ++summary_.removed;
  }
  transaction.commit();
}

// Survivors first go out in a copy; the original (held) is then marked
// done before it is removed, so a failed removal leaves it in the hold
// queue rather than re-injecting its survivors a second time.
Status Executor::split(const MessagePlan& m) {
  std::optional<std::string> copy = copy_from_interrupted_run(m);
  auto new_id = copy ? Result<std::string>(*copy) : reinject_survivors(m);
  if (!new_id) return new_id.error();
  kill_point("reinjected");
  std::vector<std::int64_t> moving;
  std::vector<std::string> removed;
  for (const RecipientPlan& r : m.recipients) {
    if (r.keeps_waiting() && r.id != 0) moving.push_back(r.id);
    if (r.leaves_queue()) removed.push_back(r.address);
  }
  {
    Transaction transaction(db_);
    move_survivors(db_, m.id, *new_id, moving, clock_.real_now);
    mark_removed(db_, m.id, m.queue_id, removed,
                 "expired; the other recipients re-injected as " + *new_id, clock_.act_now);
    transaction.commit();
  }
  ++summary_.split;
  Status removal = mta_.remove(m.queue_id);
  if (!removal) {
    return make_error("survivors re-injected as " + *new_id +
                      ", but removing the held original failed (" +
                      mta_.how_to_remove_held(m.queue_id) + "): " + removal.error().message);
  }
  return ok_status();
}

// A run killed after re-injecting left the copy in the queue: use it
// rather than delivering the survivors twice.
std::optional<std::string> Executor::copy_from_interrupted_run(const MessagePlan& m) {
  for (const std::string& candidate : m.copy_candidates) {
    auto headers = mta_.read_content(candidate, ContentPart::headers_only);
    if (!headers || !names_original(*headers, m.queue_id)) continue;
    spdlog::info("{}: its survivors were re-injected as {} by an interrupted run", m.queue_id,
                 candidate);
    return candidate;
  }
  return std::nullopt;
}

Result<std::string> Executor::reinject_survivors(const MessagePlan& m) {
  auto content = mta_.read_content(m.queue_id, ContentPart::whole_message);
  if (!content)
    return make_error("reading the original to re-inject it: " + content.error().message);
  auto envelope = mta_.read_envelope(m.queue_id);
  if (!envelope)
    return make_error("reading the envelope to re-inject it: " + envelope.error().message);
  std::vector<ReinjectRecipient> recipients;
  for (const std::string& address : m.survivors)
    recipients.push_back({address, envelope->dsn_for(address)});
  auto new_id = mta_.reinject(with_reinjected_header(*content, m.queue_id), m.envelope, recipients);
  if (!new_id) return make_error("re-injecting the survivors: " + new_id.error().message);
  spdlog::info("{}: {} survivor(s) re-injected as {}", m.queue_id, recipients.size(), *new_id);
  return new_id;
}

}  // namespace etrn
