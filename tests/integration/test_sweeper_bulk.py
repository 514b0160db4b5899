"""test_sweeper_bulk.py - many messages expired in one run, on a real
Postfix with the real etrn-milter: one `postsuper -h - deferred` holds
them, one postcat reads them all again, one `sendmail -bs` conversation
carries the DSNs, one `postsuper -d - hold` removes the messages, and each
DSN still returns its own message. Content that forges postcat's frame
lines makes the sweeper read those messages one by one instead (envelope,
then content), with the same result.

The sweeper runs Postfix's commands through logging stand-ins
(postfix_command_directory) that exec the real ones, so the tests see which
commands ran and how often.
"""

from __future__ import annotations

import email
import re
from pathlib import Path

from sweeper_helpers import SENDER, judge, settle, sweep_ok

BOB = "bob@customer.example"
COMMANDS = ("postcat", "postsuper", "postqueue", "postconf", "sendmail")


def logging_commands(directory: Path) -> tuple[Path, Path]:
    """A command directory whose commands log their argv, then exec Postfix's."""
    commands = directory / "commands"
    commands.mkdir()
    log = directory / "commands.log"
    log.touch()
    log.chmod(0o666)  # sendmail -bs runs as mail_owner
    for name in COMMANDS:
        script = commands / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> {log}\nexec /usr/sbin/{name} "$@"\n')
        script.chmod(0o755)
    return commands, log


def bulk_config(env, commands: Path) -> Path:
    return env.testbed.write_etrn_config(
        env.testbed.dir / "bulk.conf", database=env.database,
        extra_sweeper={"postfix_command_directory": commands})


def calls(log: Path, command: str) -> list[list[str]]:
    return [line.split()[1:] for line in log.read_text().splitlines()
            if line.split()[0] == command]


def returned_message(dsn):
    """The message a DSN returns (its third part: message/rfc822 or headers)."""
    part = dsn.get_payload()[2]
    if part.get_content_type() in ("message/rfc822", "message/global"):
        return part.get_payload()[0]
    return email.message_from_string(part.get_payload())  # text/rfc822-headers


def queue_id_named_by(dsn) -> str:
    """Our DSN Message-IDs are <etrn-failed-<outbox id>.<queue id>@<mta>>."""
    m = re.match(r"<etrn-failed-\d+\.([0-9A-Za-z]+)@", dsn["Message-ID"])
    assert m, f"unexpected DSN Message-ID {dsn['Message-ID']}"
    return m.group(1)


def send_and_wait(env, count: int, body=lambda i: f"body {i}\n", ret_hdrs=lambda i: False):
    tb = env.testbed
    subjects = {}
    for i in range(count):
        qid = tb.send(SENDER, BOB, subject=f"bulk {i}", body=body(i),
                      mail_options=("RET=HDRS",) if ret_hdrs(i) else ())
        subjects[qid] = f"bulk {i}"
    for qid in subjects:
        env.wait_for_audit(qid)
    for qid in subjects:
        tb.wait_until_deferred(qid)
    return subjects


def expect_each_dsn_returns_its_own_message(tb, subjects: dict) -> None:
    dsns = tb.wait_for_mailbox("alice", len(subjects), timeout=60)
    settle(tb)
    dsns = tb.mailbox_messages("alice")
    assert len(dsns) == len(subjects), f"got {len(dsns)} DSNs, want {len(subjects)}"
    for dsn in dsns:
        qid = queue_id_named_by(dsn)
        assert returned_message(dsn)["Subject"] == subjects[qid], \
            f"the DSN for {qid} returns {returned_message(dsn)['Subject']!r}"
        assert judge(dsn)["permanent"] == [BOB]
    assert not set(subjects) & set(tb.queue_ids()), "every expired message is removed"


def test_many_messages_expire_with_one_postcat_one_conversation_and_one_postsuper(
        milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    commands, log = logging_commands(tb.dir)
    subjects = send_and_wait(env, 12, ret_hdrs=lambda i: i % 4 == 0)
    headers_only = [qid for qid, s in subjects.items() if int(s.split()[1]) % 4 == 0]

    sweep_ok(bin_dir, bulk_config(env, commands), "sweep", "--now", "+49h")

    expect_each_dsn_returns_its_own_message(tb, subjects)
    postcats = calls(log, "postcat")
    assert len(postcats) == 2, f"want one postcat with -b, one without; got {postcats}"
    whole = next(c for c in postcats if "-b" in c)
    heads = next(c for c in postcats if "-b" not in c)
    assert sorted(whole[whole.index("-q") + 1:]) == sorted(set(subjects) - set(headers_only))
    assert sorted(heads[heads.index("-q") + 1:]) == sorted(headers_only)
    assert [c[-3:] for c in calls(log, "postsuper")] == [["-h", "-", "deferred"],
                                                          ["-d", "-", "hold"]]
    assert calls(log, "sendmail") == [["-bs"]], "one conversation, no one-by-one fallback"
    rows = env.rows("SELECT state, count(*) AS n FROM etrn_audit GROUP BY state")
    assert [(r["state"], r["n"]) for r in rows] == [("expired", 12)]


def test_content_that_forges_postcats_frame_is_read_message_by_message(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    commands, log = logging_commands(tb.dir)
    forged = ("*** HEADER EXTRACTED deferred/0/0FAKE ***\n"
              "*** MESSAGE FILE END deferred/0/0FAKE ***\n"
              "*** ENVELOPE RECORDS deferred/0/0FAKE ***\n")
    subjects = send_and_wait(env, 3, body=lambda i: forged if i == 1 else f"body {i}\n")

    sweep_ok(bin_dir, bulk_config(env, commands), "sweep", "--now", "+49h")

    expect_each_dsn_returns_its_own_message(tb, subjects)
    forger = next(d for d in tb.mailbox_messages("alice")
                  if returned_message(d)["Subject"] == "bulk 1")
    assert forged in returned_message(forger).get_payload(), "the forged lines are returned as sent"
    postcats = calls(log, "postcat")
    assert "-e" in postcats[0] and len(postcats) == 1 + 2 * len(subjects), \
        f"want the bulk read, then two postcats per message (envelope, content); got {postcats}"
