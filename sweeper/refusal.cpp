// refusal.cpp - DSNs that cannot be delivered (see refusal.hpp).
#include "sweeper/refusal.hpp"

#include <spdlog/spdlog.h>

#include "common/dsn/mime_parts.hpp"
#include "common/dsn/postmaster_notice.hpp"
#include "common/store/sweep_store.hpp"
#include "sweeper/action_log.hpp"

namespace etrn {

namespace {

constexpr std::string_view kRefusedEvent = "dsn_refused";
constexpr std::string_view kNotifiedEvent = "postmaster_notified";

}  // namespace

RefusalHandler::RefusalHandler(Database& db, Mta& mta, std::string postmaster,
                               std::string reporting_mta)
    : db_(db),
      mta_(mta),
      postmaster_(std::move(postmaster)),
      reporting_mta_(std::move(reporting_mta)) {}

void RefusalHandler::give_up(const UndeliverableDsn& undeliverable, EpochSeconds now) {
  const DsnRequest& dsn = undeliverable.dsn;
  const std::string& reason = undeliverable.reason;
  const bool failed = dsn.kind == DsnKind::failed;
  const std::string what = std::string(failed ? "failure" : "delay") + " DSN not deliverable: ";
  std::vector<std::string> recipients;
  {
    Transaction transaction(db_);
    if (undeliverable.outbox_id) close_outbox(db_, *undeliverable.outbox_id, now, reason);
    for (std::int64_t id : dsn.recipient_ids) {
      auto ref = recipient_ref(db_, id);
      if (!ref) continue;
      recipients.push_back(ref->address);
      append_event(db_, now, ref->queue_id, ref->address, kRefusedEvent, what + reason);
      set_recipient_state(db_, *ref, failed ? RecipientState::attention : RecipientState::warned,
                          failed ? "kept on hold; the postmaster is told" : "no delay DSN: refused",
                          now);
    }
    transaction.commit();
  }
  if (!failed) {
    spdlog::warn("{}", attention_line(dsn.queue_id, recipients, dsn.kind, what + reason,
                                      "the warning is given up"));
    return;
  }
  attention_.push_back(dsn.queue_id);
  spdlog::warn(
      "{}", attention_line(dsn.queue_id, recipients, dsn.kind, what + reason,
                           "kept on hold for a person: " + mta_.how_to_release_held(dsn.queue_id) +
                               ", or " + mta_.how_to_remove_held(dsn.queue_id)));
  notify_postmaster(undeliverable, recipients, now);
}

void RefusalHandler::notify_postmaster(const UndeliverableDsn& undeliverable,
                                       const std::vector<std::string>& recipients,
                                       EpochSeconds now) {
  const DsnRequest& dsn = undeliverable.dsn;
  PostmasterNoticeInput in;
  in.reporting_mta = reporting_mta_;
  in.postmaster = postmaster_;
  in.message_id = "etrn-attention-" + std::to_string(dsn.message_id) + "." + dsn.queue_id + "@" +
                  reporting_mta_;
  in.now = now;
  in.queue_id = dsn.queue_id;
  in.sender = dsn.sender;
  in.recipients = recipients;
  in.reason = undeliverable.reason;
  in.refused_headers = header_section(normalize_line_ends(undeliverable.dsn_text));
  in.how_to_release = mta_.how_to_release_held(dsn.queue_id);
  in.how_to_remove = mta_.how_to_remove_held(dsn.queue_id);
  auto notice = build_postmaster_notice(in);
  Status sent = notice ? mta_.submit_dsn(*notice, postmaster_) : Status(notice.error());
  if (!sent) {
    spdlog::error("{}: cannot tell the postmaster <{}>: {}", dsn.queue_id, postmaster_,
                  sent.error().message);
    return;
  }
  Transaction transaction(db_);
  for (const std::string& recipient : recipients)
    append_event(db_, now, dsn.queue_id, recipient, kNotifiedEvent, "to <" + postmaster_ + ">");
  transaction.commit();
}

}  // namespace etrn
