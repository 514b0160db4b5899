"""test_sweeper_postfix.py - etrn-sweeper against a real Postfix with the
real etrn-milter: expiry with a DSN read by independent bounce parsers,
delay warnings, departure after ETRN, partial expiry, null sender and
NOTIFY=NEVER, RET=HDRS with ENVID, held mail, a second run.
"""

from __future__ import annotations

import subprocess

import pytest

from sweeper_helpers import (SENDER, age_records, delivery_status_fields, judge, mailbox_count,
                             outbox_rows, settle, sweep_ok)

BOB = "bob@customer.example"
CAROL = "carol@customer.example"


def states(env, queue_id):
    return {row["recipient"]: row["state"] for row in env.audit_for(queue_id)}


def events(env, kind):
    return env.rows("SELECT * FROM etrn_events WHERE kind = ? ORDER BY at", (kind,))


def test_two_recipients_expire_with_one_dsn_read_as_permanent_failures(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = tb.send(SENDER, [BOB, CAROL], subject="will expire")
    env.wait_for_audit(qid, 2)
    tb.wait_until_deferred(qid)

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")

    dsns = tb.wait_for_mailbox("alice", 1)
    verdict = judge(dsns[0])
    assert verdict["permanent"] == [BOB, CAROL], f"got {verdict}, want both permanent"
    assert verdict["temporary"] == []
    groups = delivery_status_fields(dsns[0])
    assert {g.get("status") for g in groups[1:]} == {"5.4.7"}
    assert {g.get("action") for g in groups[1:]} == {"failed"}
    assert qid not in tb.queue_ids(), "the expired message is removed from the queue"
    assert states(env, qid) == {BOB: "expired", CAROL: "expired"}
    assert len(events(env, "bounce_sent")) == 2 and len(events(env, "removed")) == 2

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+50h")
    settle(tb)
    assert mailbox_count(tb) == 1, "a second run sends nothing new"
    assert len(outbox_rows(env.database)) == 1


def test_a_delay_warning_is_read_as_temporary_and_sent_once(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = tb.send(SENDER, BOB, subject="will be late")
    env.wait_for_audit(qid)
    tb.wait_until_deferred(qid)

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+5h")
    dsns = tb.wait_for_mailbox("alice", 1)
    verdict = judge(dsns[0])
    assert verdict["temporary"] == [BOB] and verdict["permanent"] == [], f"got {verdict}"
    fields = delivery_status_fields(dsns[0])[1]
    assert fields.get("action") == "delayed" and fields.get("status") == "4.4.7"
    assert "will-retry-until" in fields
    assert states(env, qid) == {BOB: "warned"}
    assert qid in tb.queue_ids(), "a warning leaves the mail queued"

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+6h")
    settle(tb)
    assert mailbox_count(tb) == 1, "warned once per recipient"


def test_mail_fetched_by_etrn_before_expiry_departs_without_a_dsn(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = tb.send(SENDER, BOB, subject="fetched in time")
    env.wait_for_audit(qid)
    tb.wait_until_deferred(qid)
    tb.start_site_sink()
    code, _ = tb.etrn("customer.example")
    assert code == 250
    tb.wait_for_queue(lambda q: all(m["queue_id"] != qid for m in q), timeout=30)
    age_records(env.database)  # past the sweeper's grace for just-recorded mail

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    settle(tb)
    assert states(env, qid) == {BOB: "departed"}
    assert mailbox_count(tb) == 0, "no DSN for delivered mail"
    assert len(tb.site_messages()) == 1


def test_partial_expiry_bounces_the_expired_and_delivers_the_others(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    dave = "dave@elsewhere.example"
    qid = tb.send(SENDER, [BOB, dave], subject="partly expiring")
    env.wait_for_audit(qid, 1)
    tb.wait_until_deferred(qid)

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")

    dsns = tb.wait_for_mailbox("alice", 1)
    verdict = judge(dsns[0])
    assert verdict["permanent"] == [BOB], f"got {verdict}, want only bob"
    queue = tb.postqueue_json()
    assert qid not in [m["queue_id"] for m in queue], "the original is removed"
    copies = [m for m in queue if any(r["address"] == dave for r in m["recipients"])]
    assert len(copies) == 1, f"the survivor is queued again once; queue: {queue}"
    assert [r["address"] for r in copies[0]["recipients"]] == [dave]

    tb.start_site_sink()
    tb.flush()
    tb.wait_for_queue(lambda q: not q, timeout=60)
    received = b"".join(tb.site_messages())
    assert b"X-ETRN-Sweeper-Reinjected: " + qid.encode() in received
    assert b"partly expiring" in received
    assert BOB.encode() not in b"\n".join(
        line for line in received.splitlines() if line.lower().startswith(b"rcpt")), "bob never delivered"
    assert states(env, qid) == {BOB: "expired"}


ERIN = "erin@transport-only.example"


def with_erin_expiring_after_5d(make_milter_postfix):
    """An instance where erin's domain (routed by transport) expires after
    5 days: at +49h bob expires and erin survives, warned."""
    return make_milter_postfix(before_start=lambda e: e.testbed.write_etrn_config(
        e.config, database=e.database, socket=e.socket, user="postfix",
        extra_top={"domain_policy": "transport-only.example expire_after=5d"}))


def test_a_recorded_survivor_keeps_its_clock_in_the_reinjected_copy(make_milter_postfix, bin_dir):
    env = with_erin_expiring_after_5d(make_milter_postfix)
    tb, erin = env.testbed, ERIN
    qid = tb.send(SENDER, [BOB, erin], subject="one expires, one waits")
    rows = env.wait_for_audit(qid, 2)
    arrival = rows[0]["arrival_time"]

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    verdicts = [judge(m) for m in tb.wait_for_mailbox("alice", 2)]
    assert sorted(v["permanent"] + v["temporary"] for v in verdicts) == [[BOB], [erin]], (
        f"got {verdicts}: bob bounced, erin (warned at 4h, expiring at 5d) warned")
    erin_rows = [r for r in env.rows() if r["recipient"] == erin]
    assert len(erin_rows) == 1, f"one row for the survivor, got {[dict(r) for r in erin_rows]}"
    assert erin_rows[0]["queue_id"] != qid and erin_rows[0]["state"] == "warned"
    assert erin_rows[0]["arrival_time"] == arrival, "the survivor keeps the original arrival time"
    copy = erin_rows[0]["queue_id"]
    assert copy in tb.queue_ids()

    # The milter meets the copy when pickup hands it to cleanup, maybe after
    # the run: the next run comes once the milter has seen it (and left it
    # to the sweeper; a record of it would be merged).
    env.milter.wait_for_log(f"{copy}: a copy the sweeper re-injected")
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    erin_rows = [r for r in env.rows() if r["recipient"] == erin]
    assert len(erin_rows) == 1 and erin_rows[0]["state"] == "warned", [dict(r) for r in erin_rows]
    settle(tb)
    assert mailbox_count(tb) == 2, "no second warning from the re-injected copy"
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+121h")
    verdicts = [judge(m) for m in tb.wait_for_mailbox("alice", 3)]
    assert [erin] in [v["permanent"] for v in verdicts], f"got {verdicts}"
    assert copy not in tb.queue_ids()


def test_a_split_beside_quiet_mail_is_planned_from_every_record_and_entry(make_milter_postfix,
                                                                          bin_dir):
    """A sweep leaves quiet messages (nothing due) out of its memory; a split
    looks for copies among every queue entry, so a run with one plans again
    from everything, and the quiet message is still left as it was."""
    env = with_erin_expiring_after_5d(make_milter_postfix)
    tb, erin = env.testbed, ERIN
    splitting = tb.send(SENDER, [BOB, erin], subject="splits at 49h")
    quiet = tb.send(SENDER, [erin], subject="quiet at 49h")
    env.wait_for_audit(splitting, 2)
    env.wait_for_audit(quiet, 1)
    tb.wait_until_deferred(splitting)
    tb.wait_until_deferred(quiet)
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+5h")  # every recipient warned
    tb.wait_for_mailbox("alice", 2)  # one delay DSN per message

    result = sweep_ok(bin_dir, env.config, "--verbose", "sweep", "--now", "+49h")
    assert "planning again with every record and entry" in result.stderr, result.stderr
    assert "expired 1" in result.stdout and "split 1" in result.stdout, result.stdout
    verdicts = [judge(m) for m in tb.wait_for_mailbox("alice", 3)]
    assert [BOB] in [v["permanent"] for v in verdicts], f"got {verdicts}"
    settle(tb)
    assert mailbox_count(tb) == 3, "one failure DSN, nothing for the quiet message"
    assert states(env, quiet) == {erin: "warned"}
    assert quiet in tb.queue_ids() and splitting not in tb.queue_ids()


@pytest.mark.parametrize("mail_options,rcpt_options,why", [
    ((), ("NOTIFY=NEVER",), "NOTIFY=NEVER"),
    (("NULL",), (), "null sender"),
])
def test_no_dsn_for_notify_never_or_a_null_sender_but_the_mail_is_removed(
        milter_postfix, bin_dir, mail_options, rcpt_options, why):
    env, tb = milter_postfix, milter_postfix.testbed
    sender = "" if mail_options == ("NULL",) else SENDER
    qid = tb.send(sender, BOB, rcpt_options=rcpt_options, subject="no dsn wanted")
    env.wait_for_audit(qid)
    tb.wait_until_deferred(qid)

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    settle(tb)
    assert qid not in tb.queue_ids()
    assert mailbox_count(tb) == 0 and mailbox_count(tb, "other") == 0, f"no DSN with {why}"
    assert states(env, qid) == {BOB: "expired"}
    detail = [e["detail"] for e in events(env, "expired")]
    assert any(why in (d or "") for d in detail), f"got {detail}, want the reason {why}"


def test_ret_hdrs_returns_headers_only_and_the_envelope_id(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = tb.send(SENDER, BOB, mail_options=("RET=HDRS", "ENVID=env+2Bid-42"),
                  rcpt_options=("NOTIFY=FAILURE", "ORCPT=rfc822;bob@customer.example"),
                  body="SECRET BODY LINE\n", subject="headers only")
    env.wait_for_audit(qid)
    tb.wait_until_deferred(qid)

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    dsn = tb.wait_for_mailbox("alice", 1)[0]
    types = [p.get_content_type() for p in dsn.get_payload()]
    assert types[-1] == "text/rfc822-headers", f"got parts {types}"
    assert b"SECRET BODY LINE" not in dsn.as_bytes()
    assert b"headers only" in dsn.as_bytes()
    groups = delivery_status_fields(dsn)
    # RFC 3464 leaves open whether the field carries ENVID decoded or as given.
    assert groups[0].get("original-envelope-id") in ("env+id-42", "env+2Bid-42")
    assert groups[1].get("original-recipient", "").lower().replace(" ", "") == "rfc822;bob@customer.example"


def test_held_mail_expires_like_the_rest(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = tb.send(SENDER, BOB, subject="on hold")
    env.wait_for_audit(qid)
    tb.wait_until_deferred(qid)
    subprocess.run(["/usr/sbin/postsuper", "-c", str(tb.dir), "-h", qid], check=True, env=tb.env,
                   capture_output=True)
    tb.wait_for_queue(lambda q: any(m["queue_id"] == qid and m["queue_name"] == "hold" for m in q))

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    assert judge(tb.wait_for_mailbox("alice", 1)[0])["permanent"] == [BOB]
    assert qid not in tb.queue_ids()


def test_a_changed_configuration_applies_to_recorded_mail_at_the_next_run(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = tb.send(SENDER, BOB, rcpt_options=("NOTIFY=FAILURE",), subject="policy changes")
    env.wait_for_audit(qid)
    tb.wait_until_deferred(qid)
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+30h")
    assert states(env, qid) == {BOB: "queued"}, "48h by default: not yet"

    env.config.write_text(env.config.read_text().replace(
        "etrn_domains =", "domain_policy = customer.example expire_after=1d\netrn_domains =", 1))
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+30h")
    assert states(env, qid) == {BOB: "expired"}
    row = env.audit_for(qid)[0]
    assert row["expires_at"] == row["arrival_time"] + 86400, "deadline recomputed from arrival"
    assert judge(tb.wait_for_mailbox("alice", 1)[0])["permanent"] == [BOB]
