"""test_sweeper_safety.py - etrn-sweeper's promises under trouble, on a
real Postfix: mail queued while the milter was down is adopted and
expires; a run killed (SIGKILL, through the ETRN_SWEEPER_TEST_KILL_AFTER
test hook) at each step and run again sends each DSN exactly once; a
concurrent run exits 75; --dry-run changes nothing; a host renamed
(myhostname) keeps its SQLite store's open records.
"""

from __future__ import annotations

import fcntl
import os
import signal
import sqlite3
import subprocess

import pytest

from sweeper_helpers import (SENDER, judge, mailbox_count, outbox_rows, queued_and_recorded,
                             run_sweeper, settle, sweep_killed_after, sweep_ok)

BOB = "bob@customer.example"
CAROL = "carol@customer.example"


def snapshot(database):
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    try:
        return {table: con.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                for table in ("messages", "recipients", "events", "outbox")}
    finally:
        con.close()


def test_mail_queued_while_the_milter_was_down_is_adopted_and_expires(postfix, bin_dir):
    tb = postfix
    (tb.dir / "db").mkdir()
    database = tb.dir / "db" / "etrn.db"
    config = tb.write_etrn_config(tb.dir / "etrn-sweeper.conf", database=database)
    qid = tb.send(SENDER, [BOB, "dave@elsewhere.example"], rcpt_options=("NOTIFY=FAILURE,DELAY",),
                  subject="nobody recorded me")
    tb.wait_until_deferred(qid)

    sweep_ok(bin_dir, config, "sweep", "--now", "+49h")

    assert judge(tb.wait_for_mailbox("alice", 1)[0])["permanent"] == [BOB]
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    adopted = con.execute("SELECT queue_id, recipient FROM etrn_events WHERE kind = 'adopted'").fetchall()
    audit = con.execute("SELECT queue_id, recipient, state FROM etrn_audit").fetchall()
    con.close()
    assert adopted == [(qid, BOB)], f"got {adopted}: only the ETRN recipient is adopted"
    assert audit == [(qid, BOB, "expired")]
    assert qid not in tb.queue_ids()


@pytest.mark.parametrize("step", ["outbox-written", "submitting", "dsn-submitted", "finalized"])
def test_a_run_killed_at_any_step_and_run_again_sends_each_dsn_once(milter_postfix, bin_dir, step):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = queued_and_recorded(env, [BOB, CAROL], f"killed at {step}")

    sweep_killed_after(bin_dir, env.config, step)
    if step in ("outbox-written", "submitting", "dsn-submitted"):
        assert qid in tb.queue_ids(), "nothing is removed before the DSN is recorded as sent"

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+50h")
    dsns = tb.wait_for_mailbox("alice", 1)
    settle(tb)
    assert mailbox_count(tb) == 1, f"killed after {step}: got {mailbox_count(tb)} DSNs, want exactly 1"
    assert judge(dsns[0])["permanent"] == [BOB, CAROL]
    assert qid not in tb.queue_ids()
    assert {r["state"] for r in env.audit_for(qid)} == {"expired"}
    assert [row[3] is not None for row in outbox_rows(env.database)] == [True]
    # A DSN that recovery submitted again is in the history as such (had the
    # children been killed in the middle of its submission, it could be a
    # duplicate); one the sent log shows as accepted is only finalized.
    resubmitted = env.rows("SELECT recipient FROM etrn_events WHERE kind = 'dsn_resubmitted' "
                           "ORDER BY recipient")
    # ("submitting": the parent dies, its children finish and log.)
    want = [BOB, CAROL] if step == "outbox-written" else []
    assert [r["recipient"] for r in resubmitted] == want, f"killed after {step}"
    spool = env.database.parent / "outgoing"
    assert not (spool.exists() and list(spool.iterdir())), "sent logs and spool files are cleaned up"


def test_a_renamed_host_keeps_its_open_records_in_its_sqlite_store(milter_postfix, bin_dir):
    """myhostname changes (instance unset): the records the milter wrote
    under the old name stay this host's, so the sweep neither adopts the
    message again nor loses sight of it; it expires with one DSN."""
    env, tb = milter_postfix, milter_postfix.testbed
    qid = queued_and_recorded(env, [BOB], "recorded before the rename")
    assert [r["instance"] for r in env.audit_for(qid)] == [tb.hostname]

    tb.main_cf_set(myhostname="mx-renamed.provider.example")
    first = sweep_ok(bin_dir, env.config, "sweep", "--now", "+1h")
    assert f"1 open message(s) recorded as host {tb.hostname} are now this host's " \
           "(mx-renamed.provider.example)" in first.stderr, first.stderr
    assert [(r["instance"], r["state"]) for r in env.audit_for(qid)] == \
        [("mx-renamed.provider.example", "queued")]
    adopted = env.rows("SELECT count(*) AS n FROM etrn_events WHERE kind = 'adopted'")
    assert adopted[0]["n"] == 0, "the sweep took its own recorded mail for unrecorded"
    again = sweep_ok(bin_dir, env.config, "sweep", "--now", "+2h")
    assert "recorded as host" not in again.stderr, again.stderr

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    assert judge(tb.wait_for_mailbox("alice", 1)[0])["permanent"] == [BOB]
    settle(tb)
    assert mailbox_count(tb) == 1
    assert qid not in tb.queue_ids()


