"""test_sweeper_lookups.py - the admin's look-ups and the command line's
safety, through the real etrn-sweeper against a real Postfix and milter:
`history` follows a split to the queue ID Postfix gave the survivor (and
back), by queue ID, address or Message-ID; `report` filters and aligns;
`shape` takes qshape's buckets and --json; a future --now does not act
without --future-now; each command has its own --help.
"""

from __future__ import annotations

import json
import re
import subprocess

from sweeper_helpers import SENDER, run_sweeper, sweep_ok
from test_sweeper_postfix import BOB, ERIN, with_erin_expiring_after_5d

MESSAGE_ID = "<lookup-story@client.example>"


def split_at_49h(make_milter_postfix, bin_dir):
    """bob expires at +49h and erin survives, re-injected under a new queue ID."""
    env = with_erin_expiring_after_5d(make_milter_postfix)
    qid = env.testbed.send(SENDER, [BOB, ERIN], subject="a story to tell",
                           headers={"Message-ID": MESSAGE_ID})
    env.wait_for_audit(qid, 2)
    env.testbed.wait_until_deferred(qid)
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h")
    erin_rows = [r for r in env.rows() if r["recipient"] == ERIN]
    assert len(erin_rows) == 1 and erin_rows[0]["queue_id"] != qid, [dict(r) for r in erin_rows]
    return env, qid, erin_rows[0]["queue_id"]


def test_history_follows_a_split_to_the_new_queue_id_and_back(make_milter_postfix, bin_dir):
    env, old, new = split_at_49h(make_milter_postfix, bin_dir)
    story = sweep_ok(bin_dir, env.config, "history", old).stdout
    assert f"message {old} (" in story and f"message {new} (reinjected)" in story, story
    events = story[story.index("events:"):].splitlines()[1:]
    kinds = [line.split()[5] if len(line.split()) > 5 else "" for line in events]
    assert re.search(rf"{old}\s+{ERIN}\s+reinjected\s+as {new}", story), story
    assert kinds.index("recorded") < kinds.index("expired"), events
    assert all(" UTC " in line for line in events), events
    assert f"{BOB}" in story and "expired" in story and ERIN in story, story

    for key in (new, ERIN, MESSAGE_ID):
        assert sweep_ok(bin_dir, env.config, "history", key).stdout == story, key
    lines = [json.loads(line) for line in
             sweep_ok(bin_dir, env.config, "history", "--json", new).stdout.splitlines()]
    assert [(m["queue_id"], m["source"]) for m in lines if m["type"] == "message"][1] == (
        new, "reinjected"), lines
    assert {"queue_id": old, "recipient": ERIN, "kind": "reinjected", "detail": f"as {new}"}.items() <= \
        next(e for e in lines if e["type"] == "event" and e["kind"] == "reinjected").items(), lines

    missing = run_sweeper(bin_dir, env.config, "history", "ABCDEF123")
    assert missing.returncode == 1 and missing.stdout == "", missing
    assert "no record of ABCDEF123" in missing.stderr, missing.stderr
    for bad in ("ALL", "-d", "4abc;rm"):
        result = run_sweeper(bin_dir, env.config, "history", bad)
        assert result.returncode == 64, (bad, result)
    assert "not a Postfix queue ID" in run_sweeper(bin_dir, env.config, "history", "ALL").stderr


