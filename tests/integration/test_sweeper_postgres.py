"""test_sweeper_postgres.py - etrn-sweeper with a PostgreSQL URI as its
database, on a real Postfix and a real PostgreSQL 15 (the `postgres`
fixture): mail nobody recorded is adopted into PostgreSQL and expires with
one DSN; report reads it back; a run killed at each step of the outbox and
run again sends each DSN exactly once; a second run while another holds
the advisory run lock exits 75; a password file open to others stops the
run with exit 78 before anything is done; `migrate --to` copies a host's
SQLite history once (a second run copies nothing) and the sweeps go on in
PostgreSQL without repeating a DSN. Two private Postfix instances share
one database as two MX hosts, with and without a milter each: each host's
sweeper warns and expires only its own mail, and report, history, shape and
check read across the fleet or one host (--instance).
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from postfix_testbed import PostfixTestbed
from postgres_testbed import BINDIR
from sweeper_helpers import (SENDER, judge, mailbox_count, queued_and_recorded, run_sweeper,
                             settle, sweep_killed_after, sweep_ok)

BOB = "bob@customer.example"
CAROL = "carol@customer.example"
HOST_A, HOST_B = "mx-a.provider.example", "mx-b.provider.example"


def config_on(tb, uri: str, **extra_top):
    state = tb.dir / "state"
    state.mkdir(exist_ok=True)
    return tb.write_etrn_config(tb.dir / "etrn-sweeper.conf", database=uri, extra_top=extra_top,
                                extra_sweeper={"state_directory": state})


def deferred(tb, recipients, subject: str) -> str:
    qid = tb.send(SENDER, recipients, subject=subject)
    tb.wait_until_deferred(qid)
    return qid


def audit(postgres, uri: str, qid: str) -> list[list[str]]:
    return postgres.query(uri, f"SELECT recipient, state FROM etrn_audit WHERE queue_id = '{qid}' "
                               "ORDER BY recipient")


def test_unrecorded_mail_is_adopted_into_postgres_and_expires_with_one_dsn(postfix, postgres,
                                                                           bin_dir):
    tb, uri = postfix, postgres.new_database()
    config = config_on(tb, uri)
    qid = deferred(tb, [BOB, "dave@elsewhere.example"], "kept in PostgreSQL")

    sweep_ok(bin_dir, config, "sweep", "--now", "+1h")
    assert audit(postgres, uri, qid) == [[BOB, "queued"]], "only the ETRN recipient is adopted"
    report = sweep_ok(bin_dir, config, "report")
    assert qid in report.stdout and BOB in report.stdout, report.stdout
    shape = sweep_ok(bin_dir, config, "shape")
    assert "customer.example" in shape.stdout, shape.stdout
    story = sweep_ok(bin_dir, config, "history", qid)
    assert "adopted" in story.stdout, story.stdout
    health = run_sweeper(bin_dir, config, "check", "--no-milter")
    assert health.returncode == 0 and health.stdout.startswith("ETRN-SWEEPER OK"), health

    sweep_ok(bin_dir, config, "sweep", "--now", "+49h")
    assert judge(tb.wait_for_mailbox("alice", 1)[0])["permanent"] == [BOB]
    assert audit(postgres, uri, qid) == [[BOB, "expired"]]
    kinds = [k for [k] in postgres.query(
        uri, f"SELECT kind FROM etrn_events WHERE queue_id = '{qid}' ORDER BY at")]
    assert kinds[0] == "adopted" and "expired" in kinds, kinds
    assert qid not in tb.queue_ids()
    assert (tb.dir / "state" / "outgoing").is_dir(), "the sent logs live in state_directory"
    runs = postgres.query(uri, "SELECT exit_status FROM runs ORDER BY id")
    assert runs == [["0"], ["0"]], f"two sweeps, both recorded; got {runs}"


@pytest.mark.parametrize("step", ["outbox-written", "dsn-submitted"])
def test_a_run_killed_mid_expiry_on_postgres_sends_each_dsn_once(postfix, postgres, bin_dir, step):
    tb, uri = postfix, postgres.new_database()
    config = config_on(tb, uri)
    qid = deferred(tb, [BOB, CAROL], f"killed at {step}")
    sweep_ok(bin_dir, config, "sweep", "--now", "+1h")

    sweep_killed_after(bin_dir, config, step)
    assert qid in tb.queue_ids(), "nothing is removed before the DSN is recorded as sent"
    sweep_ok(bin_dir, config, "sweep", "--now", "+49h")
    sweep_ok(bin_dir, config, "sweep", "--now", "+50h")
    dsns = tb.wait_for_mailbox("alice", 1)
    settle(tb)
    assert mailbox_count(tb) == 1, f"killed after {step}: got {mailbox_count(tb)} DSNs, want 1"
    assert judge(dsns[0])["permanent"] == [BOB, CAROL]
    assert audit(postgres, uri, qid) == [[BOB, "expired"], [CAROL, "expired"]]
    assert qid not in tb.queue_ids()


def test_a_run_while_another_holds_the_advisory_lock_exits_75(postfix, postgres, bin_dir):
    tb, uri = postfix, postgres.new_database()
    config = config_on(tb, uri, instance="mx-a.provider.example")
    qid = deferred(tb, [BOB], "waits for the lock")
    holder = subprocess.Popen(
        [str(BINDIR / "psql"), "-X", "-q", "-d", uri, "-c",
         "SELECT pg_advisory_lock(hashtextextended("
         "'etrn-sweeper run mx-a.provider.example ' || current_schema(), 0))",
         "-c", "SELECT pg_sleep(120)"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while postgres.query(uri, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                  "AND granted") != [["1"]]:
            assert time.time() < deadline, "psql never took the lock"
            time.sleep(0.1)
        busy = run_sweeper(bin_dir, config, "sweep", "--now", "+49h")
        assert busy.returncode == 75, busy.stderr
        assert "another etrn-sweeper run for mx-a.provider.example holds the run lock" \
            in busy.stderr, busy.stderr
        assert "password" not in busy.stderr
        assert qid in tb.queue_ids() and mailbox_count(tb) == 0, "the refused run did nothing"
    finally:
        # The server notices a vanished client only when it next writes to
        # it: end the session itself.
        postgres.query(uri, "SELECT pg_terminate_backend(pid) FROM pg_locks "
                            "WHERE locktype = 'advisory'")
        holder.kill()
        holder.wait()
    sweep_ok(bin_dir, config, "sweep", "--now", "+49h")
    assert judge(tb.wait_for_mailbox("alice", 1)[0])["permanent"] == [BOB]


def test_a_password_file_open_to_others_stops_the_run_before_it_starts(postfix, postgres,
                                                                       bin_dir):
    tb, uri = postfix, postgres.new_database()
    password = tb.dir / "database.password"
    password.write_text("not-needed-here\n")
    os.chmod(password, 0o644)
    config = config_on(tb, uri, database_password_file=password)
    qid = deferred(tb, [BOB], "never swept")

    result = run_sweeper(bin_dir, config, "sweep", "--now", "+49h")
    assert result.returncode == 78, result.stderr
    assert f"database_password_file {password} has group or other permissions" in result.stderr
    assert "not-needed-here" not in result.stderr
    assert qid in tb.queue_ids() and mailbox_count(tb) == 0

    os.chmod(password, 0o600)
    # A database that cannot be opened: the error names it without the password.
    elsewhere = config_on(tb, uri.replace("/etrn_it_", "/no_such_etrn_it_"),
                          database_password_file=password)
    result = run_sweeper(bin_dir, elsewhere, "sweep", "--now", "+49h")
    assert result.returncode == 73, result.stderr
    assert "no_such_etrn_it_" in result.stderr and "not-needed-here" not in result.stderr, \
        result.stderr

    config = config_on(tb, uri, database_password_file=password)
    sweep_ok(bin_dir, config, "sweep", "--now", "+49h")
    assert judge(tb.wait_for_mailbox("alice", 1)[0])["permanent"] == [BOB]


def test_migrate_copies_a_hosts_history_once_and_the_sweeps_go_on_in_postgres(
        milter_postfix, postgres, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    expired = queued_and_recorded(env, [BOB, CAROL], "expires on SQLite")
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    tb.wait_for_mailbox("alice", 1)
    waiting = queued_and_recorded(env, [BOB], "expires on PostgreSQL")
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+1h")
    before = sweep_ok(bin_dir, env.config, "report").stdout
    assert expired in before and waiting in before, before

    uri = postgres.new_database()
    first = sweep_ok(bin_dir, env.config, "migrate", "--to", uri)
    assert "messages: 2 copied, 0 already there" in first.stdout, first.stdout
    assert "recipients: 3 copied" in first.stdout and "outbox: 1 copied" in first.stdout
    again = sweep_ok(bin_dir, env.config, "migrate", "--to", uri)
    for table in ("messages", "recipients", "outbox", "mta_arrivals", "events", "runs"):
        assert f"{table}: 0 copied" in again.stdout, again.stdout
    assert "messages: 0 copied, 2 already there" in again.stdout

    on_postgres = config_on(tb, uri)
    assert sweep_ok(bin_dir, on_postgres, "report").stdout == before
    history = "SELECT at, queue_id, recipient, kind, detail FROM etrn_events"
    in_sqlite = sorted([None if v is None else str(v) for v in r] for r in env.rows(history))
    assert sorted(postgres.query(uri, history), key=str) == sorted(in_sqlite, key=str)

    sweep_ok(bin_dir, on_postgres, "sweep", "--now", "+49h")
    tb.wait_for_mailbox("alice", 2)
    settle(tb)
    assert mailbox_count(tb) == 2, "one DSN per expired message, none repeated after the move"
    assert audit(postgres, uri, waiting) == [[BOB, "expired"]]
    assert audit(postgres, uri, expired) == [[BOB, "expired"], [CAROL, "expired"]]


def test_least_privilege_roles_from_the_packaged_script(make_milter_postfix, postgres, bin_dir,
                                                       source_dir):
    """The milter records as etrn_milter and the sweeper sweeps as
    etrn_sweeper, with the roles the packaged etrn-roles.sql makes; every
    other right is denied, and the history is append-only for the owner."""
    script = source_dir / "packaging" / "postgresql" / "etrn-roles.sql"
    env = make_milter_postfix(postgres=postgres, start=False,
                              extra_milter={"database_user": "etrn_milter"})
    tb, uri = env.testbed, env.database

    def as_role(role: str) -> str:
        return uri.replace("user=postgres", f"user={role}")

    def psql(role: str, sql: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BINDIR / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                               "-d", as_role(role), "-c", sql], capture_output=True, text=True)

    def run_script() -> None:
        done = subprocess.run([str(BINDIR / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                               uri, "-f", str(script)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    run_script()
    env.config.write_text(env.config.read_text().replace(
        f"database = {uri}", f"database = {as_role('etrn_sweeper')}"))
    sweep_ok(bin_dir, env.config, "prune", "--dry-run")  # creates the schema as etrn_sweeper
    run_script()  # grants on the tables that now exist
    assert postgres.query(uri, "SELECT tableowner FROM pg_tables WHERE schemaname = 'etrn' "
                               "AND tablename = 'messages'") == [["etrn_sweeper"]]
    env.database = uri + "&options=-csearch_path%3Detrn"  # where rows() reads
    env.start()

    qid = queued_and_recorded(env, [BOB], "recorded by etrn_milter")
    assert postgres.query(env.database, "SELECT count(*) > 0 FROM pg_stat_activity "
                                        "WHERE usename = 'etrn_milter'") == [["t"]], \
        "the milter is connected as its own role"

    # The milter's role can change or delete nothing, nor read the outbox.
    for sql in ("UPDATE messages SET sender = 'x@y.example'", "DELETE FROM recipients",
                "DELETE FROM events", "SELECT count(*) FROM outbox", "SELECT count(*) FROM runs"):
        denied = psql("etrn_milter", sql)
        assert denied.returncode != 0 and "permission denied" in denied.stderr, (sql, denied)

    # The auditor reads the views, and nothing else.
    seen = psql("etrn_auditor", f"SELECT recipient, state FROM etrn_audit WHERE queue_id = '{qid}'")
    assert seen.returncode == 0 and seen.stdout.strip() == f"{BOB}|queued", seen
    assert psql("etrn_auditor", "SELECT count(*) FROM etrn_events").returncode == 0
    for sql in ("SELECT count(*) FROM messages", "INSERT INTO events (at, queue_id, kind) "
                "VALUES (1, 'X', 'forged')", "DELETE FROM etrn_events"):
        denied = psql("etrn_auditor", sql)
        assert denied.returncode != 0 and "permission denied" in denied.stderr, (sql, denied)

    # The history is append-only even for the schema's owner.
    changed = psql("etrn_sweeper", "UPDATE events SET detail = 'rewritten'")
    assert changed.returncode != 0 and "append-only" in changed.stderr, changed

    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    assert judge(tb.wait_for_mailbox("alice", 1)[0])["permanent"] == [BOB]
    assert postgres.query(env.database, f"SELECT recipient, state FROM etrn_audit "
                                        f"WHERE queue_id = '{qid}'") == [[BOB, "expired"]]


def fleet_wide_audits(bin_dir, config_a, config_b, on_a: str, on_b: str) -> None:
    """report, history and shape on either host, across the fleet or one
    host (--instance), while A holds bob's mail and B bob's and carol's."""
    def report(config, *args):
        out = sweep_ok(bin_dir, config, "report", "--json", *args).stdout
        return sorted((r["queue_id"], r["recipient"], r["instance"])
                      for r in map(json.loads, out.splitlines()))

    everyone = sorted([(on_a, BOB, HOST_A), (on_b, BOB, HOST_B), (on_b, CAROL, HOST_B)])
    assert report(config_a) == everyone, "on PostgreSQL report shows every host by default"
    assert report(config_b, "--instance", "all") == everyone
    assert report(config_a, "--instance", HOST_B) == [(on_b, BOB, HOST_B), (on_b, CAROL, HOST_B)]
    text = sweep_ok(bin_dir, config_a, "report").stdout.splitlines()
    assert text[0].split()[-1] == "instance" and text[-1].split()[-1] in (HOST_A, HOST_B), text

    story = [json.loads(line) for line in
             sweep_ok(bin_dir, config_a, "history", "--json", CAROL).stdout.splitlines()]
    assert [(m["queue_id"], m["instance"]) for m in story if m["type"] == "message"] == \
        [(on_b, HOST_B)], "host A finds host B's message"
    assert {e["instance"] for e in story if e["type"] == "event"} == {HOST_B}
    assert "host:       " + HOST_B in sweep_ok(bin_dir, config_a, "history", CAROL).stdout
    assert run_sweeper(bin_dir, config_a, "history", "--instance", HOST_A, CAROL).returncode == 1

    def shape_total(config, *args):
        out = sweep_ok(bin_dir, config, "shape", "--json", *args).stdout.splitlines()
        return json.loads(out[0])["total"]

    assert shape_total(config_a) == 1, "shape shows this host's queue by default"
    assert shape_total(config_b) == 2
    assert shape_total(config_a, "--instance", "all") == 3
    assert shape_total(config_b, "--instance", HOST_A) == 1


