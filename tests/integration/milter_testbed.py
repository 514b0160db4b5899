"""milter_testbed.py - the real etrn-milter in front of a private Postfix.

Shared by the integration tests (through conftest.py's fixtures), the live
demo (scripts/demo.py) and the benchmarks (bench/run). It imports nothing
from pytest, so the demo runs where only the programs' own dependencies are
installed.

    MilterProcess   etrn-milter in the foreground, its stderr in a log file
    MilterPostfix   a PostfixTestbed with the real etrn-milter wired in (its
                    database an SQLite file, or a PostgreSQL URI with the
                    PostgresCluster that serves it)
    db_rows         a read-only query on an etrn-sweeper database
"""

from __future__ import annotations

import os
import pwd
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from postfix_testbed import PostfixTestbed, poll_until  # noqa: E402


def db_rows(path: Path, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    """Runs a query on the database read-only and returns all rows."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        con.row_factory = sqlite3.Row
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def _with_literals(sql: str, params: tuple) -> str:
    """sql with each ? replaced by its parameter as an SQL string literal
    (for psql, which takes no parameters; the tests' own values only)."""
    parts = sql.split("?")
    assert len(parts) == len(params) + 1, f"{len(params)} parameters for {sql!r}"
    out = parts[0]
    for value, part in zip(params, parts[1:]):
        out += "'" + str(value).replace("'", "''") + "'" + part
    return out


class MilterProcess:
    """etrn-milter running in the foreground, its stderr in a log file."""

    def __init__(self, binary: Path, config: Path, log: Path, socket_path: Path,
                 extra_args: tuple = ()):
        self.binary, self.config, self.log_path, self.socket_path = binary, config, log, socket_path
        self.extra_args = tuple(extra_args)
        self.proc: subprocess.Popen | None = None
        # As under systemd: JOURNAL_STREAM names the log file, so the milter
        # writes its lines as journald reads them ("<priority>message").
        self.as_journal_stream = False

    def start(self, timeout: float = 10) -> None:
        self._log = open(self.log_path, "ab")
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        if self.as_journal_stream:
            st = os.fstat(self._log.fileno())
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        self.proc = subprocess.Popen(
            [str(self.binary), "--foreground", "-c", str(self.config), *self.extra_args],
            stdout=self._log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + timeout
        while not self.socket_path.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"etrn-milter exited {self.proc.returncode} at start:\n{self.log()}")
            if time.time() > deadline:
                raise RuntimeError(f"etrn-milter made no socket in {timeout}s:\n{self.log()}")
            time.sleep(0.05)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, wait; returns the exit code (kills it after timeout)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._log.close()
                return -9
        self._log.close()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text: str, timeout: float = 10) -> str:
        deadline = time.time() + timeout
        while text not in self.log():
            if time.time() > deadline:
                raise TimeoutError(f"{text!r} not in milter log within {timeout}s:\n{self.log()}")
            time.sleep(0.05)
        return self.log()


class MilterPostfix:
    """A Postfix testbed with the real etrn-milter in front of it."""

    def __init__(self, bin_dir: Path, on_error: str = "accept", extra_milter: dict | None = None,
                 postgres=None, database: str | None = None):
        """postgres: a PostgresCluster (postgres_testbed.py); the database is
        then `database` (a URI on it: one that another host shares) or a new
        database of its own there, and rows() reads it with psql (rows as
        lists of strings, in the query's column order)."""
        self.testbed = PostfixTestbed()
        d = self.testbed.dir
        self.socket_path = d / "milter.sock"
        self.socket = f"unix:{self.socket_path}"
        self.testbed.use_milter(self.socket)
        self.db_dir = d / "db"
        self.db_dir.mkdir(exist_ok=True)
        postfix = pwd.getpwnam("postfix")
        os.chown(self.db_dir, postfix.pw_uid, postfix.pw_gid)
        self.postgres = postgres
        if postgres is not None:
            self.database = database or postgres.new_database()
        else:
            self.database = self.db_dir / "etrn.db"
        self.config = self.testbed.write_etrn_config(
            d / "etrn-sweeper.conf", database=self.database, socket=self.socket, user="postfix",
            on_error=on_error, extra_milter=extra_milter)
        self.milter = MilterProcess(bin_dir / "etrn-milter", self.config, d / "milter.log",
                                    self.socket_path)

    @property
    def dir(self) -> Path:
        return self.testbed.dir

    def start(self) -> None:
        self.milter.start()
        self.testbed.start()

    def rows(self, sql: str = "SELECT * FROM etrn_audit ORDER BY recipient", params: tuple = ()):
        if self.postgres is not None:
            return self.postgres.query(self.database, _with_literals(sql, params))
        if not self.database.exists():
            return []
        return db_rows(self.database, sql, params)

    def audit_for(self, queue_id: str) -> list[sqlite3.Row]:
        return self.rows("SELECT * FROM etrn_audit WHERE queue_id = ? ORDER BY recipient", (queue_id,))

    def wait_for_audit(self, queue_id: str, count: int = 1, timeout: float = 10) -> list[sqlite3.Row]:
        return poll_until(lambda: self.audit_for(queue_id), lambda rows: len(rows) >= count,
                          timeout, lambda rows: f"{len(rows)} audit rows for {queue_id}, want "
                          f"{count}; milter log:\n{self.milter.log()[-3000:]}", interval=0.1)

    def records_again(self, timeout: float = 20) -> None:
        """The milter recovers by itself after a fault: a message sent now is
        recorded. Right after the fault a message may still find the
        records of the fault late (the writer retries a failing database
        once a second), so markers are sent until one is recorded, for
        `timeout` seconds at most."""
        deadline = time.time() + timeout
        while True:
            marker = self.testbed.send("alice@sender.example", "bob@customer.example",
                                       subject="after the fault")
            try:
                self.wait_for_audit(marker, timeout=3)
                break
            except TimeoutError:
                if time.time() > deadline:
                    raise
        assert self.milter.proc.poll() is None, "the milter must still run"
