"""test_milter_postgres.py - etrn-milter (as user postfix) in front of a
private real Postfix, its database a PostgreSQL URI on the session's private
cluster (the `postgres` fixture, postgres_testbed.py):

- mail for an ETRN domain is recorded in PostgreSQL (etrn_audit), and the
  milter's log names the database without the password its URI holds;
- PostgreSQL stopped during a load: Postfix queues every message (none
  rejected or tempfailed: on_error = accept), each message whose record
  could not be written is logged with its queue ID and counted, and once
  PostgreSQL is back the milter records again by itself. Every queued
  message is then either in etrn_audit or named in a "NOT recorded" line,
  and the next sweep adopts exactly the latter.

The milter runs with record_timeout = 1s, as in test_milter_faults.py.
"""

from __future__ import annotations

import re
import subprocess
import time

from postfix_testbed import ETRN_DOMAIN
from sweeper_helpers import sweep_ok

LOAD = 300
UNDER_FAULT = 30
SESSIONS = 10
LOAD_RCPT = f"load@{ETRN_DOMAIN}"
MILTER_SETTINGS = {"record_timeout": "1s"}
# Postfix's default timers: with the testbed's 2 s ones, qmgr would rescan
# the deferred load every few seconds while the test counts it.
QUIET_TIMERS = dict(queue_run_delay="300s", minimal_backoff_time="300s",
                    maximal_backoff_time="4000s")
PASSWORD = "s3cret-in-the-uri"