def test_a_concurrent_run_exits_75_and_says_why(milter_postfix, bin_dir):
    env = milter_postfix
    with open(f"{env.database}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_sweeper(bin_dir, env.config, "sweep")
    assert result.returncode == 75, f"got {result.returncode}: {result.stderr}"
    assert "another etrn-sweeper run" in result.stderr


def test_dry_run_prints_the_plan_and_changes_nothing(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = queued_and_recorded(env, BOB, "only a forecast")
    before = snapshot(env.database)

    result = sweep_ok(bin_dir, env.config, "sweep", "--dry-run", "--now", "+49h")

    assert qid in result.stdout and "failure DSN" in result.stdout, result.stdout
    settle(tb)
    assert snapshot(env.database) == before, "the database is unchanged"
    assert qid in tb.queue_ids() and mailbox_count(tb) == 0
    assert not (env.database.parent / "outgoing").exists()
    assert not os.path.exists(f"{env.database}.lock")


def test_report_and_shape_show_the_recorded_mail(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = tb.send(SENDER, [BOB, CAROL], subject="for the report")
    env.wait_for_audit(qid, 2)
    report = sweep_ok(bin_dir, env.config, "report", "--json", "--state", "queued")
    lines = report.stdout.splitlines()
    assert len(lines) == 2 and all(f'"queue_id":"{qid}"' in line for line in lines), report.stdout
    shape = sweep_ok(bin_dir, env.config, "shape").stdout.splitlines()
    assert shape[1].split()[:3] == ["TOTAL", "2", "2"], shape
    assert shape[2].split()[:2] == ["customer.example", "2"], shape


@pytest.mark.parametrize("step", ["held", "finalized", "reinjected"])
def test_a_split_killed_midway_bounces_once_and_delivers_the_survivor_once(milter_postfix, bin_dir, step):
    env, tb = milter_postfix, milter_postfix.testbed
    dave = "dave@elsewhere.example"
    qid = queued_and_recorded(env, [BOB, dave], f"split killed at {step}", recorded=1)

    sweep_killed_after(bin_dir, env.config, step)
    assert any(m["queue_id"] == qid and m["queue_name"] == "hold" for m in tb.postqueue_json()), \
        "the original waits in the hold queue"

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    tb.start_site_sink()
    tb.flush()
    tb.wait_for_queue(lambda q: not q, timeout=60)
    settle(tb)
    assert mailbox_count(tb) == 1, f"killed after {step}: got {mailbox_count(tb)} DSNs, want 1"
    assert judge(tb.mailbox_messages("alice")[0])["permanent"] == [BOB]
    site = tb.site_messages()
    assert len(site) == 1, f"got {len(site)} deliveries of the survivor, want 1"


@pytest.mark.parametrize("step", ["held", "reinjected", "outbox-written", "submitting",
                                  "dsn-submitted", "finalized"])
def test_a_split_killed_midway_warns_the_survivor_once_and_records_every_dsn(
        milter_postfix, bin_dir, step):
    """Issue 15's split duplicate: the survivor's warning is due at the rerun
    of a run killed anywhere in a split. Killed before recording the copy,
    the rerun must not adopt the copy; killed after, it must not adopt the
    survivor into the held original again (the soak found that one). The
    rerun sends one delay DSN for the survivor and one failure DSN for the
    expired recipient, and each DSN sent leaves an event."""
    env, tb = milter_postfix, milter_postfix.testbed
    # erin's domain expires later: at +49h bob expires and erin is only warned.
    env.config.write_text(env.config.read_text().replace(
        "etrn_domains =", "domain_policy = transport-only.example expire_after=5d\netrn_domains =", 1))
    erin = "erin@transport-only.example"
    queued_and_recorded(env, [BOB, erin], f"split killed at {step}, warning due")

    sweep_killed_after(bin_dir, env.config, step)
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")  # and nothing more after that
    settle(tb)

    verdicts = [judge(m) for m in tb.mailbox_messages("alice")]
    failed = [v["permanent"] for v in verdicts if v["permanent"]]
    delayed = [v["temporary"] for v in verdicts if v["temporary"] and not v["permanent"]]
    assert failed == [[BOB]], f"failure DSNs: {failed}"
    assert delayed == [[erin]], f"delay DSNs: {delayed}, want exactly one for {erin}"
    outbox = [row for row in outbox_rows(env.database) if row[3] is not None]
    assert sorted(row[1] for row in outbox) == ["delayed", "failed"], outbox
    con = sqlite3.connect(f"file:{env.database}?mode=ro", uri=True, timeout=10)
    try:
        events = con.execute("SELECT kind, recipient FROM etrn_events "
                             "WHERE kind IN ('warned', 'expired') ORDER BY kind").fetchall()
    finally:
        con.close()
    assert events == [("expired", BOB), ("warned", erin)], \
        f"every DSN sent leaves one event: {events}"


def test_recovery_does_not_send_a_failure_dsn_for_mail_that_left_the_queue(milter_postfix, bin_dir):
    """Issue 12: a run killed with a failure DSN in its outbox, then the
    message leaves the queue (here an admin deletes it; delivery on ETRN is
    the same to the sweeper). The rerun must not tell the sender it failed:
    the row is closed as dsn_dropped and no DSN goes out."""
    env, tb = milter_postfix, milter_postfix.testbed
    qid = queued_and_recorded(env, [BOB], "gone before the DSN")

    sweep_killed_after(bin_dir, env.config, "outbox-written")
    assert [row for row in outbox_rows(env.database) if row[3] is None], "a DSN waits in the outbox"
    subprocess.run(["postsuper", "-c", str(tb.dir), "-d", qid], check=True, capture_output=True)
    assert qid not in tb.queue_ids()

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    settle(tb)
    assert mailbox_count(tb) == 0, "no DSN for mail that left the queue"
    con = sqlite3.connect(f"file:{env.database}?mode=ro", uri=True, timeout=10)
    try:
        dropped = con.execute("SELECT queue_id FROM etrn_events WHERE kind = 'dsn_dropped'").fetchall()
        sent = con.execute("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL").fetchone()[0]
    finally:
        con.close()
    assert dropped == [(qid,)], f"dsn_dropped events: {dropped}"
    assert sent == 0


def test_a_dsn_taken_by_the_mta_before_its_child_died_is_resent_and_the_history_says_so(
        milter_postfix, bin_dir):
    """The window README's guarantees name: a submission child killed after
    the MTA accepted a DSN and before it logged that. The DSN goes out
    again (a duplicate with the same Message-ID, never a loss), and the
    history shows the resubmission."""
    env, tb = milter_postfix, milter_postfix.testbed
    qid = queued_and_recorded(env, [BOB], "child killed after the MTA took the DSN")

    run_sweeper(bin_dir, env.config, "sweep", "--now", "+49h",
                env_extra={"ETRN_SWEEPER_TEST_KILL_AFTER": "child-submitted"})
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+50h")
    tb.wait_for_mailbox("alice", 2)
    settle(tb)
    dsns = tb.mailbox_messages("alice")
    assert len(dsns) == 2, f"got {len(dsns)} DSNs: the first copy and the resent one"
    assert dsns[0]["Message-ID"] == dsns[1]["Message-ID"], "the same DSN, sent twice"
    assert qid not in tb.queue_ids()
    events = env.rows("SELECT kind, detail FROM etrn_events WHERE recipient = ? AND kind IN "
                      "('dsn_deferred', 'bounce_sent') ORDER BY at, rowid", (BOB,))
    assert [e["kind"] for e in events] == ["dsn_deferred", "bounce_sent"], [tuple(e) for e in events]
    assert "if it did, the retry is a duplicate" in events[0]["detail"], events[0]["detail"]


def test_sigterm_to_the_whole_group_while_dsns_go_out_sends_each_dsn_once(milter_postfix, bin_dir):
    """What systemctl stop, a shutdown or Ctrl-C does: SIGTERM to the sweeper
    and its submission children at once, here right after the MTA accepted
    the first of two DSNs (the moment a SIGKILL makes a duplicate). The
    child holds the signal back until that DSN is logged and submits
    nothing more; the rerun finishes the logged one and submits the other,
    saying no copy of it went out: one DSN per message."""
    env, tb = milter_postfix, milter_postfix.testbed
    first = queued_and_recorded(env, [BOB], "stopped while its DSN goes out")
    second = queued_and_recorded(env, [CAROL], "stopped before its DSN goes out")

    stopped = run_sweeper(bin_dir, env.config, "sweep", "--now", "+49h", own_group=True,
                          env_extra={"ETRN_SWEEPER_TEST_KILL_AFTER": "child-submitted",
                                     "ETRN_SWEEPER_TEST_KILL_SIGNAL": "TERM-group"})
    assert stopped.returncode == -signal.SIGTERM, f"exit {stopped.returncode}: {stopped.stderr}"
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    tb.wait_for_mailbox("alice", 2)
    settle(tb)
    dsns = tb.mailbox_messages("alice")
    assert len(dsns) == 2, f"got {len(dsns)} DSNs, want one per message"
    assert len({d["Message-ID"] for d in dsns}) == 2, [d["Message-ID"] for d in dsns]
    assert first not in tb.queue_ids() and second not in tb.queue_ids()
    resubmitted = env.rows("SELECT recipient, detail FROM etrn_events WHERE kind = 'dsn_resubmitted'")
    assert len(resubmitted) == 1, [tuple(r) for r in resubmitted]
    assert "logged that the MTA had not taken it" in resubmitted[0]["detail"], \
        resubmitted[0]["detail"]
    sent = env.rows("SELECT recipient FROM etrn_events WHERE kind = 'bounce_sent' ORDER BY recipient")
    assert [r["recipient"] for r in sent] == [BOB, CAROL]
