"""sweeper_helpers.py - running etrn-sweeper against a test Postfix and
reading what it did, for the tests/integration/test_sweeper_*.py files.

    run_sweeper(bin_dir, config, *args, env_extra={}) -> CompletedProcess
    sweeper_argv(bin_dir, config, *args) -> list  its argv (--future-now added
                                for a sweep --now without --dry-run)
    judge(message) -> dict      tests/tools/judge_dsn.py's verdict on a DSN
    settle(testbed)             waits until Postfix has delivered what it can
    dsn_parts(message) -> dict  the delivery-status fields of a DSN
    age_records(database, seconds) makes the records older (real time), as
                                if the milter had recorded them that long ago
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[1] / "tools"
SENDER = "alice@sender.example"


def sweeper_argv(bin_dir: Path, config: Path, *args: str) -> list[str]:
    """etrn-sweeper's argv. The tests play the clock: a sweep with --now
    (always in the future here) and without --dry-run gets --future-now,
    which the sweeper asks for before it acts as of a future time."""
    extra = []
    if "--now" in args and not {"--dry-run", "-n", "--future-now"} & set(args):
        extra = ["--future-now"]
    return [str(bin_dir / "etrn-sweeper"), "-c", str(config), *args, *extra]


def run_sweeper(bin_dir: Path, config: Path, *args: str, env_extra: dict | None = None,
                timeout: float = 180, own_group: bool = False) -> subprocess.CompletedProcess:
    """Runs etrn-sweeper; own_group: as the leader of a process group of its own."""
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run(sweeper_argv(bin_dir, config, *args),
                          capture_output=True, text=True, timeout=timeout, env=env,
                          start_new_session=own_group)


def sweep_killed_after(bin_dir: Path, config: Path, step: str, when: str = "+49h") -> None:
    """`sweep --now WHEN` SIGKILLed by the test hook right after `step`."""
    killed = run_sweeper(bin_dir, config, "sweep", "--now", when,
                         env_extra={"ETRN_SWEEPER_TEST_KILL_AFTER": step})
    assert killed.returncode == -signal.SIGKILL, f"got exit {killed.returncode}: {killed.stderr}"


def queued_and_recorded(env, recipients, subject: str, recorded: int | None = None) -> str:
    """Sends a message through env's Postfix and milter; returns its queue ID
    once it is deferred and `recorded` of its recipients (default: all) are
    recorded."""
    tb = env.testbed
    recipients = [recipients] if isinstance(recipients, str) else list(recipients)
    qid = tb.send(SENDER, recipients, subject=subject)
    env.wait_for_audit(qid, len(recipients) if recorded is None else recorded)
    tb.wait_until_deferred(qid)
    return qid


def sweep_ok(bin_dir: Path, config: Path, *args: str) -> subprocess.CompletedProcess:
    result = run_sweeper(bin_dir, config, *args)
    assert result.returncode == 0, (
        f"etrn-sweeper {' '.join(args)}: exit {result.returncode}, want 0\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def judge(message) -> dict:
    raw = message.as_bytes() if hasattr(message, "as_bytes") else message
    out = subprocess.run(["/usr/bin/python3", str(TOOLS / "judge_dsn.py")], input=raw,
                         capture_output=True, check=True, timeout=60)
    return json.loads(out.stdout)


def delivery_status_fields(message) -> list[dict]:
    """The field groups of the message/delivery-status part: [per-message, per-recipient...]."""
    for part in message.walk():
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            text = part.get_payload(decode=False)
            if isinstance(text, list):
                return [dict((k.lower(), str(v)) for k, v in block.items()) for block in text]
            blocks = [b for b in str(text).replace("\r\n", "\n").split("\n\n") if b.strip()]
            groups = []
            for block in blocks:
                fields = {}
                for line in block.splitlines():
                    if ":" in line and not line.startswith((" ", "\t")):
                        key, _, value = line.partition(":")
                        fields[key.strip().lower()] = value.strip()
                groups.append(fields)
            return groups
    raise AssertionError("no delivery-status part in the DSN")


def mailbox_count(testbed, localpart: str = "alice") -> int:
    return len(testbed.mailbox_messages(localpart))


# Postfix in motion: mail in these queues has not been delivered nor
# deferred yet. showq scans them in this order, the order mail moves
# through them, so a message on its way is never missed between two.
ON_ITS_WAY = ("maildrop", "incoming", "active")


def settle(testbed, flush_delay: float = 0.5, timeout: float = 60) -> None:
    """Lets Postfix deliver everything submitted so far (a DSN that should
    NOT arrive is only absent after this): flushes the deferred queue, gives
    qmgr `flush_delay` seconds to take the flushed mail into the active
    queue, then waits until no message is on its way. A DSN etrn-sweeper
    submitted is in the maildrop queue once its sendmail returned."""
    testbed.flush()
    time.sleep(flush_delay)
    testbed.wait_for_queue(lambda q: not any(m["queue_name"] in ON_ITS_WAY for m in q),
                           timeout=timeout)


def outbox_rows(database: Path) -> list:
    import sqlite3
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT id, kind, recipient_ids, sent_at FROM outbox ORDER BY id").fetchall()
    finally:
        con.close()


def age_records(database: Path, seconds: int = 120) -> None:
    """Moves every record's recorded_at back: the sweeper departs a message
    missing from the queue only a while (kDepartureGrace, 60 s of real
    time) after it was recorded, and a test should not sleep that long."""
    import sqlite3
    con = sqlite3.connect(str(database), timeout=10)
    try:
        with con:
            con.execute("UPDATE messages SET recorded_at = recorded_at - ?", (seconds,))
    finally:
        con.close()
