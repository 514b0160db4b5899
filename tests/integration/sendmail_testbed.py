"""sendmail_testbed.py - a private, real Sendmail 8.17 instance for
integration tests, run out of Debian's packages without installing them
(sendmail-bin conflicts with postfix).

The packages sendmail-bin, sendmail-base and sendmail-cf are fetched with
`apt-get download` at test time and unpacked with `dpkg -x` into a cache
directory (env ETRN_SENDMAIL_CACHE, default
/var/cache/etrn-sweeper-tests/sendmail), once; later runs reuse it. The
binary needs libwrap0 and m4 (scripts/install-deps).

Each SendmailTestbed is a directory (default a fresh /tmp/etrn-sendmail-XXXX)
with its own .mc -> .cf (m4), mailertable and queue, a daemon on a free
loopback port started with `sendmail -C DIR/sendmail.cf -bd` (no periodic
queue runs: mail for the ETRN site waits until ETRN), and:

    mailertable
        customer.example        dsmtp:[127.0.0.1]   (site port, DSMTP_MAILER_ARGS)
        transport-only.example  dsmtp:[127.0.0.1]   (NOT in etrn_domains: found
                                                     only by {rcpt_mailer} = dsmtp)
        sender.example          esmtp:[127.0.0.1]   (mailbox port, ESMTP_MAILER_ARGS)
    QUEUE_DIR DIR/mqueue/q*  with q1/ and q2/, each with qf/ df/ xf/
                             subdirectories (queue.c's layout)

The ETRN site and the senders' mailboxes are small SMTP sinks in this
process (MailSink): the site stores what it gets under DIR/site/, the
mailbox sink stores a copy per recipient under DIR/mail/<localpart>/.

API: tb.dir, tb.port, tb.site_port, tb.cf, tb.sendmail (the binary),
tb.start()/stop()/cleanup(remove), tb.send(from_, to, ...) -> queue ID,
tb.etrn(domain), tb.queue_files() -> {queue_id: Path of qf/hf},
tb.wait_for_queue(predicate), tb.mailbox_messages(localpart),
tb.wait_for_mailbox(localpart, count), tb.start_site()/site_messages(),
tb.write_etrn_config(path, database=..., socket=...).
Must run as root. Standard library only.
"""

from __future__ import annotations

import contextlib
import ctypes
import email
import email.policy
import fcntl
import os
import re
import shutil
import signal
import smtplib
import socketserver
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

from postfix_testbed import (ELSEWHERE_DOMAIN, ETRN_DOMAIN, SENDER_DOMAIN,  # noqa: F401
                             TRANSPORT_ONLY_DOMAIN, PostfixTestbed, free_port, poll_until, run)

def with_qualified_hostname() -> None:
    """A subprocess preexec_fn: a UTS namespace of its own whose host name
    is dotted. Sendmail sleeps 60 s at every start (daemon or command) when
    the machine's short host name does not resolve to a dotted one, which
    is so on test machines; production hosts have a proper name."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x04000000) != 0:  # CLONE_NEWUTS
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUTS)")
    name = SendmailTestbed.hostname.encode()
    if libc.sethostname(name, len(name)) != 0:
        raise OSError(ctypes.get_errno(), "sethostname")


CACHE = Path(os.environ.get("ETRN_SENDMAIL_CACHE", "/var/cache/etrn-sweeper-tests/sendmail"))
PACKAGES = ("sendmail-bin", "sendmail-base", "sendmail-cf")
ETRN_MAILER = "dsmtp"


def sendmail_root() -> Path:
    """The unpacked packages (fetched and unpacked once, under a lock)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    root = CACHE / "root"
    with open(CACHE / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "usr/libexec/sendmail/sendmail").exists():
            debs = CACHE / "debs"
            debs.mkdir(exist_ok=True)
            if not list(debs.glob("sendmail-bin_*.deb")):
                subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, check=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
            tmp = CACHE / "root.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            for deb in sorted(debs.glob("*.deb")):
                run(["dpkg", "-x", str(deb), str(tmp)])
            tmp.rename(root)
    return root


