"""test_sendmail_sweeper.py - ETRN Sweeper end to end on the real Sendmail
8.17 (Debian's packages, run from a private directory: sendmail_testbed.py)
with the real etrn-milter in front of it (INPUT_MAIL_FILTER): recording,
warnings and expiry, adoption, splits, busy and damaged queue files, and
the expiry protocol (the qf locked from the DSN to the unlink, the DSN to
the qf's sender, Sendmail's own $j as Reporting-MTA).

Every etrn-sweeper run here gets a dotted host name of its own (a UTS
namespace), since each Sendmail command it runs would otherwise sleep 60 s
on a test machine whose short name does not resolve."""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import MilterProcess, _leave_or_remove, db_rows
from sendmail_testbed import SendmailTestbed, with_qualified_hostname
from sweeper_helpers import SENDER, age_records, delivery_status_fields, judge, sweeper_argv

BOB = "bob@customer.example"           # in etrn_domains
TOM = "tom@transport-only.example"     # ETRN only through mailertable -> dsmtp


class MilterSendmail:
    """A Sendmail testbed, with or without the real etrn-milter."""

    def __init__(self, bin_dir: Path, with_milter: bool, extra_top: dict | None = None):
        self.bin_dir = bin_dir
        self.testbed = SendmailTestbed()
        d = self.testbed.dir
        self.socket_path = d / "milter.sock"
        if with_milter:
            self.testbed.milter_socket = f"unix:{self.socket_path}"
            self.testbed._write_instance()
        db_dir = d / "db"
        db_dir.mkdir()
        postfix = pwd.getpwnam("postfix")
        os.chown(db_dir, postfix.pw_uid, postfix.pw_gid)
        self.database = db_dir / "etrn.db"
        self.config = self.testbed.write_etrn_config(
            d / "etrn-sweeper.conf", database=self.database,
            socket=f"unix:{self.socket_path}", extra_top=extra_top)
        self.milter = (MilterProcess(bin_dir / "etrn-milter", self.config, d / "milter.log",
                                     self.socket_path) if with_milter else None)

    def start(self) -> None:
        if self.milter:
            self.milter.start()
        self.testbed.start()

    def sweep(self, *args: str, want: int = 0, env_extra: dict | None = None
              ) -> subprocess.CompletedProcess:
        result = subprocess.run(sweeper_argv(self.bin_dir, self.config, *args),
                                capture_output=True, text=True, timeout=300,
                                preexec_fn=with_qualified_hostname,
                                env={**os.environ, **(env_extra or {})})
        assert result.returncode == want, (
            f"etrn-sweeper {' '.join(args)}: exit {result.returncode}, want {want}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        return result

    def states(self, queue_id: str) -> dict:
        if not self.database.exists():
            return {}
        return {r["recipient"]: r["state"] for r in db_rows(
            self.database, "SELECT recipient, state FROM etrn_audit WHERE queue_id = ?",
            (queue_id,))}

    def events(self, kind: str) -> list:
        return db_rows(self.database, "SELECT * FROM etrn_events WHERE kind = ?", (kind,))

    def wait_for_states(self, queue_id: str, count: int, timeout: float = 15) -> dict:
        deadline = time.time() + timeout
        while len(self.states(queue_id)) < count:
            if time.time() > deadline:
                log = self.milter.log() if self.milter else ""
                raise TimeoutError(f"{queue_id}: {self.states(queue_id)}; milter log:\n{log}")
            time.sleep(0.1)
        return self.states(queue_id)


@pytest.fixture
def make_sendmail(request, bin_dir):
    made: list[MilterSendmail] = []

    def make(with_milter: bool = True, extra_top: dict | None = None) -> MilterSendmail:
        env = MilterSendmail(bin_dir, with_milter, extra_top)
        made.append(env)
        env.start()
        return env

    yield make
    for env in made:
        env.testbed.stop()
        rc = env.milter.stop() if env.milter else 0
        _leave_or_remove(request, env.testbed)
        assert rc == 0, f"etrn-milter exited {rc} on SIGTERM, want 0"


def test_mail_to_a_dsmtp_site_is_recorded_under_sendmails_queue_id(make_sendmail):
    env = make_sendmail()
    tb = env.testbed
    qid = tb.send(SENDER, [BOB, TOM, "carol@sender.example"], subject="recorded")
    states = env.wait_for_states(qid, 2)
    assert states == {BOB: "queued", TOM: "queued"}, (
        f"got {states}; TOM is ETRN-only only through {{rcpt_mailer}} = dsmtp")
    assert qid in tb.queue_files(), "the recorded ID must be the one Sendmail queued it under"
    mailers = {r["recipient"]: r["detail"] for r in db_rows(
        env.database, "SELECT recipient, detail FROM etrn_events WHERE kind = 'recorded'")}
    assert set(mailers) == {BOB, TOM}


def test_sendmail_negotiates_the_no_reply_steps_and_states_the_size(make_sendmail):
    """Sendmail 8.17 agrees to what the milter asks (no body, no reply to
    connect, HELO, MAIL, RCPT, headers and end of headers); with F=T a
    failed negotiation or a broken reply would tempfail every message. Mail
    without an ETRN-only recipient is accepted at DATA and passes; the size
    recorded is Sendmail's own {msg_size}, the body never being seen."""
    env = make_sendmail()
    tb = env.testbed
    body = "x" * 3000 + "\n"
    other = tb.send(SENDER, ["carol@sender.example"], subject="not for ETRN", body=body)
    qid = tb.send(SENDER, [BOB], subject="sized", body=body)
    env.wait_for_states(qid, 1)
    size = db_rows(env.database, "SELECT size FROM messages WHERE queue_id = ?", (qid,))[0]["size"]
    assert size is not None and size > 3000, f"got size {size}, want Sendmail's {{msg_size}}"
    assert env.states(other) == {}
    assert "claimed not to reply" not in env.milter.log()


def test_a_delay_warning_then_an_expiry_dsn_are_read_as_temporary_then_permanent(make_sendmail):
    env = make_sendmail()
    tb = env.testbed
    qid = tb.send(SENDER, BOB, mail_options=["ENVID=sm+2Dtest"],
                  rcpt_options=["NOTIFY=FAILURE,DELAY", "ORCPT=rfc822;Bob@customer.example"],
                  subject="waits for its site")
    env.wait_for_states(qid, 1)

    env.sweep("sweep", "--now", "+5h")
    warning = tb.wait_for_mailbox("alice", 1)[0]
    verdict = judge(warning)
    assert [a.lower() for a in verdict["temporary"]] == [BOB] and verdict["permanent"] == [], \
        verdict
    assert env.states(qid) == {BOB: "warned"}
    assert qid in tb.queue_files(), "a warning leaves the mail queued"

    env.sweep("sweep", "--now", "+49h")
    dsns = tb.wait_for_mailbox("alice", 2)
    verdict = judge(dsns[1])
    assert [a.lower() for a in verdict["permanent"]] == [BOB] and verdict["temporary"] == [], \
        verdict
    fields = delivery_status_fields(dsns[1])
    assert fields[0].get("original-envelope-id") == "sm-test", fields
    assert fields[1]["status"] == "5.4.7" and fields[1]["action"] == "failed", fields
    assert fields[1].get("original-recipient", "").lower().replace(" ", "") == \
        "rfc822;bob@customer.example", fields
    assert dsns[1]["Return-Path"] in (None, "<>")
    assert env.states(qid) == {BOB: "expired"}
    assert qid not in tb.queue_files(), "the expired message must leave Sendmail's queue"
    assert not list((tb.dir / "mqueue").glob(f"q*/df/df{qid}")), "its df file too"

    env.sweep("sweep", "--now", "+60h")
    time.sleep(2)
    assert len(tb.mailbox_messages("alice")) == 2, "a second run sends nothing new"


def test_several_messages_expire_in_one_run_each_dsn_through_its_own_sendmail(make_sendmail):
    # Not one `sendmail -bs` for the batch, as on Postfix: Sendmail forgets
    # -M{client_addr} after a conversation's first message, and the next
    # RCPT fails its relay check ("550 5.7.1 Relaying denied", seen).
    env = make_sendmail()
    tb = env.testbed
    calls = tb.dir / "sendmail-calls.log"
    calls.touch()
    calls.chmod(0o666)
    logged = tb.dir / "sendmail-logged"
    logged.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {tb.sendmail} "$@"\n')
    logged.chmod(0o755)
    env.config.write_text(env.config.read_text().replace(
        f"sendmail_program = {tb.sendmail}", f"sendmail_program = {logged}"))
    subjects = {}
    for i in range(4):
        qid = tb.send(SENDER, BOB, subject=f"bulk {i}")
        env.wait_for_states(qid, 1)
        subjects[qid] = f"bulk {i}"

    env.sweep("sweep", "--now", "+49h")

    dsns = tb.wait_for_mailbox("alice", len(subjects))
    returned = sorted(d.get_payload()[2].get_payload()[0]["Subject"] for d in dsns)
    assert returned == sorted(subjects.values()), "each DSN returns its own message"
    for dsn in dsns:
        assert [a.lower() for a in judge(dsn)["permanent"]] == [BOB]
    assert not set(subjects) & set(tb.queue_files()), "every expired message left the queue"
    lines = calls.read_text().splitlines()
    assert not any("-bs" in line.split() for line in lines), lines
    assert sum(line.endswith("-i -f <> -- alice@sender.example") for line in lines) == \
        len(subjects), f"one sendmail -i per DSN; got {lines}"


def test_etrn_before_expiry_delivers_to_the_site_and_the_recipient_departs(make_sendmail):
    env = make_sendmail()
    tb = env.testbed
    qid = tb.send(SENDER, BOB, subject="fetched in time")
    env.wait_for_states(qid, 1)
    tb.start_site()
    code, text = tb.etrn("customer.example")
    assert code == 250, text
    tb.wait_for_queue(lambda files: qid not in files, timeout=30)
    age_records(env.database)  # past the sweeper's grace for just-recorded mail

    env.sweep("sweep", "--now", "+49h")
    assert env.states(qid) == {BOB: "departed"}
    assert len(tb.site_messages()) == 1
    time.sleep(1)
    assert tb.mailbox_messages("alice") == [], "no DSN for delivered mail"


def test_a_message_the_listing_misses_is_found_by_its_qf_and_reopened_if_it_departed(
        make_sendmail):
    env = make_sendmail()
    tb = env.testbed
    qid = tb.send(SENDER, BOB, subject="hide and seek")
    env.wait_for_states(qid, 1)
    age_records(env.database)  # past the sweeper's grace for just-recorded mail

    env.sweep("sweep", "--now", "+1h", env_extra={"ETRN_SWEEPER_TEST_UNLISTED": qid})
    assert env.states(qid) == {BOB: "queued"}, "the direct look at its qf found it"
    assert env.events("departed") == []

    env.sweep("sweep", "--now", "+2h", env_extra={"ETRN_SWEEPER_TEST_UNLISTED_TWICE": qid})
    assert env.states(qid) == {BOB: "departed"}
    env.sweep("sweep", "--now", "+3h")
    assert env.states(qid) == {BOB: "queued"}
    assert [e["recipient"] for e in env.events("reopened")] == [BOB]
    assert env.events("adopted") == [], "reopened, not adopted as new mail"

    env.sweep("sweep", "--now", "+49h")
    dsns = tb.wait_for_mailbox("alice", 1)
    assert [a.lower() for a in judge(dsns[0])["permanent"]] == [BOB]
    assert qid not in tb.queue_files()


def test_unrecorded_etrn_mail_is_adopted_by_domain_or_by_its_dsmtp_mailer(make_sendmail):
    env = make_sendmail(with_milter=False)
    tb = env.testbed
    by_domain = tb.send(SENDER, BOB, subject="never recorded 1")
    by_mailer = tb.send(SENDER, TOM, subject="never recorded 2")

    env.sweep("sweep")
    adopted = {r["queue_id"] for r in env.events("adopted")}
    assert adopted == {by_domain, by_mailer}, f"got {adopted}"
    assert env.states(by_mailer) == {TOM: "queued"}

    env.sweep("sweep", "--now", "+49h")
    verdicts = [judge(m) for m in tb.wait_for_mailbox("alice", 2)]
    assert sorted(a for v in verdicts for a in v["permanent"]) == sorted([BOB, TOM]), verdicts
    assert tb.queue_files() == {}

    env.sweep("sweep", "--now", "+50h")
    time.sleep(2)
    assert len(tb.mailbox_messages("alice")) == 2, "a second run sends nothing new"


def test_partial_expiry_bounces_one_recipient_and_keeps_the_other_queued(make_sendmail):
    env = make_sendmail(extra_top={"domain_policy": "transport-only.example expire_after=2h"})
    tb = env.testbed
    qid = tb.send(SENDER, [BOB, TOM], rcpt_options=["NOTIFY=FAILURE"], subject="split")
    env.wait_for_states(qid, 2)

    env.sweep("sweep", "--now", "+3h")
    verdict = judge(tb.wait_for_mailbox("alice", 1)[0])
    assert verdict["permanent"] == [TOM], verdict
    assert qid not in tb.queue_files(), "the original (quarantined meanwhile) is removed"
    copies = tb.queue_files()
    assert len(copies) == 1, f"want one re-injected copy for {BOB}, got {copies}"
    copy_text = next(iter(copies.values())).read_text(errors="replace")
    assert f"<{BOB}>" in copy_text and TOM not in copy_text.split("\nH")[0]
    assert "RPNF:" in copy_text, "the survivor keeps NOTIFY=FAILURE in the copy"
    states = {r["recipient"]: r["state"] for r in db_rows(
        env.database, "SELECT recipient, state FROM etrn_audit")}
    assert states[TOM] == "expired" and states[BOB] == "queued", states
    copy_id = next(iter(copies))
    story = env.sweep("history", qid).stdout
    assert f"message {qid} (" in story and f"message {copy_id} (reinjected)" in story, story
    assert env.sweep("history", copy_id).stdout == story, "the copy's queue ID tells the same story"

    tb.start_site()
    assert tb.etrn("customer.example")[0] == 250
    tb.wait_for_queue(lambda files: files == {}, timeout=30)
    assert len(tb.site_messages()) == 1


def test_a_message_sendmail_has_locked_is_left_for_the_next_run(make_sendmail):
    env = make_sendmail()
    tb = env.testbed
    qid = tb.send(SENDER, BOB, subject="locked")
    env.wait_for_states(qid, 1)
    qf = tb.queue_files()[qid]
    with open(qf, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as Sendmail does while it works on it
        result = env.sweep("sweep", "--now", "+49h", "--verbose")
        assert qf.exists(), "a busy message must not be removed"
        assert env.states(qid) == {BOB: "queued"}, "busy is neither expired nor departed"
    time.sleep(1)
    assert tb.mailbox_messages("alice") == [], f"no DSN while busy; {result.stdout}"

    env.sweep("sweep", "--now", "+49h")
    assert env.states(qid) == {BOB: "expired"}
    assert not qf.exists()
    assert len(tb.wait_for_mailbox("alice", 1)) == 1


def test_a_damaged_queue_file_is_logged_and_left_alone(make_sendmail):
    env = make_sendmail(with_milter=False)
    tb = env.testbed
    qid = tb.send(SENDER, BOB, subject="will be damaged")
    qf = tb.queue_files()[qid]
    damaged = qf.read_text(errors="replace").replace("\n.\n", "\n")  # cut short
    qf.write_text(damaged)
    result = env.sweep("sweep", "--now", "+49h")
    assert "damaged" in result.stderr and qid in result.stderr, result.stderr
    assert qf.read_text(errors="replace") == damaged, "a damaged file is never acted on"
    assert not env.database.exists() or env.states(qid) == {}
    time.sleep(1)
    assert tb.mailbox_messages("alice") == []


def test_shape_and_report_work_on_sendmail_as_on_postfix(make_sendmail):
    env = make_sendmail()
    tb = env.testbed
    qid = tb.send(SENDER, [BOB, TOM], subject="shape me")
    env.wait_for_states(qid, 2)
    shape = env.sweep("shape").stdout
    assert "customer.example" in shape and "transport-only.example" in shape, shape
    report = env.sweep("report", "--json").stdout
    rows = [json.loads(line) for line in report.splitlines() if line.strip()]
    assert {(r["queue_id"], r["recipient"], r["state"]) for r in rows} == {
        (qid, BOB, "queued"), (qid, TOM, "queued")}, rows


@pytest.mark.parametrize("step", ["held", "finalized", "reinjected"])
def test_a_split_killed_midway_bounces_once_and_delivers_the_survivor_once(make_sendmail, step):
    env = make_sendmail(extra_top={"domain_policy": "transport-only.example expire_after=2h"})
    tb = env.testbed
    qid = tb.send(SENDER, [BOB, TOM], subject=f"split killed at {step}")
    env.wait_for_states(qid, 2)

    killed = subprocess.run(sweeper_argv(env.bin_dir, env.config, "sweep", "--now", "+3h"),
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "ETRN_SWEEPER_TEST_KILL_AFTER": step},
                            preexec_fn=with_qualified_hostname)
    assert killed.returncode == -signal.SIGKILL, f"got exit {killed.returncode}: {killed.stderr}"
    assert tb.queue_files()[qid].name.startswith("hf"), "the original waits quarantined"

    env.sweep("sweep", "--now", "+3h")
    env.sweep("sweep", "--now", "+3h")
    tb.start_site()
    assert tb.etrn("customer.example")[0] == 250
    tb.wait_for_queue(lambda files: files == {}, timeout=30)
    time.sleep(1)
    dsns = tb.mailbox_messages("alice")
    assert len(dsns) == 1, f"killed after {step}: got {len(dsns)} DSNs, want 1"
    assert judge(dsns[0])["permanent"] == [TOM]
    assert len(tb.site_messages()) == 1, "the survivor is delivered once"


# ---- the expiry protocol on Sendmail ---------------------------------------------


def lock_probing_sendmail(tb, queue_id: str, log: Path) -> Path:
    """A sendmail_program that, asked to submit a DSN (-f <>), first notes
    whether the expiring message's queue file is locked, then runs Sendmail."""
    wrapper = tb.dir / "sendmail-probing"
    wrapper.write_text(f"""#!/usr/bin/python3
import fcntl, glob, os, sys
args = sys.argv[1:]
if "-f" in args and args[args.index("-f") + 1] == "<>":
    state = "gone"
    for path in glob.glob("{tb.dir}/mqueue/q*/qf/[qh]f{queue_id}"):
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            state = "free"
        except BlockingIOError:
            state = "locked"
        os.close(fd)
    with open("{log}", "a") as out:
        out.write(state + "\\n")
os.execv("{tb.sendmail}", ["{tb.sendmail}"] + args)
""")
    wrapper.chmod(0o755)
    return wrapper


def test_the_queue_file_stays_locked_from_the_dsn_to_its_removal(make_sendmail):
    env = make_sendmail()
    tb = env.testbed
    qid = tb.send(SENDER, BOB, subject="locked while reported")
    env.wait_for_states(qid, 1)
    log = tb.dir / "lock-states.log"
    env.config.write_text(env.config.read_text().replace(
        f"sendmail_program = {tb.sendmail}",
        f"sendmail_program = {lock_probing_sendmail(tb, qid, log)}"))

    env.sweep("sweep", "--now", "+49h")

    assert [a.lower() for a in judge(tb.wait_for_mailbox("alice", 1)[0])["permanent"]] == [BOB]
    assert log.read_text().split() == ["locked"], \
        "Sendmail could not touch the message while its DSN was submitted"
    assert qid not in tb.queue_files()


def test_the_dsn_goes_to_the_qf_sender_not_to_what_was_recorded(make_sendmail):
    env = make_sendmail()
    tb = env.testbed
    qid = tb.send(SENDER, BOB, subject="whose DSN")
    env.wait_for_states(qid, 1)
    con = sqlite3.connect(env.database)
    con.execute("UPDATE messages SET sender = 'alice' WHERE queue_id = ?", (qid,))
    con.commit()
    con.close()

    env.sweep("sweep", "--now", "+49h")

    dsn = tb.wait_for_mailbox("alice", 1)[0]
    assert dsn["To"] == f"<{SENDER}>", "the qf's S line, not the recorded MAIL FROM"
    assert [a.lower() for a in judge(dsn)["permanent"]] == [BOB]


def test_without_reporting_mta_the_dsn_names_sendmails_own_host_name(make_sendmail):
    env = make_sendmail()
    tb = env.testbed
    env.config.write_text(re.sub(r"^reporting_mta = .*\n", "", env.config.read_text(), flags=re.M))
    qid = tb.send(SENDER, BOB, subject="who reports")
    env.wait_for_states(qid, 1)

    env.sweep("sweep", "--now", "+49h")

    dsn = tb.wait_for_mailbox("alice", 1)[0]
    assert delivery_status_fields(dsn)[0]["reporting-mta"] == f"dns; {tb.hostname}", \
        "Sendmail's $j, asked with sendmail -bt"
