"""test_milter_cli.py - etrn-milter's command line and process behaviour
(interface.md): --version, --help, --check-config and its exit codes,
command-line overrides, the background fork, SIGTERM. No Postfix needed."""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


@pytest.fixture
def milter(bin_dir) -> Path:
    return bin_dir / "etrn-milter"


@pytest.fixture
def workdir():
    d = Path(tempfile.mkdtemp(prefix="etrn-milter-cli-"))
    yield d
    subprocess.run(["rm", "-rf", str(d)], check=False)


def write_config(path: Path, *, user: str = "root", extra: str = "") -> Path:
    d = path.parent
    path.write_text(f"database = {d}/etrn.db\n"
                    "etrn_domains = customer.example\n"
                    f"{extra}"
                    "[milter]\n"
                    f"socket = unix:{d}/milter.sock\n"
                    f"user = {user}\n")
    return path


def run(argv, timeout=20):
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout)


def test_version_and_help(milter):
    got = run([milter, "--version"])
    assert got.returncode == 0 and got.stdout.startswith("etrn-milter "), got
    got = run([milter, "--help"])
    assert got.returncode == 0
    for option in ("--config", "--socket", "--database", "--foreground", "--check-config"):
        assert option in got.stdout, f"--help does not mention {option}"


def test_an_unknown_option_is_a_usage_error(milter):
    assert run([milter, "--no-such-option"]).returncode == 64


def test_check_config_accepts_a_good_file(milter, workdir):
    conf = write_config(workdir / "etrn.conf")
    got = run([milter, "-c", conf, "--check-config"])
    assert (got.returncode, got.stdout.strip()) == (0, "configuration OK"), got


def test_check_config_reports_errors_with_file_and_line(milter, workdir):
    conf = write_config(workdir / "etrn.conf", extra="expire_after = soon\n")
    got = run([milter, "-c", conf, "--check-config"])
    assert got.returncode == 78, got
    assert f"{conf}:3" in got.stderr, f"want the file and line in: {got.stderr!r}"
    assert "configuration OK" not in got.stdout


def test_an_unknown_user_is_a_configuration_error(milter, workdir):
    conf = write_config(workdir / "etrn.conf", user="no-such-user-here")
    got = run([milter, "-c", conf, "--check-config"])
    assert got.returncode == 78, got
    assert "no-such-user-here" in got.stderr


def test_a_missing_file_is_a_configuration_error(milter, workdir):
    assert run([milter, "-c", workdir / "missing.conf", "--check-config"]).returncode == 78


