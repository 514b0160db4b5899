"""test_milter_faults.py - etrn-milter in front of a private real Postfix
under load (smtp-source, LOAD messages over SESSIONS sessions, every one to
an ETRN-only recipient), with a fault injected while the load runs:

    locked      another process holds the database's write lock
    read-only   the database files and directory made read-only (and the
                milter restarted, since files it has open stay writable)
    full        the database's file system (a small tmpfs) filled up
    deleted     the database, -wal and -shm removed
    SIGSTOP     the milter stopped for a while, then continued

For each: Postfix accepts every message (smtp-source reports no error and
all LOAD are in the queue), and once the fault is gone the milter records
again by itself (a message sent afterwards is recorded). Two faults get
tests of their own because more is checked: SIGKILL of the milter (then a
restart): only records are lost, and the next sweep adopts exactly the
messages without one; only the main database file deleted: the milter
notices without traffic, and the sweeper works again (it used to fail with
exit 73, "disk I/O error", for as long as the milter ran).

The milter runs with record_timeout = 1s, so that a fault that lasts makes
it stop queueing records within a second and a half.
"""

from __future__ import annotations

import os
import pwd
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from sweeper_helpers import run_sweeper

LOAD = 300
SESSIONS = 10
# Sent while the fault lasts in any case: the load may have ended already
# when the fault begins (a fast machine), and a fault no mail meets proves
# nothing (seen in CI: no "database is locked" in the log).
UNDER_FAULT = 30
LOAD_SENDER = "sender@sender.example"
LOAD_RCPT = "load@customer.example"
MILTER_SETTINGS = {"record_timeout": "1s"}
# Postfix's default timers: with the testbed's 2 s ones, qmgr would rescan
# the deferred load every few seconds while the test measures.
QUIET_TIMERS = dict(queue_run_delay="300s", minimal_backoff_time="300s",
                    maximal_backoff_time="4000s")


# ---- helpers ---------------------------------------------------------------

class Load:
    """smtp-source in the background: LOAD messages to LOAD_RCPT."""

    def __init__(self, testbed, count: int = LOAD):
        self.count = count
        self.proc = subprocess.Popen(
            ["smtp-source", "-s", str(SESSIONS), "-m", str(count), "-l", "1000",
             "-f", LOAD_SENDER, "-t", LOAD_RCPT, f"127.0.0.1:{testbed.port}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def running(self) -> bool:
        return self.proc.poll() is None

    def finish(self, timeout: float = 120) -> None:
        out, err = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0, (
            f"smtp-source exited {self.proc.returncode}: Postfix refused mail\n"
            f"{out.decode(errors='replace')}{err.decode(errors='replace')}")


def load_in_queue(testbed) -> int:
    # Distinct IDs: showq scans incoming, active and deferred in turn, so a
    # message moving between them meanwhile can be listed twice (seen: 304
    # entries for 300 messages, all 300 in the maillog once).
    return len({m["queue_id"] for m in testbed.postqueue_json()
                if any(r["address"] == LOAD_RCPT for r in m["recipients"])})


def recorded_load(env) -> int:
    if not env.database.exists():
        return 0
    try:
        return env.rows("SELECT count(*) AS n FROM etrn_audit WHERE recipient = ?",
                        (LOAD_RCPT,))[0]["n"]
    except sqlite3.Error:
        return 0


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def make_quiet_env(make_milter_postfix, before_start=None):
    def prepare(env):
        env.testbed.main_cf_set(**QUIET_TIMERS)
        if before_start is not None:
            before_start(env)

    return make_milter_postfix(extra_milter=MILTER_SETTINGS, before_start=prepare)


def start_load_and_wait_for_records(env, minimum: int = 20) -> Load:
    load = Load(env.testbed)
    wait_for(lambda: recorded_load(env) >= minimum or not load.running(), 60,
             "the first records of the load")
    return load


def all_load_accepted(env, load: Load, expected: int = LOAD) -> None:
    load.finish()
    wait_for(lambda: load_in_queue(env.testbed) >= expected, 30, "the load in the queue")
    assert load_in_queue(env.testbed) == expected


def restart_milter(env) -> None:
    env.socket_path.unlink(missing_ok=True)  # a stale socket would look like a started milter
    env.milter.start()


# ---- the faults --------------------------------------------------------------

class Locked:
    evidence = "database is locked"

    def start(self, env) -> None:
        self.locker = sqlite3.connect(str(env.database), timeout=5, isolation_level=None)
        self.locker.execute("BEGIN EXCLUSIVE")

    def end(self, env) -> None:
        self.locker.execute("ROLLBACK")
        self.locker.close()


class ReadOnly:
    evidence = "read-only"
    files = ("etrn.db", "etrn.db-wal", "etrn.db-shm")

    def start(self, env) -> None:
        rc = env.milter.stop()
        # The log's end holds a sanitizer's report when one ended the milter.
        assert rc == 0, f"etrn-milter exited {rc}; its log ends:\n{env.milter.log()[-6000:]}"
        for name in self.files:
            if (env.db_dir / name).exists():
                (env.db_dir / name).chmod(0o444)
        env.db_dir.chmod(0o555)
        restart_milter(env)

    def end(self, env) -> None:
        env.db_dir.chmod(0o755)
        for name in self.files:
            if (env.db_dir / name).exists():
                (env.db_dir / name).chmod(0o644)


class Full:
    """The database on a tmpfs of its own, filled by a file."""

    evidence = "database or disk is full"

    def prepare(self, env, request) -> None:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "etrn-test-full",
                        str(env.db_dir)], check=True)
        request.addfinalizer(lambda: subprocess.run(["umount", "-l", str(env.db_dir)]))
        postfix = pwd.getpwnam("postfix")
        os.chown(env.db_dir, postfix.pw_uid, postfix.pw_gid)

    def start(self, env) -> None:
        self.filler = env.db_dir / "filler"
        with open(self.filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * (1 << 20))
                    f.flush()
            except OSError:
                pass

    def end(self, env) -> None:
        self.filler.unlink()


