"""postgres_testbed.py - a private PostgreSQL 15 for the integration tests.

PostgresCluster wraps tests/tools/postgres-cluster: a cluster in a temporary
directory, Unix socket only, superuser `postgres` trusted on the socket (so
the milter, running as user postfix, connects too). Each test takes a fresh
database of its own with new_database(), which returns the URI the
programs' `database` key takes. pause()/resume() stop and start the server
on the same data: a store that went down and came back. query() runs SQL
through psql, rows as lists of strings (NULL as None).
"""

from __future__ import annotations

import itertools
import os
import subprocess
from pathlib import Path

BINDIR = Path("/usr/lib/postgresql/15/bin")


class PostgresCluster:
    def __init__(self, source_dir: Path, durable_in: Path | None = None):
        """durable_in: the cluster in that directory with PostgreSQL's
        durable defaults (fsync, synchronous_commit, full_page_writes on),
        as a benchmark wants; otherwise in TMPDIR without them."""
        self._script = source_dir / "tests" / "tools" / "postgres-cluster"
        self.dir: Path | None = None
        self._numbers = itertools.count(1)
        self._env = None
        if durable_in is not None:
            self._env = dict(os.environ, ETRN_POSTGRES_DURABLE="1", TMPDIR=str(durable_in))

    def start(self) -> "PostgresCluster":
        out = subprocess.run([str(self._script), "start"], check=True, capture_output=True,
                             text=True, env=self._env)
        self.dir = Path(out.stdout.strip().splitlines()[-1])
        return self

    def stop(self) -> None:
        if self.dir is not None:
            subprocess.run([str(self._script), "stop", str(self.dir)], check=False)
            self.dir = None

    def pause(self) -> None:
        subprocess.run([str(self._script), "pause", str(self.dir)], check=True)

    def resume(self) -> None:
        subprocess.run([str(self._script), "resume", str(self.dir)], check=True)

    def uri(self, database: str) -> str:
        return f"postgresql:///{database}?host={self.dir}&user=postgres"

    def new_database(self) -> str:
        name = f"etrn_it_{next(self._numbers)}"
        subprocess.run([str(BINDIR / "createdb"), "-h", str(self.dir), "-U",
                        "postgres", name], check=True)
        return self.uri(name)

    def query(self, uri: str, sql: str) -> list[list[str | None]]:
        out = subprocess.run(
            [str(BINDIR / "psql"), "-X", "-q", "-At", "-F", "\x1f", "-P", "null=\x1e", "-v",
             "ON_ERROR_STOP=1", "-d", uri, "-c", sql],
            check=True, capture_output=True, text=True)
        lines = out.stdout.removesuffix("\n").split("\n") if out.stdout else []
        return [[None if f == "\x1e" else f for f in line.split("\x1f")] for line in lines]
