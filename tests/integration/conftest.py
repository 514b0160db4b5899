"""conftest.py - pytest fixtures for ETRN Sweeper's integration tests.

Fixtures:

    bin_dir            Path of the built programs (env ETRN_BIN_DIR, default
                       ETRN_SOURCE_DIR/build/bin)
    source_dir         Path of the source tree (env ETRN_SOURCE_DIR)
    postfix            a started PostfixTestbed without a milter
    milter_postfix     a MilterPostfix: the real etrn-milter (foreground, as
                       user postfix, socket DIR/milter.sock, database
                       DIR/db/etrn.db, config DIR/etrn-sweeper.conf) wired
                       into a started PostfixTestbed through smtpd_milters
                       and non_smtpd_milters. Attributes: testbed, milter
                       (MilterProcess: log(), wait_for_log(), signal()),
                       database, config, socket, dir; rows(sql),
                       audit_for(queue_id), wait_for_audit(queue_id, count).
    make_milter_postfix
                       a factory for variants: make_milter_postfix(
                       on_error="tempfail", extra_milter={...},
                       before_start=fn(env), start=True).

Both tear down what they started: Postfix is stopped, the milter gets
SIGTERM and must exit 0. The instance directory is removed when the test
passed and left behind (with a NOTE-test-failed file naming the test) when
it failed, so its maillog, milter.log and database can be read.

Helpers: db_rows(path, sql, params) -> list of sqlite3.Row (read-only).
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

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from postfix_testbed import PostfixTestbed, poll_until  # noqa: E402


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remembers each phase's report on the item (rep_setup, rep_call, ...)."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _test_failed(request) -> bool:
    for phase in ("rep_setup", "rep_call"):
        rep = getattr(request.node, phase, None)
        if rep is not None and rep.failed:
            return True
    return False


def _leave_or_remove(request, testbed: PostfixTestbed) -> None:
    failed = _test_failed(request)
    if failed:
        (testbed.dir / "NOTE-test-failed").write_text(
            f"{request.node.nodeid} failed; this directory was left for inspection.\n")
        sys.stderr.write(f"\nleft the test instance in {testbed.dir}\n")
    testbed.cleanup(remove=not failed)


@pytest.fixture(scope="session")
def source_dir() -> Path:
    return Path(os.environ.get("ETRN_SOURCE_DIR", Path(__file__).resolve().parents[2]))


@pytest.fixture(scope="session")
def bin_dir(source_dir) -> Path:
    path = Path(os.environ.get("ETRN_BIN_DIR", source_dir / "build" / "bin"))
    if not path.is_dir():
        pytest.fail(f"ETRN_BIN_DIR {path} does not exist: build first")
    return path


def db_rows(path: Path, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    """Runs a query on the database read-only and returns all rows."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        con.row_factory = sqlite3.Row
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


class MilterProcess:
    """etrn-milter running in the foreground, its stderr in a log file."""

    def __init__(self, binary: Path, config: Path, log: Path, socket_path: Path,
                 extra_args: tuple = ()):
        self.binary, self.config, self.log_path, self.socket_path = binary, config, log, socket_path
        self.extra_args = tuple(extra_args)
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> None:
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(self.binary), "--foreground", "-c", str(self.config), *self.extra_args],
            stdout=self._log, stderr=subprocess.STDOUT)
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

    def __init__(self, bin_dir: Path, on_error: str = "accept", extra_milter: dict | None = None):
        self.testbed = PostfixTestbed()
        d = self.testbed.dir
        self.socket_path = d / "milter.sock"
        self.socket = f"unix:{self.socket_path}"
        self.testbed.use_milter(self.socket)
        self.db_dir = d / "db"
        self.db_dir.mkdir(exist_ok=True)
        postfix = pwd.getpwnam("postfix")
        os.chown(self.db_dir, postfix.pw_uid, postfix.pw_gid)
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
        if not self.database.exists():
            return []
        return db_rows(self.database, sql, params)

    def audit_for(self, queue_id: str) -> list[sqlite3.Row]:
        return self.rows("SELECT * FROM etrn_audit WHERE queue_id = ? ORDER BY recipient", (queue_id,))

    def wait_for_audit(self, queue_id: str, count: int = 1, timeout: float = 10) -> list[sqlite3.Row]:
        return poll_until(lambda: self.audit_for(queue_id), lambda rows: len(rows) >= count,
                          timeout, lambda rows: f"{len(rows)} audit rows for {queue_id}, want "
                          f"{count}; milter log:\n{self.milter.log()[-3000:]}", interval=0.1)


@pytest.fixture
def postfix(request):
    testbed = PostfixTestbed()
    try:
        testbed.start()
        yield testbed
    finally:
        _leave_or_remove(request, testbed)


def _teardown(request, env: MilterPostfix) -> int:
    env.testbed.stop()
    rc = env.milter.stop()
    if rc == 0:
        _leave_or_remove(request, env.testbed)
    else:
        env.testbed.cleanup(remove=False)
    return rc


@pytest.fixture
def make_milter_postfix(request, bin_dir):
    """A factory: make_milter_postfix(on_error=..., extra_milter={...},
    before_start=callable(env), start=True) -> a started MilterPostfix.
    Everything made is torn down after the test; the milter must exit 0."""
    made: list[MilterPostfix] = []

    def make(on_error: str = "accept", extra_milter: dict | None = None,
             before_start=None, start: bool = True) -> MilterPostfix:
        env = MilterPostfix(bin_dir, on_error=on_error, extra_milter=extra_milter)
        made.append(env)
        if before_start is not None:
            before_start(env)
        if start:
            env.start()
        return env

    yield make
    codes = [(env, _teardown(request, env)) for env in made]
    for env, rc in codes:
        assert rc == 0, f"etrn-milter exited {rc} on SIGTERM, want 0; log:\n{env.milter.log()[-3000:]}"


@pytest.fixture
def milter_postfix(make_milter_postfix):
    """A started Postfix with the real etrn-milter (on_error = accept)."""
    return make_milter_postfix()