def test_two_hosts_share_one_store_and_each_sweeps_only_its_own_mail(postfix, postgres, bin_dir):
    """Issue 16: two MX hosts (two private Postfix instances) with one
    PostgreSQL store. Each sweeper adopts, warns and expires its own host's
    mail only; a sweep on one host leaves the other's records as they are
    (still queued, never departed for missing from this host's queue); one
    DSN per recipient fleet-wide; the views name each row's host; report,
    history, shape and check read across the fleet or one host."""
    uri = postgres.new_database()
    host_a, host_b = postfix, PostfixTestbed()
    try:
        host_b.start()
        config_a = config_on(host_a, uri, instance=HOST_A)
        config_b = config_on(host_b, uri, instance=HOST_B)
        on_a = deferred(host_a, [BOB], "queued on host A")
        on_b = deferred(host_b, [BOB, CAROL], "queued on host B")

        sweep_ok(bin_dir, config_a, "sweep", "--now", "+1h")
        assert audit(postgres, uri, on_a) == [[BOB, "queued"]]
        assert audit(postgres, uri, on_b) == [], "host A adopts nothing of host B's queue"
        sweep_ok(bin_dir, config_b, "sweep", "--now", "+1h")
        sweep_ok(bin_dir, config_a, "sweep", "--now", "+2h")
        assert audit(postgres, uri, on_b) == [[BOB, "queued"], [CAROL, "queued"]], \
            "host A's sweep leaves host B's records queued: they are not in A's queue"
        fleet_wide_audits(bin_dir, config_a, config_b, on_a, on_b)

        sweep_ok(bin_dir, config_a, "sweep", "--now", "+5h")
        assert judge(host_a.wait_for_mailbox("alice", 1)[0])["temporary"] == [BOB]
        assert audit(postgres, uri, on_b) == [[BOB, "queued"], [CAROL, "queued"]], \
            "host A warned its own mail only"

        sweep_ok(bin_dir, config_a, "sweep", "--now", "+49h")
        host_a.wait_for_mailbox("alice", 2)
        assert audit(postgres, uri, on_a) == [[BOB, "expired"]]
        assert on_a not in host_a.queue_ids()
        assert on_b in host_b.queue_ids(), "host A never touches host B's queue"
        assert audit(postgres, uri, on_b) == [[BOB, "queued"], [CAROL, "queued"]]

        sweep_ok(bin_dir, config_b, "sweep", "--now", "+49h")
        dsns_b = host_b.wait_for_mailbox("alice", 1)
        assert judge(dsns_b[0])["permanent"] == [BOB, CAROL]
        assert audit(postgres, uri, on_b) == [[BOB, "expired"], [CAROL, "expired"]]
        sweep_ok(bin_dir, config_a, "sweep", "--now", "+50h")
        sweep_ok(bin_dir, config_b, "sweep", "--now", "+50h")
        settle(host_a)
        settle(host_b)
        assert (mailbox_count(host_a), mailbox_count(host_b)) == (2, 1), \
            "one delay and one failure DSN on A, one failure DSN on B: none repeated"

        hosts = {qid: instance for qid, instance in postgres.query(
            uri, "SELECT DISTINCT queue_id, instance FROM etrn_audit")}
        assert hosts == {on_a: "mx-a.provider.example", on_b: "mx-b.provider.example"}, hosts
        events = postgres.query(uri, "SELECT DISTINCT queue_id, instance FROM etrn_events "
                                     "WHERE queue_id <> ''")
        assert sorted(events) == sorted([[on_a, "mx-a.provider.example"],
                                         [on_b, "mx-b.provider.example"]]), events
        runs = postgres.query(uri, "SELECT instance, count(*) FROM runs GROUP BY instance "
                                   "ORDER BY instance")
        assert runs == [["mx-a.provider.example", "5"], ["mx-b.provider.example", "3"]], runs
        outbox = postgres.query(uri, "SELECT instance, count(*) FROM outbox GROUP BY instance "
                                     "ORDER BY instance")
        assert outbox == [["mx-a.provider.example", "2"], ["mx-b.provider.example", "1"]], outbox

        # check --instance all judges each host: a run of B's that cannot
        # reach its MTA's commands fails.
        state_b = host_b.dir / "state"
        broken_b = host_b.write_etrn_config(
            host_b.dir / "broken.conf", database=uri, extra_top={"instance": HOST_B},
            extra_sweeper={"state_directory": state_b,
                           "postfix_command_directory": host_b.dir / "no-such-dir"})
        assert run_sweeper(bin_dir, broken_b, "sweep").returncode == 69
        fleet = run_sweeper(bin_dir, config_a, "check", "--instance", "all", "--failed-warning", "1")
        assert fleet.returncode == 1, fleet
        assert fleet.stdout.startswith(f"ETRN-SWEEPER WARNING - 2 host(s); {HOST_B}: "), fleet.stdout
        assert f"'{HOST_B} failed_runs'=1;1;4;0" in fleet.stdout, fleet.stdout
        assert f"'{HOST_A} failed_runs'=0;1;4;0" in fleet.stdout, fleet.stdout
        mine = run_sweeper(bin_dir, config_a, "check", "--no-milter", "--failed-warning", "1")
        assert mine.returncode == 0 and HOST_B not in mine.stdout, mine
        theirs = run_sweeper(bin_dir, config_a, "check", "--instance", HOST_B, "--failed-warning",
                             "1")
        assert theirs.returncode == 1 and "1 failed run(s) in a row" in theirs.stdout, theirs
    finally:
        host_b.cleanup()


