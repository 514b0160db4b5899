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
    postgres           a PostgresCluster (postgres_testbed.py) for the whole
                       session: new_database() gives each test a database
                       URI of its own; pause()/resume(); query(uri, sql).

Both tear down what they started: Postfix is stopped, the milter gets
SIGTERM and must exit 0. The instance directory is removed when the test
passed and left behind (with a NOTE-test-failed file naming the test) when
it failed, so its maillog, milter.log and database can be read.

MilterProcess, MilterPostfix and db_rows(path, sql, params) live in
milter_testbed.py (no pytest there: the demo and the benchmarks use them too)
and are re-exported here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from milter_testbed import MilterPostfix, MilterProcess, db_rows  # noqa: E402,F401
from postfix_testbed import PostfixTestbed  # noqa: E402
from postgres_testbed import PostgresCluster  # noqa: E402


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
    before_start=callable(env), start=True, postgres=None, database=None) ->
    a started MilterPostfix (its database in `postgres`, a PostgresCluster,
    if given: `database`, a URI there, or a new one).
    Everything made is torn down after the test; the milter must exit 0."""
    made: list[MilterPostfix] = []

    def make(on_error: str = "accept", extra_milter: dict | None = None,
             before_start=None, start: bool = True, postgres=None,
             database: str | None = None) -> MilterPostfix:
        env = MilterPostfix(bin_dir, on_error=on_error, extra_milter=extra_milter,
                            postgres=postgres, database=database)
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


@pytest.fixture(scope="session")
def postgres(source_dir):
    cluster = PostgresCluster(source_dir).start()
    try:
        yield cluster
    finally:
        cluster.stop()