def smtp_source(env, count: int) -> subprocess.Popen:
    return subprocess.Popen(
        ["smtp-source", "-s", str(SESSIONS), "-m", str(count), "-l", "1000",
         "-f", "sender@sender.example", "-t", LOAD_RCPT, f"127.0.0.1:{env.testbed.port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finished_without_refusal(load: subprocess.Popen) -> None:
    out, err = load.communicate(timeout=180)
    assert load.returncode == 0, (
        f"smtp-source exited {load.returncode}: Postfix refused mail\n"
        f"{out.decode(errors='replace')}{err.decode(errors='replace')}")


def queued_load(env) -> set[str]:
    return {m["queue_id"] for m in env.testbed.postqueue_json()
            if any(r["address"] == LOAD_RCPT for r in m["recipients"])}


def recorded_load(env) -> set[str]:
    try:
        return {row[0] for row in env.rows("SELECT queue_id FROM etrn_audit WHERE recipient = ?",
                                           (LOAD_RCPT,))}
    except subprocess.CalledProcessError:  # the server is down
        return set()


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def not_recorded_in_log(env) -> set[str]:
    return set(re.findall(r"(\w+): NOT recorded, accepting \(on_error = accept\)",
                          env.milter.log()))


def with_password_in_uri(env) -> None:
    uri = str(env.database)
    env.config.write_text(env.config.read_text().replace(
        f"database = {uri}", f"database = {uri}&password={PASSWORD}"))


def test_mail_for_an_etrn_domain_is_recorded_in_postgresql(make_milter_postfix, postgres):
    env = make_milter_postfix(postgres=postgres, before_start=with_password_in_uri)
    queue_id = env.testbed.send("alice@sender.example", f"bob@{ETRN_DOMAIN}", subject="hello")
    other = env.testbed.send("alice@sender.example", "carol@elsewhere.example")
    env.wait_for_audit(queue_id)

    got = postgres.query(env.database, "SELECT queue_id, sender, recipient, domain, state"
                                       " FROM etrn_audit ORDER BY queue_id")
    want = [[queue_id, "alice@sender.example", f"bob@{ETRN_DOMAIN}", ETRN_DOMAIN, "queued"]]
    assert got == want, f"got etrn_audit {got}, want {want} (not {other})"
    log = env.milter.log()
    assert f"{queue_id}: recorded" in log
    # The URI as the log shows it: the database and the host, no parameter more.
    shown = env.database.split("&")[0]
    assert f"(database {shown}," in log, f"the start line names the database:\n{log}"
    assert PASSWORD not in log, f"the password is in the milter's log:\n{log}"


def test_postgresql_down_during_a_load_loses_only_records_and_recording_resumes(
        make_milter_postfix, postgres, bin_dir):
    env = make_milter_postfix(postgres=postgres, extra_milter=MILTER_SETTINGS,
                              before_start=lambda e: e.testbed.main_cf_set(**QUIET_TIMERS))
    load = smtp_source(env, LOAD)
    wait_for(lambda: len(recorded_load(env)) >= 20 or load.poll() is not None, 60,
             "the first records of the load")

    postgres.pause()
    try:
        # A record waiting from the start of the outage (the load may be
        # over already), and then past record_timeout: the records of the
        # messages sent now are refused for sure.
        probe = env.testbed.send("alice@sender.example", f"bob@{ETRN_DOMAIN}", subject="probe")
        time.sleep(1.5)
        under_fault = smtp_source(env, UNDER_FAULT)
        finished_without_refusal(load)
        finished_without_refusal(under_fault)
        wait_for(lambda: len(queued_load(env)) >= LOAD + UNDER_FAULT, 30, "the load in the queue")
        assert len(queued_load(env)) == LOAD + UNDER_FAULT
        assert len(not_recorded_in_log(env)) >= UNDER_FAULT, env.milter.log()[-3000:]
        assert "cannot record" in env.milter.log()
    finally:
        postgres.resume()

    # The writer retries a failing server every commit_interval; the
    # records of the outage may still be late for a moment.
    env.records_again(timeout=30)
    env.wait_for_audit(probe)  # held in memory through the outage, written after it
    queued = queued_load(env)
    recorded, not_recorded = recorded_load(env), not_recorded_in_log(env)
    assert not recorded & not_recorded, f"both recorded and not: {recorded & not_recorded}"
    assert queued <= recorded | not_recorded, (
        f"{len(queued - recorded - not_recorded)} queued messages neither recorded nor logged "
        f"as NOT recorded; milter log:\n{env.milter.log()[-3000:]}")
    # The milter's own count of what it could not record, at its stop.
    assert env.milter.stop() == 0
    stopped = re.search(r"etrn-milter stopped: (\d+) recorded, (\d+) not recorded",
                        env.milter.log())
    assert stopped and int(stopped.group(2)) == len(not_recorded), env.milter.log()[-2000:]

    # The host's sweeper adopts what the outage left unrecorded: every
    # queued message is then in etrn_audit, each lost record adopted once.
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+1h")
    assert queued_load(env) == queued, "the sweep an hour on leaves the load queued"
    assert recorded_load(env) >= queued, f"not in etrn_audit: {queued - recorded_load(env)}"
    adopted = {q for [q] in env.rows("SELECT queue_id FROM etrn_events WHERE kind = 'adopted' "
                                     "AND recipient = ?", (LOAD_RCPT,))}
    assert adopted == not_recorded & queued, (
        f"adopted but recorded: {adopted - not_recorded}; "
        f"lost but not adopted: {(not_recorded & queued) - adopted}")


def test_a_raw_latin1_subject_is_recorded_and_stalls_no_other_record(make_milter_postfix, postgres,
                                                                     bin_dir):
    """PostgreSQL refuses text that is not UTF-8; such a header once failed
    the milter's whole batch at every retry, and the sweeper's adoption of
    it every run. Now it is recorded as it came, beside the rest, and the
    sweeper expires it with its DSN."""
    env = make_milter_postfix(postgres=postgres)
    tb = env.testbed
    raw = (b"From: alice@sender.example\r\nTo: bob@" + ETRN_DOMAIN.encode() +
           b"\r\nSubject: caf\xe9 cr\xe8me\r\n\r\nLatin-1, undeclared.\r\n")
    odd = tb.send("alice@sender.example", f"bob@{ETRN_DOMAIN}", message=raw)
    plain = tb.send("alice@sender.example", f"carol@{ETRN_DOMAIN}", subject="plain")
    env.wait_for_audit(odd)
    env.wait_for_audit(plain)
    assert "NOT recorded" not in env.milter.log()
    stored = postgres.query(env.database, f"SELECT subject FROM messages WHERE queue_id = '{odd}'")
    assert stored == [["caf\U0010fee9 cr\U0010fee8me"]], "bytes mapped to private-use code points"
    assert postgres.query(env.database, "SELECT DISTINCT instance FROM etrn_audit") == \
        [[tb.hostname]], "the batch written over arrays names its host (the MTA's j macro)"

    tb.wait_until_deferred(odd)
    result = subprocess.run([str(bin_dir / "etrn-sweeper"), "-c", str(env.config), "sweep",
                             "--now", "+49h", "--future-now"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert len(tb.wait_for_mailbox("alice", 2)) == 2
    states = postgres.query(env.database, "SELECT queue_id, state FROM etrn_audit ORDER BY 1")
    assert sorted(states) == sorted([[odd, "expired"], [plain, "expired"]])