def test_two_hosts_with_milters_name_records_alike_and_each_sweeps_its_own(
        make_milter_postfix, postgres, bin_dir):
    """The fleet as installed: a milter and a sweeper on each of two hosts
    (myhostname mx-a / mx-b), one PostgreSQL database, `instance` left to
    its default. The milter names each record after the MTA's j macro, the
    sweeper its host after `postconf myhostname`: they agree, so no sweep
    adopts a message its milter recorded. Each sweeper warns and expires
    its own host's mail only, with one DSN per recipient fleet-wide."""
    uri = postgres.new_database()
    hosts = [make_milter_postfix(postgres=postgres, database=uri,
                                 before_start=lambda e, n=name: e.testbed.main_cf_set(myhostname=n))
             for name in (HOST_A, HOST_B)]
    a, b = (env.testbed for env in hosts)
    configs = []
    for tb in (a, b):
        state = tb.dir / "sweeper-state"
        state.mkdir()
        configs.append(tb.write_etrn_config(tb.dir / "sweeper.conf", database=uri,
                                            extra_sweeper={"state_directory": state}))
    config_a, config_b = configs
    on_a, on_b = deferred(a, [BOB], "via mx-a"), deferred(b, [BOB, CAROL], "via mx-b")
    hosts[0].wait_for_audit(on_a)
    hosts[1].wait_for_audit(on_b, count=2)
    named = postgres.query(uri, "SELECT DISTINCT queue_id, instance FROM etrn_audit")
    assert sorted(named) == sorted([[on_a, HOST_A], [on_b, HOST_B]]), named

    sweep_ok(bin_dir, config_a, "sweep", "--now", "+5h")
    assert judge(a.wait_for_mailbox("alice", 1)[0])["temporary"] == [BOB]
    assert audit(postgres, uri, on_a) == [[BOB, "warned"]]
    assert audit(postgres, uri, on_b) == [[BOB, "queued"], [CAROL, "queued"]], \
        "host A's sweep leaves host B's records alone"

    sweep_ok(bin_dir, config_b, "sweep", "--now", "+49h")
    assert judge(b.wait_for_mailbox("alice", 1)[0])["permanent"] == [BOB, CAROL]
    assert audit(postgres, uri, on_b) == [[BOB, "expired"], [CAROL, "expired"]]
    assert audit(postgres, uri, on_a) == [[BOB, "warned"]], "host B's sweep leaves A's alone"
    assert on_a in a.queue_ids() and on_b not in b.queue_ids()

    sweep_ok(bin_dir, config_a, "sweep", "--now", "+49h")
    verdicts = [judge(m) for m in a.wait_for_mailbox("alice", 2)]
    assert [v["permanent"] for v in verdicts if v["permanent"]] == [[BOB]], verdicts
    assert audit(postgres, uri, on_a) == [[BOB, "expired"]]
    for config in (config_a, config_b):
        sweep_ok(bin_dir, config, "sweep", "--now", "+50h")
    settle(a)
    settle(b)
    assert (mailbox_count(a), mailbox_count(b)) == (2, 1), "no DSN repeated on either host"
    adopted = postgres.query(uri, "SELECT count(*) FROM etrn_events WHERE kind = 'adopted'")
    assert adopted == [["0"]], "a sweep adopted mail its own host's milter had recorded"
    runs = postgres.query(uri, "SELECT instance, count(*) FROM runs GROUP BY instance "
                               "ORDER BY instance")
    assert runs == [[HOST_A, "3"], [HOST_B, "2"]], runs
