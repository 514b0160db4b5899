"""test_sweeper_commands.py - etrn-sweeper's commands and exit codes as an
admin or cron sees them, against a real Postfix: check-config, the
warning about Postfix's own queue lifetime, silence on success unless
--verbose, usage errors, the not-yet-supported Sendmail adapter.
"""

from __future__ import annotations

from sweeper_helpers import SENDER, run_sweeper, sweep_ok


def config_for(tb, **extra_top):
    (tb.dir / "db").mkdir(exist_ok=True)
    return tb.write_etrn_config(tb.dir / "etrn-sweeper.conf", database=tb.dir / "db" / "etrn.db",
                                extra_top=extra_top)


def test_check_config_says_ok_or_names_file_and_line(postfix, bin_dir):
    good = config_for(postfix)
    result = sweep_ok(bin_dir, good, "check-config")
    assert result.stdout == "configuration OK\n"
    bad = postfix.dir / "bad.conf"
    bad.write_text(good.read_text() + "expire_after = soon\n")
    result = run_sweeper(bin_dir, bad, "check-config")
    assert result.returncode == 78, result
    line = len(bad.read_text().splitlines())
    assert f"{bad}:{line}:" in result.stderr and "expire_after" in result.stderr, result.stderr


def test_a_sweep_is_silent_on_success_and_verbose_says_what_it_did(postfix, bin_dir):
    config = config_for(postfix)
    postfix.send(SENDER, "bob@customer.example", subject="quiet")
    quiet = sweep_ok(bin_dir, config, "sweep")
    assert quiet.stdout == "" and quiet.stderr == "", quiet
    loud = sweep_ok(bin_dir, config, "--verbose", "sweep", "--now", "+49h")
    assert "expired 1" in loud.stdout and "removed 1" in loud.stdout, loud.stdout


def test_every_run_warns_when_postfix_would_expire_etrn_mail_first(postfix, bin_dir):
    config = config_for(postfix, domain_policy="customer.example expire_after=7d")
    postfix.main_cf_set(maximal_queue_lifetime="5d")
    for _ in range(2):
        result = sweep_ok(bin_dir, config, "sweep")
        assert "maximal_queue_lifetime (5d)" in result.stderr, result.stderr
        assert "(1w)" in result.stderr


def test_usage_and_unavailable_exit_codes(postfix, bin_dir):
    config = config_for(postfix)
    assert run_sweeper(bin_dir, config, "report", "--state", "lost").returncode == 64
    assert run_sweeper(bin_dir, config, "sweep", "--now", "someday").returncode == 64
    assert run_sweeper(bin_dir, config, "--mta", "sendmail", "sweep").returncode == 69
    assert run_sweeper(bin_dir, postfix.dir / "missing.conf", "sweep").returncode == 78


def test_show_config_prints_the_effective_settings_and_n_only_the_changed(postfix, bin_dir):
    config = config_for(postfix, expire_after="3d")
    changed = sweep_ok(bin_dir, config, "show-config", "-n").stdout
    assert "expire_after = 3d\n" in changed and "etrn_domains = customer.example\n" in changed
    assert "warn_after" not in changed, "warn_after is at its default"
    assert f"[sweeper]\npostfix_config_directory = {postfix.dir}\n" in changed, changed
    everything = sweep_ok(bin_dir, config, "show-config").stdout
    assert "warn_after = 4h\n" in everything and "expire_after = 3d\n" in everything
    # What show-config prints is a configuration that means the same.
    for text in (everything, changed):
        again = postfix.dir / "again.conf"
        again.write_text(text)
        assert sweep_ok(bin_dir, again, "show-config").stdout == everything
