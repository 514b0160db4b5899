"""test_sweeper_monitoring.py - `etrn-sweeper check` and the metrics file
against a real Postfix with the real etrn-milter: every run recorded in the
runs table, check driven through OK, WARNING, CRITICAL and UNKNOWN by what
really happens (no sweep yet, failing runs, a DSN the MTA would not take,
a deadline long past, the milter stopped), and the metrics file read by
the Prometheus client's own text parser.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from sweeper_helpers import SENDER, run_sweeper, sweep_ok

BOB = "bob@customer.example"


def check(bin_dir, config, *args):
    result = run_sweeper(bin_dir, config, "check", *args)
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and result.stderr == "", f"one status line, nothing else: {result}"
    assert lines[0].startswith("ETRN-SWEEPER "), lines[0]
    return result.returncode, lines[0]


def samples(path: Path) -> dict:
    """{(name, frozenset(labels)): value} as the Prometheus parser reads the file."""
    out = {}
    for family in text_string_to_metric_families(path.read_text()):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def runs(database: Path) -> list[sqlite3.Row]:
    con = sqlite3.connect(str(database))
    con.row_factory = sqlite3.Row
    try:
        return con.execute("SELECT * FROM runs ORDER BY id").fetchall()
    finally:
        con.close()


def variant(env, name: str, **sweeper) -> Path:
    """Another configuration on the same database and Postfix."""
    return env.testbed.write_etrn_config(env.dir / name, database=env.database,
                                         socket=env.socket, extra_sweeper=sweeper)


def sendmail_saying_try_later(directory: Path) -> Path:
    """Postfix's commands, but a `sendmail -bs` that answers 421 (try later)."""
    commands = directory / "try-later"
    commands.mkdir()
    for name in ("postcat", "postsuper", "postqueue", "postconf"):
        (commands / name).symlink_to(f"/usr/sbin/{name}")
    sendmail = commands / "sendmail"
    sendmail.write_text("#!/bin/sh\nprintf '421 4.3.0 try again later\\r\\n'\nexit 75\n")
    sendmail.chmod(0o755)
    return commands


def test_check_and_metrics_follow_the_sweeper_through_every_state(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    metrics = env.dir / "etrn.prom"
    qid = tb.send(SENDER, BOB, subject="monitored")
    env.wait_for_audit(qid)
    tb.wait_until_deferred(qid)

    status, line = check(bin_dir, env.config)
    assert status == 1 and "no sweep recorded yet" in line, line
    assert f"milter answers on {env.socket}" in line, line

    sweep_ok(bin_dir, env.config, "sweep", "--metrics-file", str(metrics))
    status, line = check(bin_dir, env.config)
    assert status == 0 and line.startswith("ETRN-SWEEPER OK - "), line
    m = samples(metrics)
    assert m[("etrn_sweeper_last_run_exit_status", frozenset())] == 0
    assert abs(m[("etrn_sweeper_last_success_timestamp_seconds", frozenset())] - time.time()) < 60
    assert m[("etrn_sweeper_recipients",
              frozenset({("domain", "customer.example"), ("state", "queued")}))] == 1
    assert oct(metrics.stat().st_mode & 0o777) == "0o644"
    assert not list(env.dir.glob("etrn.prom.tmp.*")), "the temporary file is renamed, not left"

    # Runs that fail: the MTA's commands are not where the configuration says.
    broken = variant(env, "broken.conf", postfix_command_directory=env.dir / "no-such-dir",
                     metrics_file=metrics)
    for n in range(1, 5):
        assert run_sweeper(bin_dir, broken, "sweep").returncode == 69
        status, line = check(bin_dir, env.config)
        want = 0 if n < 2 else 1 if n < 4 else 2
        assert status == want, f"after {n} failed run(s): {line}"
    assert f"4 failed run(s) in a row (last: " in line and "CRITICAL" in line, line
    assert "failed_runs=4;2;4;0" in line, line
    m = samples(metrics)
    assert m[("etrn_sweeper_last_run_exit_status", frozenset())] == 69
    assert m[("etrn_sweeper_failed_runs_in_a_row", frozenset())] == 4
    recorded = runs(env.database)
    assert [r["exit_status"] for r in recorded] == [0, 69, 69, 69, 69]
    assert all(r["finished_at"] for r in recorded) and "no-such-dir" in recorded[-1]["error"]

    # The deadline passed two hours ago and no sweep expired the mail (the
    # sweeps failed). Moved back by hand: a test cannot wait two days.
    con = sqlite3.connect(str(env.database))
    with con:
        con.execute("UPDATE recipients SET expires_at = ?", (int(time.time()) - 7200,))
    con.close()
    status, line = check(bin_dir, env.config, "--failed-warning", "0", "--failed-critical", "0")
    assert status == 1 and "1 recipient(s) past their deadline still queued" in line, line

    # A sweep expires it, but the MTA will not take the DSN yet: it waits in the outbox.
    held_back = variant(env, "held-back.conf",
                        postfix_command_directory=sendmail_saying_try_later(env.dir))
    assert run_sweeper(bin_dir, held_back, "sweep", "--now", "+49h").returncode == 75
    status, line = check(bin_dir, env.config, "--failed-warning", "0", "--failed-critical", "0")
    assert status == 1 and "1 DSN(s) waiting in the outbox" in line and "overdue=0" in line, line

    # A good run after the outbox's retry time hands it over: all well again.
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+50h", "--metrics-file", str(metrics))
    status, line = check(bin_dir, env.config)
    assert status == 0, line
    tb.wait_for_mailbox("alice", 1)
    m = samples(metrics)
    assert m[("etrn_sweeper_dsns_sent_total", frozenset({("kind", "failed")}))] == 1
    assert m[("etrn_sweeper_recipients",
              frozenset({("domain", "customer.example"), ("state", "expired")}))] == 1

    # No milter on the socket: mail flows unrecorded, which monitoring must see.
    env.milter.stop()
    status, line = check(bin_dir, env.config)
    assert status == 2 and line.startswith(f"ETRN-SWEEPER CRITICAL - no milter answers on"), line
    status, line = check(bin_dir, env.config, "--no-milter")
    assert status == 0, line


def test_check_says_unknown_when_it_cannot_look(postfix, bin_dir):
    (postfix.dir / "db").mkdir()
    config = postfix.write_etrn_config(postfix.dir / "etrn-sweeper.conf",
                                       database=postfix.dir / "db" / "etrn.db")
    status, line = check(bin_dir, config)
    assert status == 3 and "no database at" in line, line
    status, line = check(bin_dir, config, "--age-warning", "soon")
    assert status == 3 and "--age-warning" in line, line
    bad = postfix.dir / "bad.conf"
    bad.write_text(config.read_text() + "expire_after = soon\n")
    status, line = check(bin_dir, bad)
    assert status == 3 and f"{bad}:" in line, line


def test_a_dry_run_is_not_a_run(milter_postfix, bin_dir):
    env = milter_postfix
    sweep_ok(bin_dir, env.config, "sweep")
    sweep_ok(bin_dir, env.config, "sweep", "--dry-run")
    assert len(runs(env.database)) == 1
