"""test_sweeper_protocol.py - the expiry protocol on a real Postfix with the
real etrn-milter, each promise in the situation that breaks it:

- a message in delivery to a slow site (smtp-sink -w) while a sweep runs
  past its expiry is neither bounced nor removed: the site gets it, the
  record departs later;
- a message the site collects between the listing and the hold is not
  bounced;
- the DSN goes to the sender as Postfix queued it (an unqualified sender
  with myorigin, a canonical-mapped sender), and says Postfix's own
  myhostname when reporting_mta is not set; a reporting_mta with a port
  stops start-up (exit 78, file and line);
- a DSN refused with the whole original goes out with its headers only; one
  refused even so keeps its message on hold, tells the postmaster, marks
  the recipient `attention`, exits 1 - and a later run still expires other
  mail;
- a run killed right after the hold leaves nothing on hold after the next;
- a split whose re-injection is refused puts the original back and says so;
  survivors are re-injected in chunks of smtpd_recipient_limit; an admin's
  hold is kept on the survivors' copy.
Every DSN received is judged by tests/tools/judge_dsn.py.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

from sweeper_helpers import (SENDER, age_records, delivery_status_fields, judge, mailbox_count,
                             run_sweeper, settle, sweep_ok)

BOB = "bob@customer.example"
CAROL = "carol@customer.example"
DAVE = "dave@elsewhere.example"


def states(env, queue_id):
    return {row["recipient"]: row["state"] for row in env.audit_for(queue_id)}


def kinds(env, queue_id):
    return [r["kind"] for r in env.rows(
        "SELECT kind FROM etrn_events WHERE queue_id = ? ORDER BY rowid", (queue_id,))]


def queue_names(tb) -> dict:
    return {m["queue_id"]: m["queue_name"] for m in tb.postqueue_json()}


def held_by_sweeper(env, queue_id) -> bool:
    rows = env.rows("SELECT held_by_sweeper_at FROM messages WHERE queue_id = ? AND "
                    "done_at IS NULL", (queue_id,))
    return any(r["held_by_sweeper_at"] is not None for r in rows)


def sweep(bin_dir, config, *args, want: int):
    result = run_sweeper(bin_dir, config, *args)
    assert result.returncode == want, (
        f"etrn-sweeper {' '.join(args)}: exit {result.returncode}, want {want}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def queue_and_wait(env, sender, to, **kw) -> str:
    """Sends a message, waits until the milter recorded it and it sits in
    the deferred queue (past Postfix's first attempt); its queue ID."""
    qid = env.testbed.send(sender, to, **kw)
    env.wait_for_audit(qid, 1)
    env.testbed.wait_until_deferred(qid)
    return qid


def expect_delivered_then_departed(env, bin_dir, queue_id) -> None:
    """The site received the message, and no DSN was sent for it."""
    tb = env.testbed
    tb.wait_for_queue(lambda q: all(m["queue_id"] != queue_id for m in q), timeout=60)
    assert len(tb.site_messages()) == 1, "the site received it"
    # Past the sweeper's grace for just-recorded mail (kDepartureGrace, 60 s
    # of real time), which the sweeps would otherwise wait out.
    age_records(env.database)
    sweep_until_departed(bin_dir, env.config, env, queue_id)
    settle(tb)
    assert states(env, queue_id) == {BOB: "departed"}
    assert mailbox_count(tb) == 0, "no DSN for mail that was delivered"


def sweep_until_departed(bin_dir, config, env, queue_id, timeout: float = 120) -> None:
    """Sweeps until the record of a delivered message departs (the sweeper
    closes a record only once it is sure the message is gone)."""
    deadline = time.time() + timeout
    while True:
        sweep_ok(bin_dir, config, "sweep", "--now", "+49h")
        if set(states(env, queue_id).values()) == {"departed"} or time.time() > deadline:
            return
        time.sleep(1)


def set_sweeper_keys(config: Path, **keys) -> None:
    """Sets (or, with None, removes) [sweeper] keys of an etrn-sweeper.conf."""
    text = config.read_text()
    for key, value in keys.items():
        text = re.sub(rf"^{key} = .*\n", "", text, flags=re.M)
        if value is not None:
            text += f"{key} = {value}\n"  # [sweeper] is the last section
    config.write_text(text)


def write_map(tb, name: str, lines: list[str]) -> str:
    kind = "regexp" if name.endswith(".regexp") else "texthash"
    return tb.write_map(name, "".join(line + "\n" for line in lines), kind=kind)


# ---- the race with delivery ---------------------------------------------------


def test_a_message_in_delivery_to_a_slow_site_is_neither_bounced_nor_removed(milter_postfix,
                                                                            bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = queue_and_wait(env, SENDER, BOB, subject="collected slowly")
    tb.start_site_sink(data_delay=15)
    assert tb.etrn("customer.example")[0] == 250
    tb.wait_for_queue(lambda q: any(m["queue_id"] == qid and m["queue_name"] == "active"
                                    for m in q))

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")

    assert queue_names(tb).get(qid) == "active", "not removed, not held: it is being delivered"
    assert states(env, qid) == {BOB: "queued"}, "neither expired nor departed yet"
    expect_delivered_then_departed(env, bin_dir, qid)


def postsuper_that_lets_the_site_collect_first(tb) -> Path:
    """A command directory whose postsuper, asked to hold deferred mail,
    first lets the site collect customer.example's mail (postqueue -s, as
    ETRN does) and waits until it left the deferred queue: the moment
    between the sweeper's listing and its hold."""
    commands = tb.dir / "commands"
    commands.mkdir()
    for name in ("postqueue", "postcat", "postconf", "sendmail"):
        (commands / name).symlink_to(f"/usr/sbin/{name}")
    script = commands / "postsuper"
    script.write_text(f"""#!/bin/sh
if [ "$3" = "-h" ] && [ "$5" = "deferred" ]; then
  /usr/sbin/postqueue -c {tb.dir} -s customer.example
  for i in $(seq 100); do
    /usr/sbin/postqueue -c {tb.dir} -j | grep -q '"queue_name": *"deferred"' || break
    sleep 0.1
  done
fi
exec /usr/sbin/postsuper "$@"
""")
    script.chmod(0o755)
    return commands


def test_a_message_collected_between_the_listing_and_the_hold_is_not_bounced(milter_postfix,
                                                                             bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = queue_and_wait(env, SENDER, BOB, subject="collected at the last moment")
    tb.start_site_sink(data_delay=5)
    set_sweeper_keys(env.config,
                     postfix_command_directory=postsuper_that_lets_the_site_collect_first(tb))

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")

    assert states(env, qid) == {BOB: "queued"}, "not bounced: the hold found it in delivery"
    assert not held_by_sweeper(env, qid), "the hold that did not happen is not on record"
    set_sweeper_keys(env.config, postfix_command_directory=None)
    expect_delivered_then_departed(env, bin_dir, qid)


# ---- the DSN's recipient and Reporting-MTA --------------------------------------


def test_an_unqualified_sender_gets_the_dsn_at_the_address_postfix_queued(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    tb.main_cf_set(myorigin="sender.example")
    qid = tb.send("alice", BOB, subject="from an unqualified sender")
    env.wait_for_audit(qid)
    assert tb.wait_until_deferred(qid)["sender"] == SENDER, "Postfix appended myorigin"
    assert env.rows("SELECT sender FROM messages")[0]["sender"] in ("alice", "<alice>")

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")

    dsn = tb.wait_for_mailbox("alice", 1)[0]
    assert judge(dsn)["permanent"] == [BOB]
    assert dsn["To"] == f"<{SENDER}>"
    assert qid not in tb.queue_ids()
    no_dsn = env.rows("SELECT * FROM etrn_events WHERE detail LIKE 'no DSN%'")
    assert not no_dsn, "never removed without a DSN"


def test_a_canonical_mapped_sender_gets_the_dsn_at_the_address_postfix_queued(milter_postfix,
                                                                             bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    tb.main_cf_set(sender_canonical_maps=write_map(
        tb, "sender_canonical", ["old@legacy.example carol@sender.example"]))
    qid = tb.send("old@legacy.example", BOB, subject="from a rewritten sender")
    env.wait_for_audit(qid)
    assert tb.wait_until_deferred(qid)["sender"] == "carol@sender.example"

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")

    assert judge(tb.wait_for_mailbox("carol", 1)[0])["permanent"] == [BOB]
    assert mailbox_count(tb, "other") == 0


def test_without_reporting_mta_the_dsn_names_postfixs_own_myhostname(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    tb.main_cf_set(myhostname="own-name.provider.example", myorigin="sender.example")
    set_sweeper_keys(env.config, reporting_mta=None)
    qid = queue_and_wait(env, SENDER, BOB, subject="who reports")

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")

    dsn = tb.wait_for_mailbox("alice", 1)[0]
    assert judge(dsn)["permanent"] == [BOB]
    assert delivery_status_fields(dsn)[0]["reporting-mta"] == "dns; own-name.provider.example"
    assert dsn["From"] == "Mail Delivery System <MAILER-DAEMON@own-name.provider.example>"


def test_a_reporting_mta_with_a_port_stops_start_up_naming_file_and_line(milter_postfix, bin_dir):
    env = milter_postfix
    set_sweeper_keys(env.config, reporting_mta="mx.example:25")
    line = env.config.read_text().splitlines().index("reporting_mta = mx.example:25") + 1
    for args in (("check-config",), ("sweep",), ("sweep", "--dry-run")):
        result = sweep(bin_dir, env.config, *args, want=78)
        assert f"{env.config}:{line}: reporting_mta: " in result.stderr, result.stderr
        assert "not a host name" in result.stderr


# ---- refused DSNs -------------------------------------------------------------


def test_a_dsn_refused_with_the_whole_original_goes_out_with_its_headers(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = queue_and_wait(env, SENDER, BOB, subject="refuse-whole", body="THE BODY\n")
    # Applies to the headers of an attached message/rfc822: the original
    # passes, the DSN returning it whole does not; its headers-only form does.
    tb.main_cf_set(nested_header_checks=write_map(
        tb, "nested.regexp", ["/^Subject: refuse-whole/ REJECT no whole originals here"]))

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")

    dsn = tb.wait_for_mailbox("alice", 1)[0]
    assert judge(dsn)["permanent"] == [BOB]
    assert [p.get_content_type() for p in dsn.get_payload()][-1] == "text/rfc822-headers"
    assert b"THE BODY" not in dsn.as_bytes() and b"refuse-whole" in dsn.as_bytes()
    assert qid not in tb.queue_ids()
    assert "no whole originals here" in tb.maillog(), "Postfix did refuse the first form"
    assert states(env, qid) == {BOB: "expired"}


def test_a_dsn_refused_even_as_headers_keeps_its_message_on_hold_for_a_person(milter_postfix,
                                                                            bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    set_sweeper_keys(env.config, postmaster="postmaster@sender.example")
    erin = "erin@sender.example"
    qid = queue_and_wait(env, erin, BOB, subject="its DSN is refused")
    tb.main_cf_set(header_checks=write_map(
        tb, "header_checks.regexp", [f"/^To: <{re.escape(erin)}>/ REJECT no DSN to erin here"]))

    first = sweep(bin_dir, env.config, "sweep", "--now", "+49h", want=1)

    assert qid in first.stderr and "kept on hold" in first.stderr, first.stderr
    attention = re.search(rf"etrn-sweeper\[\d+\]: warning: ({qid}: .*status=attention.*)", first.stderr)
    assert attention, first.stderr
    assert attention.group(1).startswith(
        f"{qid}: to=<{BOB}>, relay=none, dsn=5.4.7, status=attention (failure DSN not deliverable: "), \
        attention.group(1)
    assert attention.group(1).endswith(
        f"kept on hold for a person: release it with postsuper -H {qid}, "
        f"or remove it with postsuper -d {qid} hold"), attention.group(1)
    assert queue_names(tb).get(qid) == "hold", "never removed without a DSN"
    assert states(env, qid) == {BOB: "attention"}
    assert {"dsn_refused", "attention", "postmaster_notified"} <= set(kinds(env, qid))
    notice = tb.wait_for_mailbox("postmaster", 1)[0]
    body = notice.get_payload(decode=True).decode()
    assert qid in notice["Subject"] and qid in body and BOB in body, body
    assert f"postsuper -H {qid}" in body and "no DSN to erin here" in body
    assert mailbox_count(tb, "erin") == 0

    other = queue_and_wait(env, SENDER, CAROL, subject="expires all the same")
    second = sweep(bin_dir, env.config, "sweep", "--now", "+49h", want=1)
    assert judge(tb.wait_for_mailbox("alice", 1)[0])["permanent"] == [CAROL], \
        "one refused DSN does not stop the rest"
    assert other not in tb.queue_ids()
    assert qid in second.stderr, "still on hold: the run still says a person is needed"
    settle(tb)
    assert mailbox_count(tb, "postmaster") == 1, "told once"
    assert queue_names(tb).get(qid) == "hold"

    subprocess.run(["/usr/sbin/postsuper", "-c", str(tb.dir), "-H", qid], check=True,
                   capture_output=True, env=tb.env)
    sweep(bin_dir, env.config, "sweep", "--now", "+49h", want=0)
    assert states(env, qid) == {BOB: "attention"}, "a person released it: it is theirs now"


# ---- a crash right after the hold ------------------------------------------------


def test_a_run_killed_right_after_the_hold_leaves_nothing_on_hold(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = queue_and_wait(env, SENDER, BOB, subject="held, then killed")

    killed = run_sweeper(bin_dir, env.config, "sweep", "--now", "+49h",
                         env_extra={"ETRN_SWEEPER_TEST_KILL_AFTER": "held"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert queue_names(tb).get(qid) == "hold" and held_by_sweeper(env, qid)

    sweep_ok(bin_dir, env.config, "sweep")  # the real time: nothing is due

    assert queue_names(tb).get(qid) == "deferred", "put back where it was"
    assert not held_by_sweeper(env, qid)
    settle(tb)
    assert mailbox_count(tb) == 0 and states(env, qid) == {BOB: "queued"}
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    assert judge(tb.wait_for_mailbox("alice", 1)[0])["permanent"] == [BOB]
    assert qid not in tb.queue_ids()


# ---- splits -------------------------------------------------------------------


def test_a_split_whose_reinjection_is_refused_puts_the_original_back(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = queue_and_wait(env, SENDER, [BOB, DAVE], subject="survivor refused")
    tb.main_cf_set(smtpd_recipient_restrictions="check_recipient_access " + write_map(
        tb, "rcpt_access", [f"{DAVE} REJECT not now"]) + ", permit_mynetworks, reject")

    failed = sweep(bin_dir, env.config, "sweep", "--now", "+49h", want=75)

    assert qid in failed.stderr and "nothing was bounced" in failed.stderr, failed.stderr
    assert queue_names(tb) == {qid: "deferred"}, "the original is back where it was, no copy"
    settle(tb)
    assert mailbox_count(tb) == 0 and states(env, qid) == {BOB: "queued"}

    tb.main_cf_set(smtpd_recipient_restrictions="permit_mynetworks, reject")
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    assert judge(tb.wait_for_mailbox("alice", 1)[0])["permanent"] == [BOB]
    assert qid not in tb.queue_ids()


def test_survivors_are_reinjected_in_chunks_of_smtpd_recipient_limit(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    others = [f"u{i}@elsewhere.example" for i in range(5)]
    qid = queue_and_wait(env, SENDER, [BOB, *others], subject="many survivors")
    tb.main_cf_set(smtpd_recipient_limit="2")

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")

    assert judge(tb.wait_for_mailbox("alice", 1)[0])["permanent"] == [BOB]
    copies = [m for m in tb.postqueue_json() if m["queue_id"] != qid]
    assert qid not in tb.queue_ids()
    assert sorted(len(m["recipients"]) for m in copies) == [1, 2, 2], copies
    assert sorted(r["address"] for m in copies for r in m["recipients"]) == others
    tb.start_site_sink()
    tb.flush()
    tb.wait_for_queue(lambda q: not q, timeout=60)
    received = tb.site_messages()
    assert len(received) == 3 and all(
        b"X-ETRN-Sweeper-Reinjected: " + qid.encode() in m for m in received)


def test_an_admins_hold_stays_on_the_survivors_copy(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = queue_and_wait(env, SENDER, [BOB, DAVE], subject="held by an admin")
    subprocess.run(["/usr/sbin/postsuper", "-c", str(tb.dir), "-h", qid], check=True,
                   capture_output=True, env=tb.env)

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")

    assert judge(tb.wait_for_mailbox("alice", 1)[0])["permanent"] == [BOB]
    queue = tb.postqueue_json()
    assert [m["queue_name"] for m in queue] == ["hold"], f"the copy is on hold: {queue}"
    assert [r["address"] for r in queue[0]["recipients"]] == [DAVE]
    tb.start_site_sink()
    settle(tb)  # a copy wrongly released would be flushed to the site meanwhile
    assert tb.site_messages() == [], "held mail stays held until the admin releases it"


def test_the_systemd_unit_does_not_count_exit_1_as_success(source_dir):
    unit = (source_dir / "packaging/systemd/etrn-sweeper.service.in").read_text()
    success = [line.split("=", 1)[1].split() for line in unit.splitlines()
               if line.startswith("SuccessExitStatus=")]
    assert success == [["75"]], f"got {success}: 75 (try again) is fine, 1 (a person) is not"