class _SinkHandler(socketserver.StreamRequestHandler):
    """Just enough ESMTP to take mail from Sendmail."""

    def handle(self) -> None:
        sink: MailSink = self.server.sink  # type: ignore[attr-defined]
        self._reply("220 sink.example ESMTP")
        sender, rcpts = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("utf-8", "replace").strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._reply("250-sink.example\r\n250-8BITMIME\r\n250-DSN\r\n250 ENHANCEDSTATUSCODES")
            elif verb == "MAIL":
                sender, rcpts = cmd, []
                self._reply("250 2.1.0 ok")
            elif verb == "RCPT":
                m = re.search(r"<([^>]*)>", cmd)
                rcpts.append(m.group(1) if m else cmd)
                self._reply("250 2.1.5 ok")
            elif verb == "DATA":
                self._reply("354 go ahead")
                data = bytearray()
                while True:
                    l = self.rfile.readline()
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    if l.startswith(b".."):
                        l = l[1:]
                    data += l
                sink.store(sender or "", rcpts, bytes(data))
                self._reply("250 2.0.0 stored")
            elif verb == "QUIT":
                self._reply("221 2.0.0 bye")
                return
            else:
                self._reply("250 2.0.0 ok")

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")


class MailSink:
    """An SMTP server on 127.0.0.1:port in a thread; store(sender, rcpts, data)
    writes DIR/<localpart or 'all'>/<n>.eml."""

    def __init__(self, directory: Path, port: int, per_recipient: bool):
        self.dir, self.port, self.per_recipient = directory, port, per_recipient
        self.dir.mkdir(parents=True, exist_ok=True)
        self._count = 0
        self._lock = threading.Lock()
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", port), _SinkHandler)
        self._server.daemon_threads = True
        self._server.sink = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def store(self, sender: str, rcpts: list[str], data: bytes) -> None:
        with self._lock:
            self._count += 1
            n = self._count
        boxes = [r.split("@")[0].lower() for r in rcpts] if self.per_recipient else ["all"]
        for box in boxes:
            d = self.dir / box
            d.mkdir(exist_ok=True)
            (d / f"{n:04d}.eml").write_bytes(data)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class SendmailTestbed:
    hostname = "mx.provider.example"

    def __init__(self, milter_socket: str | None = None, directory: Path | None = None):
        self.root = sendmail_root()
        self.sendmail = self.root / "usr/libexec/sendmail/sendmail"
        self.dir = Path(directory or tempfile.mkdtemp(prefix="etrn-sendmail-"))
        os.chmod(self.dir, 0o755)
        self.port, self.site_port, self.mail_port = free_port(), free_port(), free_port()
        self.milter_socket = milter_socket
        self.cf = self.dir / "sendmail.cf"
        self.queue_pattern = f"{self.dir}/mqueue/q*"
        self._mailbox = MailSink(self.dir / "mail", self.mail_port, per_recipient=True)
        self._site: MailSink | None = None
        self.running = False
        self._write_instance()

    # ---- files -----------------------------------------------------------

    def _write_instance(self) -> None:
        for q in ("q1", "q2"):
            for sub in ("qf", "df", "xf"):
                (self.dir / "mqueue" / q / sub).mkdir(parents=True, exist_ok=True)
        for p in [self.dir / "mqueue", *(self.dir / "mqueue").rglob("*")]:
            os.chmod(p, 0o700)
        (self.dir / "mailertable").write_text(
            f"{ETRN_DOMAIN} {ETRN_MAILER}:[127.0.0.1]\n"
            f"{TRANSPORT_ONLY_DOMAIN} {ETRN_MAILER}:[127.0.0.1]\n"
            f"{SENDER_DOMAIN} esmtp:[127.0.0.1]\n")
        (self.dir / "sendmail.mc").write_text(self._mc())
        with open(self.cf, "wb") as out:
            subprocess.run(["m4", str(self.dir / "sendmail.mc")], stdout=out, check=True)
        with open(self.dir / "mailertable", "rb") as table:
            subprocess.run([str(self.root / "usr/libexec/sendmail/makemap"), "-C", str(self.cf),
                            "hash", str(self.dir / "mailertable")], stdin=table, check=True)

    def _mc(self) -> str:
        d, cf = self.dir, self.root / "usr/share/sendmail/cf"
        lines = [
            "divert(-1)", "# Private Sendmail instance for ETRN Sweeper's integration tests.",
            "divert(0)dnl",
            f"include(`{cf}/m4/cf.m4')dnl",
            "VERSIONID(`etrn-sweeper test instance')dnl",
            "OSTYPE(`linux')dnl",
            f"define(`confDOMAIN_NAME', `{self.hostname}')dnl",
            f"define(`QUEUE_DIR', `{self.queue_pattern}')dnl",
            f"define(`STATUS_FILE', `{d}/statistics')dnl",
            f"define(`confPID_FILE', `{d}/sendmail.pid')dnl",
            "define(`ALIAS_FILE', `')dnl",
            "define(`confDONT_PROBE_INTERFACES', `True')dnl",
            "define(`confDONT_BLAME_SENDMAIL', "
            "`GroupWritableDirPathSafe,MapInUnsafeDirPath,InsufficientEntropy,TrustStickyBit')dnl",
            "define(`confTO_QUEUEWARN', `30d')dnl",
            "define(`confTO_QUEUERETURN', `30d')dnl",
            "define(`confTO_CONNECT', `5s')dnl",
            f"define(`DSMTP_MAILER_ARGS', `TCP $h {self.site_port}')dnl",
            f"define(`ESMTP_MAILER_ARGS', `TCP $h {self.mail_port}')dnl",
            "FEATURE(`no_default_msa')dnl",
            "FEATURE(`accept_unresolvable_domains')dnl",
            f"FEATURE(`mailertable', `hash {d}/mailertable')dnl",
            f"DAEMON_OPTIONS(`Port={self.port},Addr=127.0.0.1,Name=MTA')dnl",
        ]
        if self.milter_socket:
            lines.append(f"INPUT_MAIL_FILTER(`etrn', `S={self.milter_socket}, F=T, "
                         "T=S:10s;R:10s;E:10s')dnl")
        lines += ["MAILER(`local')dnl", "MAILER(`smtp')dnl"]
        return "\n".join(lines) + "\n"

    # ---- control ---------------------------------------------------------

    def start(self) -> None:
        # The daemon forks and keeps its descriptors: no pipes to wait on.
        with open(self.dir / "sendmail.err", "ab") as err:
            rc = subprocess.call([str(self.sendmail), "-C", str(self.cf), "-bd"],
                                 stdin=subprocess.DEVNULL, stdout=err, stderr=err, timeout=60,
                                 preexec_fn=with_qualified_hostname)
        if rc != 0:
            raise RuntimeError(f"sendmail -bd failed ({rc}): "
                               f"{(self.dir / 'sendmail.err').read_text(errors='replace')}")
        self.running = True
        PostfixTestbed._wait_for_port(self.port, timeout=20)

    def _pid(self) -> int | None:
        try:
            pid = int((self.dir / "sendmail.pid").read_text().split()[0])
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        if self._site is not None:
            self._site.close()
            self._site = None
        pid = self._pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.time() + 10
            while time.time() < deadline and self._pid() is not None:
                time.sleep(0.1)
        self.running = False

    def cleanup(self, remove: bool = True) -> None:
        self.stop()
        with contextlib.suppress(Exception):
            self._mailbox.close()
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- queue -----------------------------------------------------------

    def queue_files(self) -> dict[str, Path]:
        """queue ID -> its control file (qf, or hf when quarantined)."""
        out = {}
        for path in (self.dir / "mqueue").glob("q*/qf/*"):
            if path.name[:2] in ("qf", "hf"):
                out[path.name[2:]] = path
        return out

    def wait_for_queue(self, predicate: Callable[[dict], bool], timeout: float = 20) -> dict:
        return poll_until(self.queue_files, predicate, timeout,
                          lambda files: f"queue condition not met in {timeout}s: {sorted(files)}")

    # ---- sending ---------------------------------------------------------

    def smtp_session(self, helo: str = "client.example") -> smtplib.SMTP:
        s = smtplib.SMTP("127.0.0.1", self.port, local_hostname=helo, timeout=60)
        s.ehlo(helo)
        return s

    def send(self, from_: str, to, *, mail_options: Sequence[str] = (),
             rcpt_options: Sequence[str] = (), headers: dict | None = None,
             body: str = "Test message.\n", subject: str = "test") -> str:
        """Sends one message over SMTP; returns Sendmail's queue ID from
        "250 2.0.0 <ID> Message accepted for delivery"."""
        recipients = [(r, list(rcpt_options)) if isinstance(r, str) else (r[0], list(r[1]))
                      for r in ([to] if isinstance(to, str) else to)]
        data = PostfixTestbed.build_message(from_, [r for r, _ in recipients], subject, headers,
                                            body)
        with self.smtp_session() as s:
            code, resp = s.mail(from_, list(mail_options))
            assert code == 250, (code, resp)
            for addr, opts in recipients:
                code, resp = s.rcpt(addr, opts)
                assert code in (250, 251), (addr, code, resp)
            code, resp = s.data(data)
            assert code == 250, (code, resp)
        m = re.match(rb"2\.0\.0 ([0-9A-Za-z]+) ", resp)
        if not m:
            raise RuntimeError(f"no queue ID in reply {resp!r}")
        return m.group(1).decode()

    def etrn(self, domain: str) -> tuple[int, str]:
        with self.smtp_session() as s:
            code, resp = s.docmd("ETRN", domain)
        return code, resp.decode(errors="replace")

    # ---- mailboxes and the site ------------------------------------------

    def mailbox_messages(self, localpart: str) -> list[email.message.Message]:
        box = self.dir / "mail" / localpart.lower()
        if not box.is_dir():
            return []
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.compat32)
                for p in sorted(box.iterdir())]

    def wait_for_mailbox(self, localpart: str, count: int = 1, timeout: float = 30) -> list:
        return poll_until(lambda: self.mailbox_messages(localpart), lambda msgs: len(msgs) >= count,
                          timeout, lambda msgs: f"{localpart}@{SENDER_DOMAIN} got {len(msgs)} "
                          f"messages, want {count}")

    def start_site(self) -> None:
        if self._site is None:
            self._site = MailSink(self.dir / "site", self.site_port, per_recipient=False)

    def site_messages(self) -> list[bytes]:
        return [p.read_bytes() for p in sorted((self.dir / "site").glob("all/*.eml"))]

    # ---- etrn-sweeper configuration --------------------------------------

    def write_etrn_config(self, path: Path, *, database: Path, socket: str | None = None,
                          user: str = "postfix", etrn_domains: Sequence[str] = (ETRN_DOMAIN,),
                          etrn_transports: Sequence[str] = (ETRN_MAILER,),
                          extra_top: dict | None = None) -> Path:
        socket = socket or self.milter_socket or f"unix:{self.dir}/milter.sock"
        lines = ["# etrn-sweeper configuration for a test Sendmail instance",
                 f"database = {database}",
                 f"etrn_domains = {', '.join(etrn_domains)}",
                 f"etrn_transports = {', '.join(etrn_transports)}"]
        lines += [f"{k} = {v}" for k, v in (extra_top or {}).items()]
        lines += ["", "[milter]", f"socket = {socket}", "on_error = accept", f"user = {user}",
                  "", "[sweeper]", "mta = sendmail",
                  f"sendmail_queue_directory = {self.queue_pattern}",
                  f"sendmail_program = {self.sendmail}",
                  f"sendmail_config_file = {self.cf}",
                  f"reporting_mta = {self.hostname}"]
        Path(path).write_text("\n".join(lines) + "\n")
        os.chmod(path, 0o644)
        return Path(path)