def test_command_line_overrides_the_file(milter, workdir):
    conf = write_config(workdir / "etrn.conf")
    sock = workdir / "other.sock"
    proc = subprocess.Popen([str(milter), "-c", str(conf), "--foreground", "--socket", f"unix:{sock}",
                             "--database", str(workdir / "other.db")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # The socket first, then the database: it is opened once the socket
        # listens (a CI run under load looked for it in between).
        deadline = time.time() + 10
        for path, what in ((sock, "no socket from --socket"),
                           (workdir / "other.db", "--database must override the file")):
            while not path.exists():
                assert proc.poll() is None, proc.stdout.read()
                assert time.time() < deadline, what
                time.sleep(0.05)
        assert not (workdir / "milter.sock").exists()
        assert not (workdir / "etrn.db").exists(), "the file's database is not opened"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_a_stale_socket_is_replaced_and_the_new_one_is_0660(milter, workdir):
    conf = write_config(workdir / "etrn.conf")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(workdir / "milter.sock"))
    stale.close()  # leaves the file behind, like a crashed milter
    proc = subprocess.Popen([str(milter), "-c", str(conf), "--foreground"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(0.5)
        assert proc.poll() is None, proc.stdout.read()
        mode = (workdir / "milter.sock").stat().st_mode & 0o777
        assert mode == 0o660, f"got mode {oct(mode)}, want 0o660"
        c = socket.socket(socket.AF_UNIX)
        c.connect(str(workdir / "milter.sock"))
        c.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_without_foreground_it_detaches_and_stops_on_sigterm(milter, workdir):
    conf = write_config(workdir / "etrn.conf")
    got = run([milter, "-c", conf])
    assert got.returncode == 0, got  # the parent returns once the child is forked
    deadline = time.time() + 10
    while not (workdir / "milter.sock").exists():
        assert time.time() < deadline, "the daemon made no socket"
        time.sleep(0.05)
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    daemon = None
    for p in pids:
        try:
            cmdline = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"etrn-milter") and str(conf).encode() in cmdline:
            daemon = int(p)
    assert daemon is not None, "no detached etrn-milter process found"
    assert os.getsid(daemon) != os.getsid(0), "the daemon must leave our session (setsid)"
    os.kill(daemon, signal.SIGTERM)
    deadline = time.time() + 10
    while Path(f"/proc/{daemon}").exists():
        assert time.time() < deadline, "the daemon did not stop on SIGTERM"
        time.sleep(0.05)


def test_it_drops_privileges_to_the_configured_user(milter, workdir):
    postfix = pwd.getpwnam("postfix")
    os.chown(workdir, postfix.pw_uid, postfix.pw_gid)
    conf = write_config(workdir / "etrn.conf", user="postfix")
    proc = subprocess.Popen([str(milter), "-c", str(conf), "--foreground"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 10
        while not (workdir / "milter.sock").exists():
            assert proc.poll() is None, proc.stdout.read()
            assert time.time() < deadline
            time.sleep(0.05)
        time.sleep(0.2)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        uid_line = next(l for l in status.splitlines() if l.startswith("Uid:"))
        assert uid_line.split()[1:] == [str(postfix.pw_uid)] * 4, uid_line
        st = (workdir / "milter.sock").stat()
        assert (st.st_uid, st.st_gid) == (postfix.pw_uid, postfix.pw_gid)
        assert (workdir / "etrn.db").stat().st_uid == postfix.pw_uid, \
            "the database must be opened after dropping privileges"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_a_background_start_failure_reaches_the_exit_code(milter, workdir):
    conf = write_config(workdir / "etrn.conf")
    got = run([milter, "-c", conf, "--socket", "unix:/proc/no-such-dir/milter.sock"])
    assert got.returncode == 73, f"got exit {got.returncode}, want 73 (EX_CANTCREAT)"


def test_a_set_group_id_socket_directory_keeps_its_group(milter, workdir):
    # Debian's chrooted Postfix: /var/spool/postfix/etrn-sweeper, mode 2750,
    # group postfix; the socket must keep the group postfix.
    postfix = pwd.getpwnam("postfix")
    sockdir = workdir / "spool"
    sockdir.mkdir()
    os.chown(sockdir, postfix.pw_uid, postfix.pw_gid)
    os.chmod(sockdir, 0o2750)
    nobody = pwd.getpwnam("nobody")
    conf = write_config(workdir / "etrn.conf", user="nobody")
    os.chmod(workdir, 0o755)
    (workdir / "db").mkdir()
    os.chown(workdir / "db", nobody.pw_uid, nobody.pw_gid)
    proc = subprocess.Popen([str(milter), "-c", str(conf), "--foreground", "--socket",
                             f"unix:{sockdir}/milter.sock", "--database", str(workdir / "db" / "etrn.db")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 10
        while not (sockdir / "milter.sock").exists():
            assert proc.poll() is None, proc.stdout.read()
            assert time.time() < deadline
            time.sleep(0.05)
        time.sleep(0.2)
        st = (sockdir / "milter.sock").stat()
        assert (st.st_uid, st.st_gid) == (nobody.pw_uid, postfix.pw_gid), \
            f"got owner {st.st_uid}:{st.st_gid}, want {nobody.pw_uid}:{postfix.pw_gid}"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_an_inet_socket_works_and_sigterm_stops_it_quickly(milter, workdir):
    conf = write_config(workdir / "etrn.conf")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(milter), "-c", str(conf), "--foreground", "--socket",
                             f"inet:{port}@127.0.0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.time() < deadline, "the milter never listened on the inet socket"
                time.sleep(0.05)
    finally:
        started = time.time()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert time.time() - started < 2, "SIGTERM must not wait for libmilter's 5 s poll"


def test_it_tells_systemd_when_ready_reloading_and_stopping(milter, workdir):
    """Type=notify: sd_notify's datagrams on $NOTIFY_SOCKET, as systemd gets
    them. READY=1 only once the milter socket takes connections; the milter
    has dropped to user postfix by then, so the notify socket is open to it."""
    postfix = pwd.getpwnam("postfix")
    os.chown(workdir, postfix.pw_uid, postfix.pw_gid)
    conf = write_config(workdir / "etrn.conf", user="postfix")
    notify_path = workdir / "notify.sock"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(notify_path))
    os.chmod(notify_path, 0o666)
    notify.settimeout(10)
    env = dict(os.environ, NOTIFY_SOCKET=str(notify_path))
    proc = subprocess.Popen([str(milter), "-c", str(conf), "--foreground"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def next_message() -> dict:
        lines = notify.recv(4096).decode().splitlines()
        return dict(line.split("=", 1) for line in lines)

    try:
        ready = next_message()
        assert ready["READY"] == "1" and ready["STATUS"].startswith("listening on unix:"), ready
        probe = socket.socket(socket.AF_UNIX)
        probe.connect(str(workdir / "milter.sock"))  # ready means connectable now
        probe.close()
        proc.send_signal(signal.SIGHUP)
        assert next_message().get("RELOADING") == "1"
        assert next_message().get("READY") == "1"
        proc.send_signal(signal.SIGTERM)
        assert next_message().get("STOPPING") == "1"
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        notify.close()


def test_socket_mode_and_group_come_from_the_configuration(milter, workdir):
    postfix = pwd.getpwnam("postfix")
    os.chown(workdir, postfix.pw_uid, postfix.pw_gid)
    import grp
    group = grp.getgrnam("mail")
    conf = write_config(workdir / "etrn.conf", user="postfix")
    conf.write_text(conf.read_text() + "socket_mode = 0600\nsocket_group = mail\n")
    proc = subprocess.Popen([str(milter), "-c", str(conf), "--foreground"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 10
        while not (workdir / "etrn.db").exists():
            assert proc.poll() is None, proc.stdout.read()
            assert time.time() < deadline
            time.sleep(0.05)
        st = (workdir / "milter.sock").stat()
        assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (postfix.pw_uid, group.gr_gid, 0o600)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0

    conf.write_text(conf.read_text().replace("socket_group = mail", "socket_group = no-such-group"))
    got = run([milter, "-c", conf, "--check-config"])
    assert got.returncode == 78 and 'unknown group "no-such-group"' in got.stdout + got.stderr, got
