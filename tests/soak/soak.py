#!/usr/bin/python3
"""soak.py - the random-kill soak of etrn-sweeper on a real Postfix.

Starts a private Postfix with the real etrn-milter (tests/integration's
testbed), then per trial: queues messages of many kinds (soak_mail.py) to
the ETRN domains, runs `etrn-sweeper sweep --now +49h` and kills it at a
random moment - SIGKILL to the process alone, SIGKILL to its whole process
group (its submission children die with it; the postsuper and sendmail it
runs have groups of their own), or SIGTERM to the whole group (what
systemctl stop, a shutdown or Ctrl-C sends) - runs
the sweeper again until it completes, flushes the queue to the site, and
checks every recipient (soak_check.py): exactly one failure DSN per expired
recipient that asked for one, exactly one delay DSN per warned survivor,
every survivor delivered to the site exactly once, nothing left in the
queue (hold included), the database's integrity_check ok and its records
agreeing.

A duplicate DSN after a SIGKILL of the process group is the known window
(a DSN the MTA accepted before its submission child could log it, README
"What is guaranteed"): counted and reported, not a failure. Everything
else is, a duplicate after SIGTERM among them: a child finishes and logs
the DSN in hand before it stops.

    soak.py [--trials N] [--seed S] [--messages M] [--keep]

Exit status: 0 no violation, 1 a violation (the instance directory is kept
and named), 2 the harness itself failed. Must run as root (Postfix).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "integration"))

from milter_testbed import MilterPostfix, db_rows  # noqa: E402
from postfix_testbed import ETRN_DOMAIN, TRANSPORT_ONLY_DOMAIN, poll_until  # noqa: E402
from soak_check import Outcome, judge, judge_records  # noqa: E402
from soak_mail import DOMAIN_POLICY, KINDS, NOW, queue_message  # noqa: E402

KILL_KINDS = ("process", "group", "term")
RERUN_ATTEMPTS = 6
HOOK_STEPS = ("outbox-written", "submitting", "dsn-submitted", "finalized", "held", "reinjected",
              "child-submitted")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--seed", type=int, default=None, help="default: from the clock (printed)")
    p.add_argument("--messages", type=int, default=16, help="messages queued per trial")
    p.add_argument("--keep", action="store_true", help="keep the instance directory")
    p.add_argument("--kill-after", choices=HOOK_STEPS, default=None,
                   help="instead of a random moment, let the sweeper kill itself right after "
                        "this step (ETRN_SWEEPER_TEST_KILL_AFTER); counts as a process-only kill")
    p.add_argument("--bin-dir", type=Path, default=None,
                   help="default: $ETRN_BIN_DIR, else $ETRN_SOURCE_DIR/build/bin")
    args = p.parse_args(argv)
    if args.seed is None:
        args.seed = int(time.time() * 1000) % 1_000_000
    if args.bin_dir is None:
        source = Path(os.environ.get("ETRN_SOURCE_DIR", HERE.parents[1]))
        args.bin_dir = Path(os.environ.get("ETRN_BIN_DIR", source / "build" / "bin"))
    return args


class Totals:
    """The soak's figures, summed over its trials."""

    def __init__(self):
        self.trials = 0
        self.kills = Counter()  # process / group / term / hook / none (the run finished first)
        self.recipients = Counter()  # expired / survived
        self.violations = Counter()
        self.duplicate_dsns = Counter()  # by kill kind
        self.stuck_reruns = 0
        self.integrity_failures = 0
        self.violating_trials: list[int] = []

    def print(self, seed: int) -> None:
        hooks = f", {self.kills['hook']} by the test hook" if self.kills["hook"] else ""
        print(f"\nsummary: seed {seed}, {self.trials} trials "
              f"(killed: {self.kills['process']} process only, {self.kills['group']} process "
              f"group, {self.kills['term']} SIGTERM to the group{hooks}; "
              f"{self.kills['none']} finished before the kill)")
        print(f"  recipients: {sum(self.recipients.values())} "
              f"({self.recipients['expired']} expired, {self.recipients['survived']} survived)")
        print(f"  lost: {self.violations['lost']}, removed without DSN: "
              f"{self.violations['removed_without_dsn']}, missing warnings: "
              f"{self.violations['missing_warning']}, unexpected DSNs/deliveries: "
              f"{self.violations['unexpected']}, duplicate deliveries: "
              f"{self.violations['duplicate_deliveries']}")
        print(f"  duplicate DSNs: {self.duplicate_dsns['group']} after process-group kills "
              f"(known window), {self.duplicate_dsns['term']} after SIGTERM to the group, "
              f"{self.duplicate_dsns['process']} after process-only kills, "
              f"{self.duplicate_dsns['hook']} after test-hook kills, "
              f"{self.duplicate_dsns['none']} without a kill")
        print(f"  left in queue: {self.violations['left_in_queue']}, records disagreeing: "
              f"{self.violations['records']}, stuck reruns: {self.stuck_reruns}, "
              f"integrity_check failures: {self.integrity_failures}")
        print(f"  violating trials: {self.violating_trials or 'none'}")


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.env = MilterPostfix(args.bin_dir)
        self.tb = self.env.testbed
        self.sweeper = args.bin_dir / "etrn-sweeper"
        self.tb.write_etrn_config(self.env.config, database=self.env.database,
                                  socket=self.env.socket, user="postfix",
                                  extra_top={"domain_policy": DOMAIN_POLICY})
        self.runs = self.tb.dir / "runs"
        self.runs.mkdir()
        self.full_run_seconds: list[float] = []
        self.totals = Totals()

    # ---- one trial -------------------------------------------------------

    def queue_batch(self, trial: int):
        queued, recipients = {}, []
        for number in range(self.args.messages):
            kind = self.rng.choice(KINDS)
            qid, rcpts = queue_message(self.tb, kind, trial, number, self.rng)
            queued[qid] = sum(r.etrn for r in rcpts)
            recipients += rcpts
        self.wait_until_ready(queued)
        return recipients

    def wait_until_ready(self, queued: dict[str, int]) -> None:
        """Until every message is deferred (past its first attempt: the
        sweeper acts on nothing else) and the milter recorded its ETRN
        recipients."""
        def state():
            names = {m["queue_id"]: m["queue_name"] for m in self.tb.postqueue_json()}
            counts = Counter(r["queue_id"] for r in self.env.rows(
                "SELECT queue_id FROM etrn_audit WHERE state = 'queued'"))
            return [q for q, n in queued.items() if names.get(q) != "deferred" or counts[q] < n]
        poll_until(state, lambda waiting: not waiting, 60,
                   lambda waiting: f"not deferred and recorded within 60s: {waiting}")

    def full_run(self) -> float:
        """How long a complete run takes: the 90th percentile of the last
        complete runs (2 s until one was seen)."""
        recent = sorted(self.full_run_seconds[-10:])
        return recent[int(0.9 * (len(recent) - 1))] if recent else 2.0

    def sweep_and_kill(self, trial: int) -> tuple[str, float]:
        """Runs the sweep and kills it; returns the kill kind (process,
        group, hook, or none when the run finished first) and the moment."""
        kill, delay = self.rng.choice(KILL_KINDS), self.rng.uniform(0, 1.1 * self.full_run())
        env = dict(os.environ)
        if self.args.kill_after:
            kill, delay = "hook", 300
            env["ETRN_SWEEPER_TEST_KILL_AFTER"] = self.args.kill_after
        with open(self.runs / f"trial-{trial}-killed.log", "wb") as log:
            started = time.monotonic()
            proc = subprocess.Popen([str(self.sweeper), "-c", str(self.env.config), "sweep",
                                     "--now", NOW, "--future-now"], stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True, env=env)
            try:
                rc = proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                if kill == "group":
                    os.killpg(proc.pid, signal.SIGKILL)
                elif kill == "term":
                    os.killpg(proc.pid, signal.SIGTERM)
                else:
                    proc.kill()
                proc.wait()
                return kill, delay
        if kill == "hook" and rc == -signal.SIGKILL:
            return kill, time.monotonic() - started
        if rc != 0:
            raise RuntimeError(f"trial {trial}: an unkilled sweep exited {rc}")
        self.full_run_seconds.append(time.monotonic() - started)
        return "none", delay

    def rerun_to_completion(self, trial: int, after_kill: bool) -> int | None:
        """Runs the sweeper until it exits 0 (75, another run's lock or
        something left for the next run, is retried); returns the number of
        runs, or None when it never completed (a stuck rerun). A first
        rerun after a kill counts as a complete run (after an early kill it
        does everything); one after a run that finished does nothing."""
        for attempt in range(1, RERUN_ATTEMPTS + 1):
            started = time.monotonic()
            result = subprocess.run([str(self.sweeper), "-c", str(self.env.config), "sweep",
                                     "--now", NOW, "--future-now"], capture_output=True, text=True, timeout=300)
            (self.runs / f"trial-{trial}-rerun-{attempt}.log").write_text(
                f"exit {result.returncode}\n{result.stdout}{result.stderr}")
            if result.returncode == 0:
                if attempt == 1 and after_kill:
                    self.full_run_seconds.append(time.monotonic() - started)
                return attempt
            if result.returncode != 75:
                return None
            time.sleep(2)
        return None

    def deliver_everything(self) -> list[dict]:
        """ETRN and flush to the site until the queue is empty; returns what
        is left (nothing, when all is well). Flushes again while anything is
        deferred: a copy the rerun re-injected may still be in its first
        attempt (active) at the first flush, and would then wait an hour."""
        self.tb.start_site_sink()
        for domain in (ETRN_DOMAIN, TRANSPORT_ONLY_DOMAIN):
            self.tb.etrn(domain)
        deadline = time.monotonic() + 120
        while True:
            queue = self.tb.postqueue_json()
            if not queue:
                time.sleep(0.5)  # the last DSN's file is renamed into new/ after the queue let go
                return []
            if all(m["queue_name"] == "hold" for m in queue) or time.monotonic() > deadline:
                return queue
            if any(m["queue_name"] == "deferred" for m in queue):
                self.tb.flush()
            time.sleep(1)

    def integrity_ok(self) -> bool:
        return [row[0] for row in db_rows(self.env.database, "PRAGMA integrity_check")] == ["ok"]

    def record_states(self, trial: int) -> dict[str, str]:
        rows = self.env.rows("SELECT recipient, state FROM etrn_audit WHERE recipient LIKE ?",
                             (f"t{trial}m%",))
        return {r["recipient"].lower(): r["state"] for r in rows}

    def trial(self, trial: int) -> None:
        recipients = self.queue_batch(trial)
        full_run = self.full_run()
        kill, delay = self.sweep_and_kill(trial)
        reruns = self.rerun_to_completion(trial, after_kill=kill != "none")
        queue_left = self.deliver_everything()
        verdict = judge(recipients, Outcome.collect(self.tb), queue_left)
        verdict.records = judge_records(recipients, self.record_states(trial))
        integrity = self.integrity_ok()
        problems = verdict.violations(kill)
        if reruns is None:
            problems.append("stuck rerun: the sweeper did not complete "
                            f"(see {self.runs}/trial-{trial}-rerun-*.log)")
        if not integrity:
            problems.append("PRAGMA integrity_check is not ok")
        self.count(trial, recipients, kill, verdict, reruns, integrity, problems)
        expired = sum(1 for r in recipients if r.etrn and not r.fate.delivered)
        print(f"trial {trial:4d}  kill {kill:7s} after {delay:5.2f}s of ~{full_run:4.2f}s  "
              f"recipients {len(recipients):3d} ({expired} expire)  "
              f"reruns {reruns}  duplicate DSNs {len(verdict.duplicate_dsns)}  "
              f"{'VIOLATION' if problems else 'ok'}", flush=True)
        for problem in problems:
            print(f"    {problem}", flush=True)
        self.set_aside(trial, keep=bool(problems or verdict.duplicate_dsns))

    def count(self, trial, recipients, kill, verdict, reruns, integrity, problems) -> None:
        t = self.totals
        t.trials += 1
        t.kills[kill] += 1
        for r in recipients:
            t.recipients["expired" if r.etrn and not r.fate.delivered else "survived"] += 1
        for name in ("lost", "removed_without_dsn", "missing_warning", "unexpected",
                     "duplicate_deliveries", "left_in_queue", "records"):
            t.violations[name] += len(getattr(verdict, name))
        t.duplicate_dsns[kill] += len(verdict.duplicate_dsns)
        t.stuck_reruns += reruns is None
        t.integrity_failures += not integrity
        if problems:
            t.violating_trials.append(trial)

    def set_aside(self, trial: int, keep: bool) -> None:
        """Empties the sender's mailbox, the site and the run logs for the
        next trial; keeps them under DIR/trials/N when the trial has
        something to show."""
        self.tb.stop_site_sink()
        files = list((self.tb.dir / "mail" / "alice" / "new").glob("*"))
        files += list((self.tb.dir / "sink").glob("msg-*"))
        files += list(self.runs.glob(f"trial-{trial}-*"))
        target = self.tb.dir / "trials" / str(trial)
        if keep:
            target.mkdir(parents=True)
        for f in files:
            if keep:
                shutil.move(str(f), target / f"{f.parent.name}-{f.name}")
            else:
                f.unlink()

    # ---- the whole soak --------------------------------------------------

    def run(self) -> int:
        print(f"soak: seed {self.args.seed}, {self.args.trials} trials of "
              f"{self.args.messages} messages, instance {self.tb.dir}", flush=True)
        self.env.start()
        for trial in range(1, self.args.trials + 1):
            self.trial(trial)
        self.totals.print(self.args.seed)
        return 1 if self.totals.violating_trials else 0

    def stop(self, keep: bool) -> None:
        self.tb.stop()
        self.env.milter.stop()
        self.tb.cleanup(remove=not keep)
        if keep:
            print(f"kept the instance directory {self.tb.dir}")


def main(argv) -> int:
    args = parse_args(argv)
    # A SIGTERM (ctest's timeout, a ^C from a wrapper) still stops Postfix.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(2))
    soak = Soak(args)
    status = 2
    try:
        status = soak.run()
    finally:
        soak.stop(keep=args.keep or status != 0)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
