// executor.cpp - does a sweep Plan (see executor.hpp for the order of
// steps and why).
#include "sweeper/executor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <unordered_set>

#include "common/dsn/dsn.hpp"
#include "common/dsn/mime_parts.hpp"
#include "common/model/record_log_line.hpp"
#include "common/store/sweep_store.hpp"
#include "common/util/strings.hpp"
#include "sweeper/action_log.hpp"
#include "sweeper/kill_point.hpp"

namespace etrn {

std::string RunSummary::to_string() const {
  return "departed " + std::to_string(counts.departed) + ", adopted " +
         std::to_string(counts.adopted) + ", warned " + std::to_string(counts.warned) +
         ", expired " + std::to_string(counts.expired) + ", DSNs sent " +
         std::to_string(counts.dsns_sent) + ", removed " + std::to_string(counts.removed) +
         ", split " + std::to_string(counts.split) + ", released " + std::to_string(released) +
         ", recovered " + std::to_string(recovered) + ", errors " + std::to_string(errors.size()) +
         ", need a person " + std::to_string(need_a_person.size());
}

std::string with_reinjected_header(const std::string& content, const std::string& old_queue_id) {
  return std::string(kReinjectedHeader) + ": " + old_queue_id + "\n" + content;
}

bool names_original(std::string_view headers, const std::string& old_queue_id) {
  return reinjected_from(headers) == old_queue_id;
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

// Not being where it was, or busy, is no error: the next run sees it anew.
bool moved_on(const Error& error) {
  return error.kind == ErrorKind::gone || error.kind == ErrorKind::busy;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

Executor::Executor(const Config& config, Database& db, Mta& mta, Outbox& outbox,
                   RefusalHandler& refusals, std::string reporting_mta, ExecutorClock clock)
    : config_(config),
      db_(db),
      mta_(mta),
      outbox_(outbox),
      refusals_(refusals),
      reporting_mta_(std::move(reporting_mta)),
      clock_(clock) {}

RunSummary Executor::execute(Plan plan) {
  reconcile(plan);
  release_idle(plan.messages);
  std::vector<MessagePlan*> batch;
  for (MessagePlan& m : plan.messages) {
    if (m.needs_person) {
      spdlog::warn("{}: kept on hold for a person since its failure DSN was refused: {}, or {}",
                   m.queue_id, mta_.how_to_release_held(m.queue_id),
                   mta_.how_to_remove_held(m.queue_id));
      summary_.need_a_person.push_back(m.queue_id);
    }
    if (m.id == 0 || !m.queued || m.release || !m.acts_on_queue()) continue;
    batch.push_back(&m);
    if (batch.size() < kExpiryBatchSize) continue;
    act_on_batch(batch);
    batch.clear();
  }
  if (!batch.empty()) act_on_batch(batch);
  std::vector<std::string>& people = summary_.need_a_person;
  for (const std::string& queue_id : refusals_.attention()) {
    if (std::find(people.begin(), people.end(), queue_id) == people.end())
      people.push_back(queue_id);
  }
  summary_.counts.errors = static_cast<int>(summary_.errors.size());
  summary_.counts.need_a_person = static_cast<int>(people.size());
  return summary_;
}

void Executor::note_error(const MessagePlan& m, const std::string& error) {
  spdlog::error("{}: {}", m.queue_id, error);
  summary_.errors.push_back(m.queue_id + ": " + error);
}

void Executor::reconcile(Plan& plan) {
  Transaction transaction(db_);
  for (const Merge& merge : plan.merges)
    merge_messages(db_, merge.keep, merge.drop, clock_.act_now);
  std::vector<std::pair<std::int64_t, EpochSeconds>> arrivals;
  arrivals.reserve(plan.arrivals.size());
  for (MessagePlan& m : plan.messages) reconcile_message(m, arrivals);
  for (const ArrivalToStore& a : plan.arrivals) arrivals.emplace_back(a.id, a.mta_arrival_time);
  set_mta_arrivals(db_, arrivals);
  transaction.commit();
}

void Executor::reconcile_message(MessagePlan& m,
                                 std::vector<std::pair<std::int64_t, EpochSeconds>>& arrivals) {
  if (m.adopt && !adopt(m)) return;
  if (m.reopen) reopen_message(db_, m.id);
  if (m.record_mta_arrival && m.queued) arrivals.emplace_back(m.id, m.queued->arrival_time);
  if (m.forget_hold) clear_held_by_sweeper(db_, m.id);
  if (!m.adopt) follow_the_queue(m);
  for (const RecipientPlan& r : m.recipients) {
    if (r.deadlines_changed) update_deadlines(db_, r.id, r.deadlines);
    if (r.action != RecipientAction::depart) continue;
    // Gone with its whole message: a listing may show it again (reopen).
    const auto reopen_as = m.queued ? std::nullopt : std::optional<RecipientState>(r.state);
    const std::string why = m.queued ? "no longer queued for this recipient" : "left the queue";
    depart_recipient(db_, RecipientRef{r.id, m.queue_id, r.address}, reopen_as, why,
                     clock_.act_now);
    spdlog::info("{}", departed_line(m, r, clock_.act_now, why));
    ++summary_.counts.departed;
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
      spdlog::info("{}", adopted_recipient_line(m, r));
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
  const MessageToRecord record = adoption_record(m);
  std::optional<std::int64_t> id = adopt_message(db_, record, clock_.real_now);
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
  spdlog::info("{}", record_log_line("adopted", record).str());
  ++summary_.counts.adopted;
  return true;
}

// Held by the sweeper in a run that died, with nothing left to do: back
// into delivery.
void Executor::release_idle(std::vector<MessagePlan>& messages) {
  std::vector<MessagePlan*> idle;
  for (MessagePlan& m : messages) {
    if (!m.release || m.id == 0) continue;
    idle.push_back(&m);
  }
  put_back(idle);
  for (MessagePlan* m : idle) {
    if (m->held_by_sweeper)
      note_error(*m, "cannot put it back from hold; the next run tries again");
  }
}

void Executor::act_on_batch(const std::vector<MessagePlan*>& batch) {
  std::vector<Held> held = read_again(take_out_of_delivery(batch));
  std::vector<Held*> together;
  std::vector<MessagePlan*> idle;
  for (Held& h : held) {
    if (!h.m->acts_on_queue()) {
      idle.push_back(h.m);  // what was due left the queue meanwhile
    } else if (h.m->removal == Removal::split) {
      if (Status done = split(h); !done) note_error(*h.m, done.error().message);
    } else {
      together.push_back(&h);
    }
  }
  report_and_remove(together);
  put_back(idle);
}

// The hold is on record before the MTA is asked, so that a run that dies
// after it knows the hold is its own (and finishes or undoes it).
std::vector<MessagePlan*> Executor::take_out_of_delivery(const std::vector<MessagePlan*>& batch) {
  std::vector<HoldRequest> requests;
  {
    Transaction transaction(db_);
    for (MessagePlan* m : batch) {
      if (!m->queued->held) mark_held_by_sweeper(db_, m->id, clock_.real_now);
      requests.push_back({m->queued, m->removal == Removal::split});
    }
    transaction.commit();
  }
  const std::vector<Status> taken = mta_.hold_all(requests);
  kill_point("held");
  std::vector<MessagePlan*> out;
  std::vector<MessagePlan*> not_ours;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    MessagePlan* m = batch[i];
    if (taken[i]) {
      m->held_by_sweeper = m->held_by_sweeper || !m->queued->held;
      out.push_back(m);
      continue;
    }
    if (!m->queued->held) not_ours.push_back(m);
    if (moved_on(taken[i].error())) {
      spdlog::info("{}: not taken out of delivery, left for the next run: {}", m->queue_id,
                   taken[i].error().message);
    } else {
      note_error(*m, "taking it out of delivery: " + taken[i].error().message);
    }
  }
  Transaction transaction(db_);
  for (MessagePlan* m : not_ours) clear_held_by_sweeper(db_, m->id);
  transaction.commit();
  return out;
}

// RET=HDRS, or a message over bounce_size_limit: only its headers. A split
// reads the whole message: its survivors get all of it.
ContentPart Executor::returned_part(const MessagePlan& m) const {
  const bool headers_only =
      m.envelope.ret == ReturnContent::headers || m.queued->size > config_.bounce_size_limit;
  return headers_only && m.removal != Removal::split ? ContentPart::headers_only
                                                     : ContentPart::whole_message;
}

// Two bulk reads (whole, headers only). A copy that is not the message
// listed any more is put back as it was.
std::vector<Executor::Held> Executor::read_again(const std::vector<MessagePlan*>& taken) {
  std::vector<Held> held;
  std::vector<MessagePlan*> back;
  for (ContentPart part : {ContentPart::whole_message, ContentPart::headers_only}) {
    std::vector<MessagePlan*> group;
    std::vector<const QueuedMessage*> listed;
    for (MessagePlan* m : taken) {
      if (returned_part(*m) != part) continue;
      group.push_back(m);
      listed.push_back(m->queued);
    }
    if (group.empty()) continue;
    std::vector<Result<HeldMessage>> copies = mta_.read_held(listed, part);
    for (std::size_t i = 0; i < group.size(); ++i) {
      MessagePlan* m = group[i];
      if (!copies[i]) {
        if (moved_on(copies[i].error()))
          spdlog::info("{}: not acted on: {}", m->queue_id, copies[i].error().message);
        else
          note_error(*m, "reading it again on hold: " + copies[i].error().message);
        back.push_back(m);
        continue;
      }
      fit_to_held(*m, copies[i]->envelope);
      held.push_back(Held{m, std::move(*copies[i]), part});
    }
  }
  put_back(back);
  return held;
}

// Back where they were, if the sweeper held them; the mark goes with the
// hold. A failure keeps the mark: the next run releases it.
void Executor::put_back(const std::vector<MessagePlan*>& messages) {
  std::vector<MessagePlan*> ours;
  std::vector<std::string> ids;
  for (MessagePlan* m : messages) {
    if (!m->held_by_sweeper) continue;
    ours.push_back(m);
    ids.push_back(m->queue_id);
  }
  if (ids.empty()) return;
  const std::vector<Status> released = mta_.release_held(ids);
  Transaction transaction(db_);
  for (std::size_t i = 0; i < ours.size(); ++i) {
    if (!released[i]) {
      spdlog::warn("{}: {}", ours[i]->queue_id, released[i].error().message);
      continue;
    }
    clear_held_by_sweeper(db_, ours[i]->id);
    ours[i]->held_by_sweeper = false;
    ++summary_.released;
  }
  transaction.commit();
}

// Every DSN of the batch at once; then the silent expiries and one removal
// for the messages whose failure DSN went out; the warned ones go back.
void Executor::report_and_remove(const std::vector<Held*>& together) {
  std::vector<DsnWant> wants;
  for (Held* h : together) {
    for (DsnKind kind : {DsnKind::delayed, DsnKind::failed}) {
      if (!with_action(*h->m, action_reported_by(kind)).empty()) wants.push_back({h, kind});
    }
  }
  const std::vector<DsnFate> fates = send_dsns(wants);
  std::unordered_set<const MessagePlan*> kept;  // their failure DSN did not go out
  for (std::size_t i = 0; i < wants.size(); ++i) {
    if (wants[i].kind != DsnKind::failed || fates[i] == DsnFate::sent) continue;
    kept.insert(wants[i].held->m);
    if (fates[i] != DsnFate::given_up)
      note_error(*wants[i].held->m, "its failure DSN is not sent yet; it stays on hold");
  }
  std::vector<MessagePlan*> removing;
  std::vector<MessagePlan*> back;
  for (Held* h : together) {
    if (kept.contains(h->m)) continue;
    (h->m->removal == Removal::whole ? removing : back).push_back(h->m);
  }
  expire_silently(removing);
  remove_from_hold(removing, "expired; removed from the queue");
  put_back(back);
}

// Builds every DSN, commits them to the outbox at once and has it deliver
// them: a fate per want, in order. A DSN that cannot be built whole is
// built with the original's headers only; if that fails too, it is given up.
std::vector<DsnFate> Executor::send_dsns(const std::vector<DsnWant>& wants) {
  std::vector<DsnJob> jobs;
  jobs.reserve(wants.size());
  for (const DsnWant& w : wants) jobs.push_back(job_for(w));
  std::vector<Result<OutboxRow>> rows = outbox_.enqueue_all(jobs, clock_.act_now);
  std::vector<DsnFate> fates(wants.size(), DsnFate::retrying);
  std::vector<OutboxRow> spooled;
  std::vector<std::size_t> spooled_want;
  for (std::size_t i = 0; i < wants.size(); ++i) {
    if (rows[i]) {
      spooled.push_back(std::move(*rows[i]));
      spooled_want.push_back(i);
      continue;
    }
    if (rows[i].error().kind != ErrorKind::refused) {
      note_error(*wants[i].held->m, rows[i].error().message);
      continue;
    }
    refusals_.give_up(UndeliverableDsn{jobs[i].request, rows[i].error().message, "", std::nullopt},
                      clock_.act_now);
    fates[i] = DsnFate::given_up;
  }
  std::vector<std::size_t> counts;
  std::vector<std::string> dsn_message_ids;
  counts.reserve(spooled.size());
  for (const OutboxRow& row : spooled) {
    counts.push_back(row.recipient_ids.size());
    dsn_message_ids.push_back(row.dsn_message_id);
  }
  const std::vector<DsnDelivery> delivered =
      outbox_.deliver_all(std::move(spooled), clock_.act_now);
  for (std::size_t k = 0; k < delivered.size(); ++k) {
    const std::size_t i = spooled_want[k];
    fates[i] = delivered[k].fate;
    if (fates[i] != DsnFate::sent) continue;
    log_reported(*wants[i].held->m, wants[i].kind, dsn_message_ids[k]);
    ++summary_.counts.dsns_sent;
    int& counter =
        wants[i].kind == DsnKind::delayed ? summary_.counts.warned : summary_.counts.expired;
    counter += static_cast<int>(counts[k]);
  }
  return fates;
}

// A line for each recipient the DSN the MTA accepted reports on.
void Executor::log_reported(const MessagePlan& m, DsnKind kind, const std::string& dsn_message_id) {
  for (const RecipientPlan* r : with_action(m, action_reported_by(kind)))
    spdlog::info("{}", recipient_action_line(m, *r, clock_.act_now, dsn_message_id));
}

// The outbox job of one DSN. An error of kind refused from its builder
// means it cannot be built, even with the original's headers only.
DsnJob Executor::job_for(const DsnWant& w) {
  const MessagePlan& m = *w.held->m;
  DsnRequest request{m.id, m.queue_id, m.envelope.sender, w.kind, {}, reporting_mta_};
  for (const RecipientPlan* r : with_action(m, action_reported_by(w.kind)))
    request.recipient_ids.push_back(r->id);
  const Held* h = w.held;
  DsnKind kind = w.kind;
  auto build_it = [this, h, kind](const std::string& id) -> Result<std::string> {
    auto dsn = build(*h, kind, id, false);
    if (dsn) return dsn;
    spdlog::warn("{}: no DSN with the whole original ({}); trying its headers only", h->m->queue_id,
                 dsn.error().message);
    auto shorter = build(*h, kind, id, true);
    if (shorter) return shorter;
    return make_error("no DSN can be built: " + shorter.error().message, ErrorKind::refused);
  };
  return {std::move(request), build_it};
}

Result<std::string> Executor::build(const Held& h, DsnKind kind, const std::string& dsn_message_id,
                                    bool headers_only) const {
  const MessagePlan& m = *h.m;
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
  in.original = h.copy.content;
  in.original_is_headers_only = headers_only || h.part == ContentPart::headers_only;
  in.size_limit = static_cast<std::size_t>(config_.bounce_size_limit);
  return build_dsn(in);
}

void Executor::expire_silently(const std::vector<MessagePlan*>& messages) {
  Transaction transaction(db_);
  for (const MessagePlan* m : messages) {
    for (const RecipientPlan* r : with_action(*m, RecipientAction::expire_silent)) {
      set_recipient_state(db_, RecipientRef{r->id, m->queue_id, r->address},
                          RecipientState::expired, r->why, clock_.act_now);
      spdlog::info("{}", recipient_action_line(*m, *r, clock_.act_now, ""));
      ++summary_.counts.expired;
    }
  }
  transaction.commit();
}

// One removal from hold for all of them, then one commit for those removed.
// A message not removed stays on hold, marked: the next run removes it.
void Executor::remove_from_hold(const std::vector<MessagePlan*>& messages,
                                const std::string& detail) {
  if (messages.empty()) return;
  std::vector<std::string> ids;
  ids.reserve(messages.size());
  for (const MessagePlan* m : messages) ids.push_back(m->queue_id);
  const std::vector<Status> removed = mta_.remove_held(ids);
  Transaction transaction(db_);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const MessagePlan& m = *messages[i];
    if (!removed[i]) {
      note_error(m, "removing it from hold failed (" + mta_.how_to_remove_held(m.queue_id) +
                        "): " + removed[i].error().message);
      continue;
    }
    std::vector<std::string> addresses;
    for (const RecipientPlan& r : m.recipients) {
      if (r.leaves_queue()) addresses.push_back(r.address);
    }
    mark_removed(db_, m.id, m.queue_id, addresses, detail, clock_.act_now);
    spdlog::info("{}", removed_line(m));
    ++summary_.counts.removed;
  }
  transaction.commit();
}

// Survivors first, in copies; then the DSNs; then the original leaves
// hold. Nothing is bounced unless the survivors are safe in their copies.
Status Executor::split(Held& h) {
  MessagePlan& m = *h.m;
  auto copies = reinject_survivors(h);
  if (!copies) {
    const bool ours = m.held_by_sweeper;
    put_back({&m});
    return make_error("re-injecting the survivors failed, nothing was bounced; the original " +
                      std::string(ours ? "went back where it was" : "stays on hold (an admin's)") +
                      ": " + copies.error().message);
  }
  kill_point("reinjected");
  record_copies(m, *copies);
  std::vector<std::string> copy_ids;
  for (const Copy& c : *copies) copy_ids.push_back(c.queue_id);
  spdlog::info("{}", split_line(m.queue_id, copy_ids));
  ++summary_.counts.split;
  std::vector<DsnWant> wants;
  for (DsnKind kind : {DsnKind::delayed, DsnKind::failed}) {
    if (!with_action(m, action_reported_by(kind)).empty()) wants.push_back({&h, kind});
  }
  const std::vector<DsnFate> fates = send_dsns(wants);
  for (std::size_t i = 0; i < wants.size(); ++i) {
    if (wants[i].kind != DsnKind::failed || fates[i] == DsnFate::sent) continue;
    if (fates[i] == DsnFate::given_up) return ok_status();
    return make_error("survivors re-injected; its failure DSN is not sent yet: it stays on hold");
  }
  expire_silently({&m});
  remove_from_hold({&m}, "expired; the other recipients re-injected as " + joined(copy_ids));
  return ok_status();
}

// The copies an interrupted run made, plus new ones for the survivors they
// do not hold. An admin's hold on the original is put on every copy.
Result<std::vector<Executor::Copy>> Executor::reinject_survivors(const Held& h) {
  const MessagePlan& m = *h.m;
  std::vector<Copy> copies = copies_from_interrupted_run(m);
  std::vector<std::string> missing;
  for (const std::string& address : m.survivors) {
    const bool covered = std::any_of(copies.begin(), copies.end(), [&](const Copy& c) {
      return std::any_of(c.addresses.begin(), c.addresses.end(),
                         [&](const std::string& a) { return iequals(a, address); });
    });
    if (!covered) missing.push_back(address);
  }
  auto made = reinject_in_chunks(h, missing);
  if (!made) return made.error();
  copies.insert(copies.end(), made->begin(), made->end());
  if (m.queued->held && !m.held_by_sweeper) {
    for (const Copy& c : copies) {
      if (Status held = mta_.hold(c.queue_id); !held)
        note_error(m, "the copy " + c.queue_id +
                          " of a message on hold is not held: " + held.error().message);
    }
  }
  return copies;
}

// Chunks of at most recipients_per_copy (the MTA refuses more in one
// message). A chunk that fails takes back the copies made before it.
Result<std::vector<Executor::Copy>> Executor::reinject_in_chunks(
    const Held& h, const std::vector<std::string>& addresses) {
  std::vector<Copy> made;
  if (addresses.empty()) return made;
  if (!recipients_per_copy_) {
    auto limit = mta_.recipients_per_copy();
    if (!limit) return make_error("how many recipients a copy may have: " + limit.error().message);
    recipients_per_copy_ = *limit;
  }
  const std::size_t chunk = *recipients_per_copy_ == 0 ? addresses.size() : *recipients_per_copy_;
  const std::string content = with_reinjected_header(h.copy.content, h.m->queue_id);
  for (std::size_t start = 0; start < addresses.size(); start += chunk) {
    Copy copy;
    std::vector<ReinjectRecipient> recipients;
    for (std::size_t i = start; i < std::min(start + chunk, addresses.size()); ++i) {
      copy.addresses.push_back(addresses[i]);
      recipients.push_back({addresses[i], h.copy.envelope.dsn_for(addresses[i])});
    }
    auto id = mta_.reinject(content, h.copy.envelope.envelope, recipients);
    if (!id) {
      for (const Copy& c : made) {
        if (Status gone = mta_.remove(c.queue_id); !gone)
          spdlog::error("{}: its copy {} could not be taken back: {}", h.m->queue_id, c.queue_id,
                        gone.error().message);
      }
      return make_error("re-injecting " + std::to_string(recipients.size()) +
                        " survivor(s): " + id.error().message);
    }
    spdlog::debug("{}: {} survivor(s) re-injected as {}", h.m->queue_id, recipients.size(), *id);
    copy.queue_id = *id;
    made.push_back(std::move(copy));
  }
  return made;
}

// A run killed after re-injecting left its copies in the queue: use them
// rather than delivering the survivors twice.
std::vector<Executor::Copy> Executor::copies_from_interrupted_run(const MessagePlan& m) {
  std::vector<Copy> copies;
  for (const QueuedMessage* candidate : m.copy_candidates) {
    auto headers = mta_.read_content(candidate->queue_id, ContentPart::headers_only);
    if (!headers || !names_original(*headers, m.queue_id)) continue;
    spdlog::info("{}: survivors were re-injected as {} by an interrupted run", m.queue_id,
                 candidate->queue_id);
    Copy copy{candidate->queue_id, {}};
    for (const QueuedRecipient& r : candidate->recipients) copy.addresses.push_back(r.address);
    copies.push_back(std::move(copy));
  }
  return copies;
}

// The survivors' rows move to their copies (same state, original clock).
void Executor::record_copies(const MessagePlan& m, const std::vector<Copy>& copies) {
  Transaction transaction(db_);
  for (const Copy& c : copies) {
    std::vector<std::int64_t> moving;
    for (const RecipientPlan& r : m.recipients) {
      const bool in_copy = std::any_of(c.addresses.begin(), c.addresses.end(),
                                       [&](const std::string& a) { return iequals(a, r.address); });
      if (r.keeps_waiting() && r.id != 0 && in_copy) moving.push_back(r.id);
    }
    if (!moving.empty()) move_survivors(db_, m.id, c.queue_id, moving, clock_.real_now);
  }
  transaction.commit();
}

}  // namespace etrn