class Deleted:
    evidence = "was deleted or replaced while the milter had it open"

    def start(self, env) -> None:
        for name in ("etrn.db", "etrn.db-wal", "etrn.db-shm"):
            (env.db_dir / name).unlink(missing_ok=True)

    def end(self, env) -> None:
        env.milter.wait_for_log("was deleted or replaced while the milter had it open")


class Stopped:
    evidence = None

    def start(self, env) -> None:
        env.milter.signal(signal.SIGSTOP)
        time.sleep(2)

    def end(self, env) -> None:
        env.milter.signal(signal.SIGCONT)


FAULTS = {"locked": Locked, "read-only": ReadOnly, "full": Full, "deleted": Deleted,
          "SIGSTOP": Stopped}


@pytest.mark.parametrize("name", list(FAULTS))
def test_under_a_fault_every_message_is_accepted_and_recording_resumes(
        make_milter_postfix, request, name):
    fault = FAULTS[name]()
    prepare = getattr(fault, "prepare", None)
    env = make_quiet_env(make_milter_postfix,
                         before_start=(lambda e: prepare(e, request)) if prepare else None)
    load = start_load_and_wait_for_records(env)
    fault.start(env)
    expected = LOAD
    try:
        if not isinstance(fault, Stopped):
            load.finish()  # the whole rest of the load under the fault
            Load(env.testbed, count=UNDER_FAULT).finish()
            expected += UNDER_FAULT
            if fault.evidence:  # the fault lasts until the milter has met it
                wait_for(lambda: fault.evidence in env.milter.log(), 30,
                         f"{fault.evidence!r} in the milter's log")
    finally:
        fault.end(env)
    all_load_accepted(env, load, expected)
    env.records_again()
    if fault.evidence:
        assert fault.evidence in env.milter.log(), f"the fault did not reach the milter: no {fault.evidence!r}"


# ---- the two that check more ---------------------------------------------

def adopted_by_a_sweep(env, bin_dir: Path) -> int:
    result = run_sweeper(bin_dir, env.config, "sweep", "--verbose")
    assert result.returncode == 0, (
        f"etrn-sweeper sweep: exit {result.returncode}\n{result.stdout}{result.stderr}")
    m = re.search(r"adopted (\d+)", result.stdout)
    assert m, f"no summary in {result.stdout!r}"
    return int(m.group(1))


def test_sigkill_loses_only_records_and_the_next_sweep_adopts_exactly_those(
        make_milter_postfix, bin_dir):
    env = make_quiet_env(make_milter_postfix)
    load = start_load_and_wait_for_records(env, minimum=50)
    env.milter.proc.kill()
    env.milter.proc.wait()
    time.sleep(0.5)  # mail goes on meanwhile: default_action=accept
    restart_milter(env)
    all_load_accepted(env, load)
    time.sleep(1)  # the restarted milter's last commit
    recorded = recorded_load(env)
    assert recorded < LOAD, "nothing was lost: the kill came too late to test anything"

    adopted = adopted_by_a_sweep(env, bin_dir)
    assert adopted == LOAD - recorded, (
        f"{recorded} recorded by the milter + {adopted} adopted, want {LOAD} (queue: "
        f"{load_in_queue(env.testbed)})")
    assert recorded_load(env) == LOAD
    env.records_again()


def test_a_deleted_main_file_is_noticed_and_the_sweeper_works_again(make_milter_postfix,
                                                                     bin_dir):
    env = make_quiet_env(make_milter_postfix)
    load = Load(env.testbed)
    all_load_accepted(env, load)
    wait_for(lambda: recorded_load(env) == LOAD, 20, "the load recorded")

    env.database.unlink()  # the -wal and -shm stay: the old connection's
    env.milter.wait_for_log("was deleted or replaced while the milter had it open")
    adopted = adopted_by_a_sweep(env, bin_dir)  # used to fail: exit 73, "disk I/O error"
    assert adopted == LOAD, f"adopted {adopted}, want the {LOAD} messages of the deleted file"
    env.records_again()
