"""test_log_lines.py - the log lines a Postfix admin greps for, as the real
etrn-milter and etrn-sweeper wrote them about a message that a real Postfix
queued: recorded, warned, expired, removed, each with Postfix's queue ID
first and Postfix's "key=value, ..." items, and the DSN Message-ID in a line
the one of the DSN actually delivered.

The milter runs as under systemd (JOURNAL_STREAM names its stderr): each
line is "<priority>message", what journald reads, with no timestamp of
ours. The sweeper runs with --verbose: its stderr line is
"<time> etrn-sweeper[<pid>]: <level>: <message>", and <message> is exactly
what its syslog sink sends (the sink's pattern is the message alone).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sweeper_helpers import SENDER, age_records, run_sweeper

BOB = "bob@customer.example"
ORIGINAL_BOB = "bob@old.example"

SWEEPER_LINE = re.compile(r"^\S+ etrn-sweeper\[\d+\]: (\w+): (.*)$")


def sweeper_messages(stderr: str) -> list[tuple[str, str]]:
    """(level, message) of each line, the message as syslog gets it."""
    out = []
    for line in stderr.splitlines():
        m = SWEEPER_LINE.match(line)
        assert m, f"not an etrn-sweeper log line: {line!r}"
        out.append((m.group(1), m.group(2)))
    return out


def lines_about(messages, qid: str) -> list[str]:
    return [text for _, text in messages if text.startswith(f"{qid}: ")]


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def dsn_with_id_prefix(messages, prefix: str):
    found = [m for m in messages if m["Message-ID"].startswith(f"<{prefix}")]
    assert len(found) == 1, f"got {[m['Message-ID'] for m in messages]}, want one {prefix}*"
    return found[0]


def sweep(bin_dir, env, when: str) -> list[tuple[str, str]]:
    result = run_sweeper(bin_dir, env.config, "--verbose", "sweep", "--now", when)
    assert result.returncode == 0, f"exit {result.returncode}:\n{result.stderr}"
    return sweeper_messages(result.stderr)


def delay_of(line: str) -> int:
    m = re.search(r", delay=(\d+), ", line)
    assert m, f"no delay= in {line!r}"
    return int(m.group(1))


def test_one_message_is_followed_by_its_queue_id_from_record_to_dsn(make_milter_postfix, bin_dir):
    def as_under_systemd(env):
        env.milter.as_journal_stream = True

    env = make_milter_postfix(before_start=as_under_systemd)
    tb = env.testbed
    qid = tb.send(SENDER, [(BOB, [f"ORCPT=rfc822;{ORIGINAL_BOB}"])], subject="follow me",
                  mail_options=["SIZE=2048"])
    row = env.wait_for_audit(qid)[0]
    tb.wait_until_deferred(qid)

    # The milter: one line, journald's priority first, then the queue ID.
    recorded = [line for line in env.milter.log().splitlines() if f"{qid}: recorded, " in line]
    assert len(recorded) == 1, f"got {recorded}; log:\n{env.milter.log()[-2000:]}"
    want = (f"<6>{qid}: recorded, from=<{SENDER}>, size=2048, nrcpt=1, to=<{BOB}>, "
            f"priority=normal, expires={iso(row['expires_at'])}, commit_ms=")
    assert recorded[0].startswith(want), f"got {recorded[0]!r}, want it to start {want!r}"
    assert re.fullmatch(r"[0-9]+\.[0-9]", recorded[0][len(want):]), recorded[0]
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+", recorded[0]), \
        "no timestamp of ours: journald and syslog add theirs"

    # Warned: the delay DSN delivered is the one the line names.
    warned = lines_about(sweep(bin_dir, env, "+5h"), qid)
    delay_dsn = dsn_with_id_prefix(tb.wait_for_mailbox("alice", 1), "etrn-delayed-")
    assert len(warned) == 1, f"got {warned}"
    expires = iso(row["expires_at"])
    want = (f"{qid}: to=<{BOB}>, orig_to=<{ORIGINAL_BOB}>, relay=none, delay={delay_of(warned[0])}, "
            f"dsn=4.4.7, status=delayed (waiting for customer.example to collect its mail with "
            f"ETRN until {expires}), warning sent to sender {delay_dsn['Message-ID']}")
    assert warned[0] == want
    assert 5 * 3600 <= delay_of(warned[0]) <= 5 * 3600 + 600

    # Expired: the failure DSN delivered is the one the line names; then removed.
    messages = sweep(bin_dir, env, "+49h")
    about = lines_about(messages, qid)
    failure_dsn = dsn_with_id_prefix(tb.wait_for_mailbox("alice", 2), "etrn-failed-")
    assert len(about) == 2, f"got {about}"
    want = (f"{qid}: to=<{BOB}>, orig_to=<{ORIGINAL_BOB}>, relay=none, delay={delay_of(about[0])}, "
            f"dsn=5.4.7, status=expired (customer.example did not collect its mail with ETRN "
            f"within 2d), returned to sender {failure_dsn['Message-ID']}")
    assert about[0] == want
    assert 49 * 3600 <= delay_of(about[0]) <= 49 * 3600 + 600
    assert about[1] == f"{qid}: removed (expired)"
    assert all(level == "info" for level, text in messages if text in about)
    assert qid not in tb.queue_ids()

    # Postfix's own lines carry the same queue ID: one grep follows both.
    assert f"{qid}: from=<{SENDER}>" in tb.maillog(), "Postfix's qmgr line"
    print("\n" + "\n".join([recorded[0], *warned, *about]))


def test_a_split_names_the_copy_of_the_survivors(milter_postfix, bin_dir):
    """bob (ETRN) expires; dave (not ETRN, also deferred) survives in a copy."""
    env, tb = milter_postfix, milter_postfix.testbed
    dave = "dave@elsewhere.example"
    qid = tb.send(SENDER, [BOB, dave], subject="split me")
    env.wait_for_audit(qid, 1)
    tb.wait_until_deferred(qid)
    about = lines_about(sweep(bin_dir, env, "+49h"), qid)
    copies = [m["queue_id"] for m in tb.postqueue_json()
              if any(r["address"] == dave for r in m["recipients"])]
    assert len(copies) == 1, f"got {tb.postqueue_json()}"
    assert f"{qid}: split, survivors requeued as {copies[0]}" in about, f"got {about}"
    assert about[-1] == f"{qid}: removed (split: its expired recipients returned)", f"got {about}"
    assert any(line.startswith(f"{qid}: to=<{BOB}>, relay=none, ") and ", status=expired (" in line
               for line in about), f"got {about}"


def test_mail_fetched_by_etrn_departs_with_a_line(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = tb.send(SENDER, BOB, subject="fetched in time")
    env.wait_for_audit(qid)
    tb.wait_until_deferred(qid)
    tb.start_site_sink()
    assert tb.etrn("customer.example")[0] == 250
    tb.wait_for_queue(lambda q: all(m["queue_id"] != qid for m in q), timeout=30)
    age_records(env.database)  # past the sweeper's grace for just-recorded mail

    about = lines_about(sweep(bin_dir, env, "+1h"), qid)
    assert len(about) == 1, f"got {about}"
    assert about[0] == f"{qid}: to=<{BOB}>, delay={delay_of(about[0])}, status=departed (left the queue)"


def test_mail_nobody_recorded_is_adopted_with_a_line(postfix, bin_dir):
    tb = postfix
    (tb.dir / "db").mkdir()
    config = tb.write_etrn_config(tb.dir / "etrn-sweeper.conf", database=tb.dir / "db" / "etrn.db")
    qid = tb.send(SENDER, BOB, subject="nobody recorded me", mail_options=["SIZE=999"])
    tb.wait_until_deferred(qid)

    result = run_sweeper(bin_dir, config, "--verbose", "sweep", "--now", "+1h")
    assert result.returncode == 0, result.stderr
    about = lines_about(sweeper_messages(result.stderr), qid)
    assert len(about) == 1, f"got {about}"
    want = re.compile(rf"{qid}: adopted, from=<{re.escape(SENDER)}>, size=\d+, nrcpt=1, "
                      rf"to=<{re.escape(BOB)}>, priority=normal, expires=\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    assert want.fullmatch(about[0]), f"got {about[0]!r}"
