"""test_sweeper_matching.py - etrn-sweeper on a real Postfix whose queue does
not look like the milter's records: recipients matched the way the MTA
sees them (virtual_alias_maps, recipient_canonical_maps,
recipient_bcc_maps after the milter), a second transport in
defer_transports that is not ETRN, and a message a listing misses (made
deterministic with the sweeper's ETRN_SWEEPER_TEST_UNLISTED hook).
Every DSN received is judged by tests/tools/judge_dsn.py.
"""

from __future__ import annotations

from milter_testbed import db_rows
from sweeper_helpers import (SENDER, age_records, delivery_status_fields, judge, mailbox_count,
                             run_sweeper, settle, sweep_ok)

TEAM = "team@customer.example"
A = "a@customer.example"
B = "b@customer.example"
BOB = "bob@customer.example"
ROBERT = "robert@customer.example"
CAROL = "carol@customer.example"
ARCHIVE = "archive@transport-only.example"  # ETRN only through its transport


def audit(env, queue_id) -> dict:
    return {row["recipient"]: row["state"] for row in env.audit_for(queue_id)}


def events(env, kind) -> list:
    return env.rows("SELECT * FROM etrn_events WHERE kind = ? ORDER BY at", (kind,))


def wait_deferred(tb, queue_id) -> dict:
    """The message's listing once Postfix has deferred it (not in flight)."""
    def deferred(m):
        return m["queue_id"] == queue_id and m["queue_name"] == "deferred"
    return next(m for m in tb.wait_for_queue(lambda q: any(map(deferred, q))) if deferred(m))


def postfix_with_map(make_milter_postfix, parameter: str, text: str):
    """A Postfix with the real milter, `parameter` naming a map of `text`."""
    return make_milter_postfix(before_start=lambda e: e.testbed.main_cf_set(
        **{parameter: e.testbed.write_map(parameter, text)}))


def send_recorded(env, to, subject: str) -> tuple[str, list]:
    """Sends; waits for the record and the deferral; the queue ID and the
    queued recipients."""
    qid = env.testbed.send(SENDER, to, subject=subject)
    env.wait_for_audit(qid)
    return qid, sorted(r["address"] for r in wait_deferred(env.testbed, qid)["recipients"])


def original_recipients(dsn) -> dict:
    """Final-Recipient -> Original-Recipient (normalized) of each recipient block."""
    out = {}
    for fields in delivery_status_fields(dsn)[1:]:
        final = fields.get("final-recipient", "").split(";", 1)[-1].strip().lower()
        out[final] = fields.get("original-recipient", "").replace(" ", "").lower()
    return out


def db_events(database, kind: str = "adopted") -> list:
    return db_rows(database, "SELECT * FROM etrn_events WHERE kind = ?", (kind,))


def judge_team_dsn(dsn, failed: str) -> dict:
    """Judges a DSN about a@ and b@, which the MTA made of team@: Mailman's
    parser reports the address the sender used (Original-Recipient), Sisimai
    each final recipient."""
    verdict = judge(dsn)
    other = "temporary" if failed == "permanent" else "permanent"
    assert verdict[failed] == [TEAM] and verdict[other] == [], f"got {verdict}"
    assert sorted(r["recipient"] for r in verdict["sisimai"]) == [A, B], f"got {verdict}"
    assert original_recipients(dsn) == {A: f"rfc822;{TEAM}", B: f"rfc822;{TEAM}"}
    return verdict


def sweep_with(bin_dir, config, *args, **env_extra):
    result = run_sweeper(bin_dir, config, *args, env_extra=env_extra)
    assert result.returncode == 0, (
        f"etrn-sweeper {' '.join(args)} with {env_extra}: exit {result.returncode}, want 0\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def test_an_alias_expanded_into_two_etrn_recipients_warns_and_expires_both_as_the_alias(
        make_milter_postfix, bin_dir):
    env = postfix_with_map(make_milter_postfix, "virtual_alias_maps", f"{TEAM} {A}, {B}\n")
    tb = env.testbed
    qid, queued = send_recorded(env, TEAM, "to the team")
    assert queued == [A, B], "Postfix expanded it"
    assert audit(env, qid) == {TEAM: "queued"}, "the milter saw team@ only"

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+5h")
    verdict = judge_team_dsn(tb.wait_for_mailbox("alice", 1)[0], "temporary")
    assert {r["action"] for r in verdict["sisimai"]} == {"delayed"}
    assert audit(env, qid) == {A: "warned", B: "warned"}, "team@'s row became a@ and b@"
    expanded = events(env, "expanded")
    assert [(e["recipient"], e["detail"]) for e in expanded] == [
        (TEAM, f"queued by the MTA as {A} {B}")], [dict(e) for e in expanded]
    assert not events(env, "departed"), "the alias never departed"

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    verdict = judge_team_dsn(tb.wait_for_mailbox("alice", 2)[1], "permanent")
    assert {r["reason"] for r in verdict["sisimai"]} == {"expired"}
    assert audit(env, qid) == {A: "expired", B: "expired"}
    assert qid not in tb.queue_ids()


