#!/usr/bin/python3
"""demo.py - the whole ETRN Sweeper story on a private Postfix.

Run through scripts/demo (which builds first). Uses the same private
Postfix harness as the integration tests (tests/integration/).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from milter_testbed import MilterPostfix  # noqa: E402  (the shared harness)


def banner(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def sh(argv: list[str], check: bool = True) -> str:
    print("$ " + " ".join(argv), flush=True)
    done = subprocess.run(argv, text=True, capture_output=True)
    out = (done.stdout + done.stderr).rstrip()
    if out:
        print(out, flush=True)
    if check and done.returncode != 0:
        raise SystemExit(f"demo: {argv[0]} exited {done.returncode}")
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", type=Path, required=True)
    parser.add_argument("--keep", action="store_true", help="leave the instance directory")
    args = parser.parse_args()
    bin_dir = args.bin_dir.resolve()

    env = MilterPostfix(bin_dir)
    tb = env.testbed
    sweeper = [str(bin_dir / "etrn-sweeper"), "-c", str(env.config)]
    sqlite = ["sqlite3", "-header", "-column", str(env.database)]
    try:
        banner(f"A private Postfix on 127.0.0.1:{tb.port} with etrn-milter; "
               "customer.example is an ETRN-only site that is offline")
        env.start()
        print((env.config).read_text())

        banner("Mail arrives: two ETRN recipients, one urgent message, one ordinary message")
        q1 = tb.send("alice@sender.example", ["bob@customer.example", "carol@customer.example"],
                     subject="Quarterly figures", rcpt_options=["NOTIFY=FAILURE,DELAY"])
        q2 = tb.send("alice@sender.example", "dave@customer.example", subject="Server down!",
                     headers={"Priority": "urgent"})
        tb.send("alice@sender.example", "erin@elsewhere.example", subject="Not for an ETRN site")
        env.wait_for_audit(q1, count=2)
        env.wait_for_audit(q2, count=1)
        tb.wait_until_deferred(q1)  # past Postfix's first attempt: the sweeper
        tb.wait_until_deferred(q2)  # leaves mail in delivery alone
        print(f"queued as {q1} (bob, carol) and {q2} (dave, urgent)")

        banner("What the milter recorded (sqlite3 DB 'select * from etrn_audit')")
        sh(sqlite + ["select queue_id, sender, recipient, priority, state, "
                     "datetime(expires_at,'unixepoch') as expires from etrn_audit"])

        banner("The Postfix queue: the ETRN mail waits, deferred by defer_transports")
        sh(["postqueue", "-c", str(tb.dir), "-p"])

        banner("Forecast: what a sweep 49 hours from now would do (changes nothing)")
        sh(sweeper + ["sweep", "--dry-run", "--now", "+49h"])

        banner("Five hours later: delay warnings (Action: delayed, Status 4.4.7)")
        sh(sweeper + ["sweep", "--verbose", "--now", "+5h", "--future-now"])

        banner("Two days later: the site never said ETRN; the mail expires")
        sh(sweeper + ["sweep", "--verbose", "--now", "+49h", "--future-now"])

        banner("The DSNs in alice's mailbox")
        msgs = tb.wait_for_mailbox("alice", count=4, timeout=30)
        for msg in msgs:
            print(f"- Subject: {msg['Subject']}")
            for part in msg.walk():
                if part.get_content_type() in ("message/delivery-status",
                                               "message/global-delivery-status"):
                    for block in part.get_payload():
                        for key in ("Final-Recipient", "Action", "Status", "Will-Retry-Until"):
                            if block.get(key):
                                print(f"    {key}: {block.get(key)}")
        last = msgs[-1]
        print("\nThe last DSN in full:\n")
        print(last.as_string(policy=email.policy.default)[:3000])

        banner("The queue afterwards: the expired mail is gone")
        sh(["postqueue", "-c", str(tb.dir), "-p"])

        banner("The audit: etrn-sweeper report, shape, and the history")
        sh(sweeper + ["report"])
        sh(sweeper + ["shape"])
        sh(sqlite + ["select datetime(at,'unixepoch') as at, queue_id, recipient, kind, detail "
                     "from etrn_events order by rowid"])
        banner("Done")
        return 0
    finally:
        env.testbed.stop()
        env.milter.stop()
        if args.keep:
            env.testbed.cleanup(remove=False)
            print(f"instance left in {env.dir}")
        else:
            env.testbed.cleanup()


if __name__ == "__main__":
    sys.exit(main())
