"""soak_check.py - what a trial left behind, counted per recipient, and
judged against each recipient's Fate.

    Outcome.collect(tb) -> Outcome   DSNs in the sender's mailbox and the
                                     site's deliveries, counted per recipient
    judge(recipients, outcome, kill, queue_left) -> Verdict
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from sweeper_helpers import delivery_status_fields

# The sweeper's DSNs carry Message-ID <etrn-<kind>-<id>.<queue id>@host>;
# anything else in the sender's mailbox came from somewhere else (Postfix).
_SWEEPER_DSN = re.compile(r"<etrn-")
_RCPT_ARGS = re.compile(rb"^X-Rcpt-Args: <([^>]*)>", re.M)
ACTION_KIND = {"failed": "failure", "delayed": "delay"}


@dataclass
class Outcome:
    dsns: Counter = field(default_factory=Counter)  # (recipient, "failure"|"delay") -> count
    deliveries: Counter = field(default_factory=Counter)  # recipient -> count at the site
    foreign: list = field(default_factory=list)  # mail in the sender's mailbox not from the sweeper

    @classmethod
    def collect(cls, tb, sender_localpart: str = "alice") -> "Outcome":
        out = cls()
        for message in tb.mailbox_messages(sender_localpart):
            if not _SWEEPER_DSN.search(message.get("Message-ID", "")):
                out.foreign.append(message.get("Subject", "(no subject)"))
                continue
            for group in delivery_status_fields(message)[1:]:
                address = group.get("final-recipient", "").partition(";")[2].strip().lower()
                out.dsns[(address, ACTION_KIND.get(group.get("action", ""), "other"))] += 1
        for raw in tb.site_messages():
            for address in _RCPT_ARGS.findall(raw):
                out.deliveries[address.decode().lower()] += 1
        return out


@dataclass
class Verdict:
    """Counts of one trial. Violations fail the soak; duplicates after a
    SIGKILL of the process group are the known window and are only reported."""
    lost: list = field(default_factory=list)  # a survivor never delivered
    removed_without_dsn: list = field(default_factory=list)  # expired, gone, no failure DSN
    missing_warning: list = field(default_factory=list)  # a due delay DSN never sent
    unexpected: list = field(default_factory=list)  # a DSN or delivery it must not get
    duplicate_deliveries: list = field(default_factory=list)
    duplicate_dsns: list = field(default_factory=list)
    left_in_queue: list = field(default_factory=list)
    records: list = field(default_factory=list)  # the database disagrees (judge_records)
    foreign: list = field(default_factory=list)

    def violations(self, kill: str) -> list[str]:
        """Everything wrong with the trial; a duplicate DSN only counts when
        the kill was not a SIGKILL of the whole process group (the known window)."""
        found = [(name, getattr(self, name)) for name in (
            "lost", "removed_without_dsn", "missing_warning", "unexpected",
            "duplicate_deliveries", "left_in_queue", "records", "foreign")]
        if kill != "group":
            found.append(("duplicate_dsns", self.duplicate_dsns))
        return [f"{name}: {items}" for name, items in found if items]


def _judge_count(verdict: Verdict, what: str, address: str, kind: str, got: int, want: int,
                 missing: list) -> None:
    if got == want:
        return
    entry = f"{address} ({kind}) {what} got {got} want {want}"
    if got == 0:
        missing.append(entry)
    elif want == 0:
        verdict.unexpected.append(entry)
    elif what == "delivered":
        verdict.duplicate_deliveries.append(entry)
    else:
        verdict.duplicate_dsns.append(entry)


def judge(recipients, outcome: Outcome, queue_left: list[dict]) -> Verdict:
    verdict = Verdict(foreign=list(outcome.foreign))
    for r in recipients:
        a = r.address.lower()
        _judge_count(verdict, "delivered", a, r.kind, outcome.deliveries[a], r.fate.delivered,
                     verdict.lost)
        _judge_count(verdict, "failure DSN", a, r.kind, outcome.dsns[(a, "failure")],
                     r.fate.failure, verdict.removed_without_dsn)
        _judge_count(verdict, "delay DSN", a, r.kind, outcome.dsns[(a, "delay")], r.fate.delay,
                     verdict.missing_warning)
    known = {r.address.lower() for r in recipients}
    verdict.unexpected += [f"{a}: {n} {kind} DSN(s), not a recipient of this trial or an "
                           f"unknown Action" for (a, kind), n in outcome.dsns.items()
                           if a not in known or kind == "other"]
    verdict.left_in_queue = [f"{m['queue_id']} in {m['queue_name']}" for m in queue_left]
    return verdict


def judge_records(recipients, states: dict[str, str]) -> list[str]:
    """The database says what happened: an expired ETRN recipient's record
    is `expired`, a survivor's is not."""
    wrong = []
    for r in recipients:
        if not r.etrn:
            continue
        got = states.get(r.address.lower(), "no record")
        expired = not r.fate.delivered
        if (got == "expired") != expired:
            wrong.append(f"{r.address} ({r.kind}) record {got}, want "
                         f"{'expired' if expired else 'not expired'}")
    return wrong