def test_a_recipient_rewritten_by_canonical_maps_is_followed_not_departed(
        make_milter_postfix, bin_dir):
    env = postfix_with_map(make_milter_postfix, "recipient_canonical_maps", f"{BOB} {ROBERT}\n")
    tb = env.testbed
    qid, queued = send_recorded(env, BOB, "to bob")
    assert queued == [ROBERT]
    age_records(env.database)  # whatever the grace, nothing may depart

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+1h")
    assert audit(env, qid) == {ROBERT: "queued"}
    assert not events(env, "departed")

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    dsn = tb.wait_for_mailbox("alice", 1)[0]
    verdict = judge(dsn)
    assert verdict["permanent"] == [BOB], f"got {verdict}: the address the sender used"
    assert [r["recipient"] for r in verdict["sisimai"]] == [ROBERT], f"got {verdict}"
    assert original_recipients(dsn) == {ROBERT: f"rfc822;{BOB}"}
    assert audit(env, qid) == {ROBERT: "expired"} and qid not in tb.queue_ids()


def test_a_recipient_added_after_the_milter_is_adopted_into_the_recorded_message(
        make_milter_postfix, bin_dir):
    env = postfix_with_map(make_milter_postfix, "recipient_bcc_maps", f"{CAROL} {ARCHIVE}\n")
    tb = env.testbed
    qid, queued = send_recorded(env, CAROL, "copied to the archive")
    assert queued == [ARCHIVE, CAROL]

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+1h")
    assert audit(env, qid) == {CAROL: "queued", ARCHIVE: "queued"}
    assert len(env.rows("SELECT * FROM messages WHERE queue_id = ?", (qid,))) == 1, (
        "one message row: the archive copy joined it")
    assert [e["recipient"] for e in events(env, "adopted")] == [ARCHIVE]

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    verdict = judge(tb.wait_for_mailbox("alice", 1)[0])
    assert verdict["permanent"] == [CAROL], (
        f"got {verdict}: Postfix gives a bcc NOTIFY=NEVER, so no DSN reports it")
    assert audit(env, qid) == {CAROL: "expired", ARCHIVE: "expired"}
    assert qid not in tb.queue_ids()
    settle(tb)
    assert mailbox_count(tb) == 1


def test_mail_held_by_another_deferred_transport_is_never_adopted_nor_expired(postfix, bin_dir,
                                                                             tmp_path):
    tb = postfix
    tb.add_deferred_transport("slowlane", "slow.example")
    config = tb.write_etrn_config(tmp_path / "etrn.conf", database=tmp_path / "etrn.db")
    slow = tb.send(SENDER, "x@slow.example", subject="held back by an outage")
    site = tb.send(SENDER, "erin@transport-only.example", subject="for the ETRN site")
    mixed = tb.send(SENDER, [BOB, "y@slow.example"], subject="both")
    queue = tb.wait_for_queue(lambda q: len(q) == 3 and {m["queue_name"] for m in q} == {"deferred"})
    reasons = {r.get("delay_reason") for m in queue for r in m["recipients"]}
    assert reasons == {"deferred transport"}, f"all look alike in the listing: {reasons}"

    sweep_ok(bin_dir, config, "sweep", "--now", "+1h")
    adopted = {(e["queue_id"], e["recipient"]) for e in db_events(tmp_path / "etrn.db")}
    assert adopted == {(site, "erin@transport-only.example"), (mixed, BOB)}, f"got {adopted}"

    sweep_ok(bin_dir, config, "sweep", "--now", "+49h")
    verdicts = sorted(judge(m)["permanent"] for m in tb.wait_for_mailbox("alice", 2))
    assert verdicts == [[BOB], ["erin@transport-only.example"]], f"got {verdicts}"
    queue = tb.postqueue_json()
    assert slow in [m["queue_id"] for m in queue], "ordinary mail is the MTA's business"
    held = sorted(r["address"] for m in queue for r in m["recipients"])
    assert held == ["x@slow.example", "y@slow.example"], f"got {queue}"
    settle(tb)
    assert mailbox_count(tb) == 2, "no DSN for the slow lane's mail"


def test_a_message_one_listing_misses_stays_and_a_departed_one_listed_again_is_reopened(
        milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid, _ = send_recorded(env, BOB, "hide and seek")
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+5h")
    assert judge(tb.wait_for_mailbox("alice", 1)[0])["temporary"] == [BOB]
    age_records(env.database)  # past the grace for just-recorded mail

    sweep_with(bin_dir, env.config, "sweep", "--now", "+6h", ETRN_SWEEPER_TEST_UNLISTED=qid)
    assert audit(env, qid) == {BOB: "warned"}, "a second listing found it"
    assert not events(env, "departed")

    sweep_with(bin_dir, env.config, "sweep", "--now", "+7h", ETRN_SWEEPER_TEST_UNLISTED_TWICE=qid)
    assert audit(env, qid) == {BOB: "departed"}, "missing from both looks: it departs"

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+8h")
    assert audit(env, qid) == {BOB: "warned"}, "reopened as it was: warned"
    assert [e["recipient"] for e in events(env, "reopened")] == [BOB]
    assert not events(env, "adopted"), "reopened, not adopted as new mail"
    assert len(env.rows("SELECT * FROM messages WHERE queue_id = ?", (qid,))) == 1
    settle(tb)
    assert mailbox_count(tb) == 1, "no second delay warning"

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    assert judge(tb.wait_for_mailbox("alice", 2)[1])["permanent"] == [BOB]
    assert qid not in tb.queue_ids() and audit(env, qid) == {BOB: "expired"}
