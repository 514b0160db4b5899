"""test_sweeper_retention.py - history_retention, `prune` and `prune
--address` through the real etrn-sweeper and a real SQLite file: closed
history older than the retention goes (at the end of a sweep too), young
or open history stays, a DELETE outside a prune is refused, and an erasure
is recorded without the address it erased.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from sweeper_helpers import run_sweeper, sweep_ok

DAY = 86400


def config_for(tb, **sweeper):
    (tb.dir / "db").mkdir(exist_ok=True)
    return tb.write_etrn_config(tb.dir / "etrn-sweeper.conf", database=tb.dir / "db" / "etrn.db",
                                extra_sweeper=sweeper)


def database_of(tb):
    return tb.dir / "db" / "etrn.db"


def add_message(database, queue_id, arrival, state, changed_at, done_at,
                recipient="carol@customer.example", sender="alice@sender.example"):
    """A record as the milter and the sweeper would leave it: one recipient
    in `state` since `changed_at`, its `recorded` and state events."""
    con = sqlite3.connect(str(database), timeout=10)
    try:
        with con:
            message = con.execute(
                "INSERT INTO messages (queue_id, arrival_time, sender, priority, source,"
                " recorded_at, done_at) VALUES (?, ?, ?, 'normal', 'milter', ?, ?)",
                (queue_id, arrival, sender, arrival, done_at)).lastrowid
            con.execute(
                "INSERT INTO recipients (message, address, domain, state, expires_at,"
                " state_changed_at) VALUES (?, ?, 'customer.example', ?, ?, ?)",
                (message, recipient, state, arrival + 2 * DAY, changed_at))
            con.execute("INSERT INTO events (at, queue_id, recipient, kind) VALUES (?, ?, ?, ?)",
                        (arrival, queue_id, recipient, "recorded"))
            if state != "queued":
                con.execute("INSERT INTO events (at, queue_id, recipient, kind) VALUES (?, ?, ?, ?)",
                            (changed_at, queue_id, recipient, state))
    finally:
        con.close()


def query(database, sql, *args):
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def queue_ids(database):
    return sorted(row[0] for row in query(database, "SELECT DISTINCT queue_id FROM etrn_audit"))


def test_prune_deletes_only_closed_history_older_than_the_retention(postfix, bin_dir):
    config = config_for(postfix, history_retention="30d")
    sweep_ok(bin_dir, config, "sweep")  # creates the database
    db = database_of(postfix)
    now = int(time.time())
    old = now - 60 * DAY
    add_message(db, "OLDCLOSED", old, "expired", old + DAY, old + DAY)
    add_message(db, "YOUNGCLOSED", old, "departed", now - 10 * DAY, now - 10 * DAY)
    add_message(db, "OLDOPEN", old, "queued", old, None)

    con = sqlite3.connect(str(db), timeout=10)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("DELETE FROM events WHERE queue_id = 'OLDCLOSED'")
        with pytest.raises(sqlite3.DatabaseError, match="only by a prune"):
            con.execute("DELETE FROM recipients WHERE address = 'carol@customer.example'")
    finally:
        con.close()

    dry = sweep_ok(bin_dir, config, "prune", "--dry-run")
    assert "would delete closed history last changed before " in dry.stdout, dry.stdout
    assert "1 message(s), 1 recipient(s), 2 event(s), 0 outbox row(s)" in dry.stdout, dry.stdout
    assert queue_ids(db) == ["OLDCLOSED", "OLDOPEN", "YOUNGCLOSED"], "a dry run deletes nothing"
    assert run_sweeper(bin_dir, config, "prune", "--before", "+1d").returncode == 64
    assert run_sweeper(bin_dir, config, "report", "--dry-run").returncode == 64

    done = sweep_ok(bin_dir, config, "prune")
    assert "deleted closed history" in done.stdout, done.stdout
    assert "1 message(s), 1 recipient(s), 2 event(s)" in done.stdout, done.stdout
    assert queue_ids(db) == ["OLDOPEN", "YOUNGCLOSED"]
    assert query(db, "SELECT count(*) FROM etrn_events WHERE queue_id = 'OLDCLOSED'") == [(0,)]
    assert query(db, "SELECT count(*) FROM etrn_events WHERE kind = 'pruned'") == [(1,)]
    again = sweep_ok(bin_dir, config, "prune")
    assert "0 message(s), 0 recipient(s), 0 event(s)" in again.stdout, again.stdout


def test_a_too_short_retention_is_a_configuration_error_with_file_and_line(postfix, bin_dir):
    config = config_for(postfix, history_retention="12h")
    result = run_sweeper(bin_dir, config, "check-config")
    assert result.returncode == 78, result
    line = len(config.read_text().splitlines())
    assert f"{config}:{line}:" in result.stderr and "history_retention" in result.stderr, result
    forever = config_for(postfix, history_retention="0")
    sweep_ok(bin_dir, forever, "sweep")
    kept = sweep_ok(bin_dir, forever, "prune")
    assert "history_retention is 0" in kept.stdout, kept.stdout


def test_a_sweep_prunes_at_its_end_and_an_erasure_is_recorded_without_the_address(
        postfix, bin_dir):
    config = config_for(postfix)  # history_retention: 400d by default
    sweep_ok(bin_dir, config, "sweep")
    db = database_of(postfix)
    now = int(time.time())
    ancient = now - 500 * DAY
    add_message(db, "ANCIENT", ancient, "departed", ancient + DAY, ancient + DAY)
    add_message(db, "BOBCLOSED", now - 5 * DAY, "expired", now - 3 * DAY, now - 3 * DAY,
                recipient="bob@customer.example")
    sweep_ok(bin_dir, config, "sweep")
    assert queue_ids(db) == ["BOBCLOSED"], "the sweep pruned the ancient record at its end"
    assert query(db, "SELECT count(*) FROM etrn_events WHERE kind = 'pruned'") == [(1,)]

    add_message(db, "BOBOPEN", now - 3600, "queued", now - 3600, None,
                recipient="bob@customer.example")
    erased = sweep_ok(bin_dir, config, "prune", "--address", "BOB@customer.example")
    assert ("erased the closed history of BOB@customer.example: 1 message(s), 1 recipient(s),"
            " 2 event(s)") in erased.stdout, erased.stdout
    assert "1 recipient record(s) of open messages kept" in erased.stdout, erased.stdout
    assert queue_ids(db) == ["BOBOPEN"], "open records still protect queued mail"
    assert query(db, "SELECT count(*) FROM etrn_events WHERE kind = 'erased'") == [(1,)]
    assert query(db, "SELECT count(*) FROM etrn_events WHERE queue_id <> 'BOBOPEN'"
                     " AND (recipient LIKE '%bob%' OR detail LIKE '%bob%')") == [(0,)]