def test_report_filters_by_domain_queue_id_state_time_and_count(make_milter_postfix, bin_dir):
    env, old, new = split_at_49h(make_milter_postfix, bin_dir)

    def report(*args):
        out = sweep_ok(bin_dir, env.config, "report", "--json", *args).stdout
        return [(r["queue_id"], r["recipient"], r["state"]) for r in map(json.loads, out.splitlines())]

    assert sorted(report()) == sorted([(old, BOB, "expired"), (new, ERIN, "warned")])
    assert report("--domain", "transport-only.example") == [(new, ERIN, "warned")]
    assert report("--queue-id", old) == [(old, BOB, "expired")]
    assert report("--state", "expired", "--domain", "customer.example") == [(old, BOB, "expired")]
    assert report("--since", "+48h") != [] and report("--since", "+50h") == []
    assert len(report("--limit", "1")) == 1
    fields = json.loads(sweep_ok(bin_dir, env.config, "report", "--json").stdout.splitlines()[0])
    assert set(fields) == {"queue_id", "arrival_time", "sender", "recipient", "domain", "priority",
                           "state", "expires_at", "state_changed_at", "instance"}, \
        "--json keeps its fields (and names the host)"

    text = sweep_ok(bin_dir, env.config, "report").stdout.splitlines()
    assert len(text) == 3, text
    state_column = text[0].index("state ")
    assert {line[state_column:].split()[0] for line in text[1:]} == {"expired", "warned"}, text

    assert run_sweeper(bin_dir, env.config, "report", "--queue-id", "ALL").returncode == 64
    assert run_sweeper(bin_dir, env.config, "report", "--since", "yesterday").returncode == 64
    assert run_sweeper(bin_dir, env.config, "report", "--limit", "0").returncode == 64


def test_shape_takes_qshape_buckets_and_json(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = tb.send(SENDER, [BOB], subject="shape me")
    env.wait_for_audit(qid, 1)
    lines = sweep_ok(bin_dir, env.config, "shape", "--json", "-b", "3", "-t", "1").stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["domain"] for r in rows] == ["TOTAL", "customer.example"], rows
    assert [b["label"] for b in rows[0]["buckets"]] == ["<1m", "<2m", "2m+"], rows
    assert rows[0]["total"] == 1 and sum(b["count"] for b in rows[0]["buckets"]) == 1, rows
    text = sweep_ok(bin_dir, env.config, "shape", "--buckets", "4", "--first-bucket", "30").stdout
    assert text.splitlines()[0].split() == ["T", "<30m", "<1h", "<2h", "2h+"], text


def test_a_future_now_acts_only_with_future_now(milter_postfix, bin_dir):
    env, tb = milter_postfix, milter_postfix.testbed
    qid = tb.send(SENDER, [BOB], subject="not yet")
    env.wait_for_audit(qid, 1)
    tb.wait_until_deferred(qid)
    argv_without_flag = [str(bin_dir / "etrn-sweeper"), "-c", str(env.config), "sweep", "--now",
                         "+49h"]  # not run_sweeper, which adds --future-now
    refused = subprocess.run(argv_without_flag, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 64, refused
    assert "--future-now" in refused.stderr and "--dry-run" in refused.stderr, refused.stderr
    assert qid in tb.queue_ids() and [r["state"] for r in env.audit_for(qid)] == ["queued"]
    forecast = sweep_ok(bin_dir, env.config, "sweep", "--dry-run", "--now", "+49h")
    assert qid in forecast.stdout and qid in tb.queue_ids(), forecast.stdout
    sweep_ok(bin_dir, env.config, "sweep", "--now", "+49h", "--future-now")
    assert [r["state"] for r in env.audit_for(qid)] == ["expired"]


def test_each_command_has_its_own_help_and_mistakes_exit_64(postfix, bin_dir):
    config = postfix.dir / "absent.conf"  # help needs no configuration
    sweep = sweep_ok(bin_dir, config, "sweep", "--help").stdout
    assert "--future-now" in sweep and "--json" not in sweep, sweep
    assert "--first-bucket" in sweep_ok(bin_dir, config, "shape", "--help").stdout
    assert "--since" in sweep_ok(bin_dir, config, "report", "--help").stdout
    assert "QID|ADDRESS|MESSAGE-ID" in sweep_ok(bin_dir, config, "history", "--help").stdout
    overview = sweep_ok(bin_dir, config, "--help").stdout
    assert all(c in overview for c in ("sweep", "report", "shape", "history", "check-config"))
    for args in (["--dry"], ["report", "--dry-run"], ["sweep", "--future-now"], ["history"],
                 ["shape", "-b", "1"], ["help"]):
        result = run_sweeper(bin_dir, config, *args)
        assert result.returncode == 64, (args, result)
        assert "try etrn-sweeper --help" in result.stderr, (args, result.stderr)
