"""soak_mail.py - the kinds of mail the soak queues, and what each of its
recipients must end up with after `etrn-sweeper sweep --now +49h`.

At +49h, with the sweeper's defaults (expire_after = 48h, urgent 24h,
non-urgent 72h, warn_after = 4h) and the soak's one domain_policy
(transport-only.example expire_after=72h), normal and urgent mail to
customer.example expires while non-urgent mail and transport-only.example
get their delay warning and survive: one sweep warns some and expires
others, and splits messages whose recipients differ.

    KINDS                   the message kinds (Kind)
    Recipient.fate          Fate: site deliveries, failure DSNs, delay DSNs
    QueuedRecipient         an address in one queued message, with its kind
    queue_message(tb, kind, trial, number, rng) -> [QueuedRecipient]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from postfix_testbed import ELSEWHERE_DOMAIN, ETRN_DOMAIN, TRANSPORT_ONLY_DOMAIN

SENDER = "alice@sender.example"
DOMAIN_POLICY = f"{TRANSPORT_ONLY_DOMAIN} expire_after=72h"
NOW = "+49h"


@dataclass(frozen=True)
class Fate:
    """How often a recipient must reach the site and get each kind of DSN."""
    delivered: int = 0
    failure: int = 0
    delay: int = 0


EXPIRES = Fate(failure=1)
EXPIRES_SILENTLY = Fate()
WARNED_THEN_DELIVERED = Fate(delivered=1, delay=1)
DELIVERED = Fate(delivered=1)


@dataclass(frozen=True)
class Recipient:
    domain: str
    fate: Fate
    options: tuple[str, ...] = ()

    @property
    def etrn(self) -> bool:
        """Recorded by the milter (customer.example by name, transport-only
        by its etrn-only transport)."""
        return self.domain in (ETRN_DOMAIN, TRANSPORT_ONLY_DOMAIN)


@dataclass(frozen=True)
class Kind:
    name: str
    recipients: tuple[Recipient, ...]
    sender: str = SENDER
    mail_options: tuple[str, ...] = ()
    headers: dict = field(default_factory=dict)
    body_bytes: int = 0


def _customer(fate: Fate, *options: str) -> Recipient:
    return Recipient(ETRN_DOMAIN, fate, tuple(options))


_ELSEWHERE = Recipient(ELSEWHERE_DOMAIN, DELIVERED)
_TRANSPORT_ONLY = Recipient(TRANSPORT_ONLY_DOMAIN, WARNED_THEN_DELIVERED)
_BULK = {"Precedence": "bulk"}

KINDS: tuple[Kind, ...] = (
    Kind("plain", (_customer(EXPIRES),)),
    Kind("several", (_customer(EXPIRES), _customer(EXPIRES), _customer(EXPIRES))),
    Kind("split-elsewhere", (_customer(EXPIRES), _ELSEWHERE)),
    Kind("split-etrn", (_customer(EXPIRES), _TRANSPORT_ONLY)),
    Kind("split-both", (_customer(EXPIRES), _TRANSPORT_ONLY, _ELSEWHERE)),
    Kind("notify-never", (_customer(EXPIRES_SILENTLY, "NOTIFY=NEVER"),)),
    Kind("notify-delay", (_customer(EXPIRES_SILENTLY, "NOTIFY=DELAY"),)),
    Kind("notify-failure-success", (_customer(EXPIRES, "NOTIFY=FAILURE,SUCCESS"),)),
    Kind("notify-mixed", (_customer(EXPIRES_SILENTLY, "NOTIFY=NEVER"), _customer(EXPIRES),
                          _customer(EXPIRES_SILENTLY, "NOTIFY=DELAY"))),
    Kind("ret-hdrs", (_customer(EXPIRES), _customer(EXPIRES)), mail_options=("RET=HDRS",)),
    Kind("null-sender", (_customer(EXPIRES_SILENTLY), _customer(EXPIRES_SILENTLY)), sender=""),
    Kind("urgent", (_customer(EXPIRES),), headers={"Priority": "urgent"}),
    Kind("non-urgent", (_customer(WARNED_THEN_DELIVERED), _customer(DELIVERED, "NOTIFY=FAILURE")),
         headers=_BULK),
    Kind("non-urgent-split", (_customer(WARNED_THEN_DELIVERED), _ELSEWHERE), headers=_BULK),
    Kind("non-urgent-null-sender", (_customer(DELIVERED),), sender="", headers=_BULK),
    Kind("big", (_customer(EXPIRES), _ELSEWHERE), body_bytes=70 * 1024),
)


@dataclass(frozen=True)
class QueuedRecipient:
    address: str
    kind: str
    fate: Fate
    etrn: bool


def _body(kind: Kind, rng) -> str:
    if not kind.body_bytes:
        return f"A {kind.name} message for the soak.\n"
    line = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(76)) + "\n"
    return line * (kind.body_bytes // len(line) + 1)


def queue_message(tb, kind: Kind, trial: int, number: int, rng) -> tuple[str, list[QueuedRecipient]]:
    """Sends one message of `kind` over SMTP; returns its queue ID and its
    recipients (addresses unique to this trial and message)."""
    queued = [QueuedRecipient(f"t{trial}m{number}r{j}@{r.domain}", kind.name, r.fate, r.etrn)
              for j, r in enumerate(kind.recipients)]
    to = [(q.address, list(r.options)) for q, r in zip(queued, kind.recipients)]
    qid = tb.send(kind.sender, to, mail_options=kind.mail_options, headers=kind.headers,
                  subject=f"soak trial {trial} message {number} ({kind.name})",
                  body=_body(kind, rng))
    return qid, queued
