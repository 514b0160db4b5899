"""postfix_testbed.py - a private, real Postfix instance for integration tests.

Each PostfixTestbed is a Postfix instance in its own directory (default: a
fresh /tmp/etrn-postfix-XXXX), listening on a free loopback port, with an
ETRN-only setup as in Postfix's ETRN_README:

    relay_domains   = customer.example, transport-only.example
    transport_maps  = texthash:DIR/transport
        customer.example        etrn-only:[127.0.0.1]:SITEPORT
        transport-only.example  etrn-only:[127.0.0.1]:SITEPORT
    master.cf       etrn-only unix - - n - - smtp
    defer_transports = etrn-only

`customer.example` is meant to be listed in etrn-sweeper's `etrn_domains`;
`transport-only.example` is NOT, so the milter can only find it through
{rcpt_mailer} = etrn-only. `sender.example` is a virtual mailbox domain:
mail (e.g. a DSN) to `alice@sender.example` lands in DIR/mail/alice/new/
(for the local parts in MAILBOX_LOCALPARTS; any other in DIR/mail/other/).
`elsewhere.example` is relayed (not ETRN) to SITEPORT over the normal
`smtp` transport, so it leaves the queue as soon as the site sink runs.
`discard.example` goes to Postfix's `discard:` transport: accepted and
dropped at once (the benchmark's ordinary, non-ETRN mail).

API (all paths are pathlib.Path):

    tb = PostfixTestbed(milter_socket="unix:/path/sock" or None)
    tb.dir, tb.port, tb.site_port, tb.hostname ("mx.provider.example")
    tb.start() / tb.stop()                  postfix -c DIR start|stop
    tb.use_milter("unix:/path/sock")        smtpd_milters + non_smtpd_milters
    tb.main_cf_set(key=value, ...)          postconf -c DIR -e; reloads if running
    tb.add_deferred_transport(name, domain) one more transport in defer_transports
                                            (not ETRN: ordinary mail held back,
                                            as during an outage) for `domain`
    tb.write_map(name, text, kind="texthash") -> str   a map DIR/NAME, as
                                            "KIND:DIR/NAME" for main.cf
    tb.postconf(*args) -> str               postconf -c DIR ARGS
    tb.postqueue_json() -> [dict]           postqueue -j (one dict per message)
    tb.queue_ids() -> [str]
    tb.send(from_, to, *, mail_options=(), rcpt_options=(), headers={},
            body="...", subject=...) -> str    raw SMTP (smtplib), returns the
            queue ID from the "250 2.0.0 Ok: queued as ID" reply. `to` is an
            address or a list; rcpt_options apply to every recipient, or
            pass `to` as a list of (address, [options]) pairs.
    tb.smtp_session()                       an smtplib.SMTP connected and EHLO'd
    tb.sendmail_submit(from_, to, headers={}, body=..., args=())
                                            the instance's sendmail command
    tb.wait_for_queue(predicate, timeout=20) -> [dict]  polls postqueue -j
    tb.wait_for_queue_id(queue_id, timeout) -> dict
    tb.wait_until_deferred(queue_id, timeout) -> dict   in deferred or hold (not in delivery)
    tb.etrn(domain) -> (code, text)         ETRN over a raw SMTP session
    tb.flush()                              postqueue -f
    tb.mailbox_messages(localpart) -> [email.message.Message]
    tb.wait_for_mailbox(localpart, count=1, timeout=30)
    tb.start_site_sink(data_delay=0) / tb.stop_site_sink()   smtp-sink on SITEPORT;
                                            mail it receives is dumped under DIR/sink;
                                            data_delay: seconds before it answers DATA
    tb.site_messages() -> [bytes]
    tb.maillog() -> str                     DIR/maillog
    tb.write_etrn_config(path, database=..., socket=..., user=..., extra_top={},
                         extra_milter={}, extra_sweeper={}) -> Path
    tb.cleanup()                            stop everything and remove DIR

Postfix's setgid helpers (postdrop for `sendmail`, postqueue) only accept a
non-default configuration directory that is listed in
`alternate_config_directories` of the DEFAULT /etc/postfix/main.cf. The
testbed adds DIR there at start and removes it at cleanup (creating a
minimal /etc/postfix/main.cf if the package was installed with "No
configuration"), under a lock so parallel testbeds do not race.

Must run as root (Postfix's master runs as root). Uses only Debian's
/usr/bin/python3 standard library.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import email.utils
import fcntl
import json
import os
import pwd
import random
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence

POSTFIX_BIN = Path("/usr/sbin")
DEFAULT_MAIN_CF = Path("/etc/postfix/main.cf")
DEFAULT_MASTER_CF = Path("/etc/postfix/master.cf")
LOCK_FILE = Path("/tmp/etrn-postfix-testbed.lock")

ETRN_DOMAIN = "customer.example"
TRANSPORT_ONLY_DOMAIN = "transport-only.example"
SENDER_DOMAIN = "sender.example"
ELSEWHERE_DOMAIN = "elsewhere.example"
DISCARD_DOMAIN = "discard.example"  # discard: at once (the benchmark's non-ETRN mail)
ETRN_TRANSPORT = "etrn-only"
MAILBOX_LOCALPARTS = ("alice", "bob", "carol", "dave", "erin", "frank", "sender",
                      "postmaster", "bounces", "test")


def poll_until(fetch: Callable, done: Callable, timeout: float, failure: Callable[..., str],
               interval: float = 0.2):
    """Calls fetch() until done(value) holds and returns that value; after
    `timeout` seconds raises TimeoutError(failure(last value))."""
    deadline = time.time() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.time() > deadline:
            raise TimeoutError(failure(value))
        time.sleep(interval)


# Postfix reads a configuration file or a texthash map again and again, 0.3 s
# apart, for as long as its mtime is within the second before the read began
# ("pausing to let FILE cool down", dict_load_file_xt(), lest it read a
# file half written). A file the harness just wrote stalled every Postfix
# program that read it by up to 2 s: `postfix start` right after main.cf
# was written, `postfix reload` after postconf -e, and, through the default
# main.cf that every testbed's start and cleanup edit (below), every
# postqueue, postdrop and sendmail of every test running meanwhile. The
# harness writes each file whole before a Postfix program reads it, so it
# dates the file back out of that window.
COOL_MTIME_AGE = 5


def cool(path: Path) -> Path:
    """Dates `path` back COOL_MTIME_AGE seconds: Postfix reads it at once."""
    past = time.time() - COOL_MTIME_AGE
    os.utime(path, (past, past))
    return path


def write_cool(path: Path, text: str) -> Path:
    """Writes a whole file for Postfix to read, dated back (cool)."""
    path.write_text(text)
    return cool(path)


# Listening ports come from below the kernel's ephemeral range (32768 and
# up on Linux): a port the kernel hands out as free (bind to 0) can be taken
# as the source port of some outgoing connection before Postfix binds it,
# which made parallel test runs fail with "Address already in use".
LISTEN_PORTS = (20000, 32000)


def free_port() -> int:
    """A TCP port on 127.0.0.1, below the ephemeral range, free a moment ago."""
    for _ in range(1000):
        port = random.randint(*LISTEN_PORTS)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free TCP port in {LISTEN_PORTS}")


def run(argv: Sequence[str], *, env: dict | None = None, input: bytes | None = None,
        check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs argv (never a shell) and returns the completed process."""
    proc = subprocess.run(list(argv), env=env, input=input, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n"
                           f"{proc.stdout.decode(errors='replace')}{proc.stderr.decode(errors='replace')}")
    return proc


@contextlib.contextmanager
def _global_lock():
    with open(LOCK_FILE, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _read_alternate_dirs() -> list[str]:
    if not DEFAULT_MAIN_CF.exists():
        return []
    out = run(["postconf", "-c", str(DEFAULT_MAIN_CF.parent), "-h", "alternate_config_directories"],
              check=False).stdout.decode()
    return [d for d in re.split(r"[,\s]+", out.strip()) if d]


def _write_alternate_dirs(dirs: list[str]) -> None:
    value = " ".join(dirs)
    run(["postconf", "-c", str(DEFAULT_MAIN_CF.parent), "-e", f"alternate_config_directories = {value}"])
    cool(DEFAULT_MAIN_CF)


def register_alternate_config_dir(path: Path) -> None:
    """Lists `path` in the default main.cf's alternate_config_directories."""
    with _global_lock():
        if not DEFAULT_MAIN_CF.exists():
            DEFAULT_MAIN_CF.parent.mkdir(parents=True, exist_ok=True)
            write_cool(DEFAULT_MAIN_CF,
                "# Created by ETRN Sweeper's test harness (tests/integration/postfix_testbed.py):\n"
                "# the package was installed with 'No configuration'. It only lists the\n"
                "# private test instances that Postfix's setgid commands may use.\n"
                "compatibility_level = 3.6\n")
        dirs = _read_alternate_dirs()
        # Forget test instances that are gone (a killed run leaves them listed).
        kept = [d for d in dirs if not (d.startswith(tempfile.gettempdir() + "/etrn-postfix-")
                                        and not Path(d).exists())]
        if str(path) not in kept:
            kept.append(str(path))
        if kept != dirs:
            _write_alternate_dirs(kept)


def unregister_alternate_config_dir(path: Path) -> None:
    with contextlib.suppress(Exception), _global_lock():
        dirs = _read_alternate_dirs()
        if str(path) in dirs:
            _write_alternate_dirs([d for d in dirs if d != str(path)])


class PostfixTestbed:
    """A private Postfix instance; see the module docstring for the API."""

    hostname = "mx.provider.example"

    def __init__(self, milter_socket: str | None = None, directory: Path | None = None,
                 non_smtpd_milter: bool = True):
        if directory is None:
            directory = Path(tempfile.mkdtemp(prefix="etrn-postfix-"))
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        # Postfix daemons (user postfix) must reach the milter socket and
        # the mail directory below DIR.
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.site_port = free_port()
        self.milter_socket = milter_socket
        self.non_smtpd_milter = non_smtpd_milter
        self.running = False
        self._sink: subprocess.Popen | None = None
        self._registered = False
        self._extra_services: list[str] = []  # master.cf lines (add_deferred_transport)
        self._write_instance()

    # ---- files -----------------------------------------------------------

    @property
    def env(self) -> dict:
        env = dict(os.environ)
        env["MAIL_CONFIG"] = str(self.dir)
        return env

    def _write_instance(self) -> None:
        postfix = pwd.getpwnam("postfix")
        for sub in ("queue", "data", "mail", "sink"):
            (self.dir / sub).mkdir(exist_ok=True)
        os.chown(self.dir / "data", postfix.pw_uid, postfix.pw_gid)
        os.chown(self.dir / "sink", postfix.pw_uid, postfix.pw_gid)
        os.chown(self.dir / "mail", 65534, 65534)
        write_cool(self.dir / "transport",
            f"{ETRN_DOMAIN} {ETRN_TRANSPORT}:[127.0.0.1]:{self.site_port}\n"
            f"{TRANSPORT_ONLY_DOMAIN} {ETRN_TRANSPORT}:[127.0.0.1]:{self.site_port}\n"
            f"{ELSEWHERE_DOMAIN} smtp:[127.0.0.1]:{self.site_port}\n"
            f"{DISCARD_DOMAIN} discard:\n")
        # One mailbox per known local part: alice@sender.example ->
        # DIR/mail/alice/ (virtual(8) forbids regexp substitution, so the
        # names are listed); any other local part lands in DIR/mail/other/.
        write_cool(self.dir / "virtual_mailbox",
            "".join(f"{lp}@{SENDER_DOMAIN} {lp}/\n" for lp in MAILBOX_LOCALPARTS)
            + f"@{SENDER_DOMAIN} other/\n")
        write_cool(self.dir / "main.cf", self._main_cf())
        write_cool(self.dir / "master.cf", self._master_cf())
        os.chmod(self.dir / "main.cf", 0o644)
        os.chmod(self.dir / "master.cf", 0o644)

    def _main_cf(self) -> str:
        d = self.dir
        lines = [
            "# Private Postfix instance for ETRN Sweeper's integration tests.",
            "compatibility_level = 3.6",
            f"queue_directory = {d}/queue",
            f"data_directory = {d}/data",
            "command_directory = /usr/sbin",
            "daemon_directory = /usr/lib/postfix/sbin",
            "meta_directory = /etc/postfix",
            "shlib_directory = /usr/lib/postfix",
            "mail_owner = postfix",
            "setgid_group = postdrop",
            f"myhostname = {self.hostname}",
            "mydomain = provider.example",
            "myorigin = $myhostname",
            "mydestination =",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            "mynetworks = 127.0.0.0/8",
            "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
            "alias_maps =",
            "alias_database =",
            "local_recipient_maps =",
            "notify_classes =",
            "biff = no",
            "smtputf8_enable = yes",
            "smtp_dns_support_level = disabled",
            "disable_dns_lookups = yes",
            "smtpd_peername_lookup = no",
            f"maillog_file = {d}/maillog",
            f"maillog_file_prefixes = {d}",
            f"relay_domains = {ETRN_DOMAIN}, {TRANSPORT_ONLY_DOMAIN}, {ELSEWHERE_DOMAIN}, "
            f"{DISCARD_DOMAIN}",
            f"transport_maps = texthash:{d}/transport",
            f"defer_transports = {ETRN_TRANSPORT}",
            f"virtual_mailbox_domains = {SENDER_DOMAIN}",
            f"virtual_mailbox_base = {d}/mail",
            f"virtual_mailbox_maps = texthash:{d}/virtual_mailbox",
            "virtual_uid_maps = static:65534",
            "virtual_gid_maps = static:65534",
            # Deferred mail stays deferred until a test flushes it or says
            # ETRN: queue runs every few seconds would move it into the
            # active queue again and again, where the sweeper rightly
            # leaves it alone (a delivery may be under way), so a sweep
            # would act or not by chance. A new message still gets its
            # first attempt at once.
            "queue_run_delay = 1h",
            "minimal_backoff_time = 1h",
            "maximal_backoff_time = 2h",
            "delay_warning_time = 0",
            "smtp_connect_timeout = 5s",
            "in_flow_delay = 0",
        ]
        if self.milter_socket:
            # The form the README recommends: default_action for this milter
            # alone, not the global milter_default_action that would change
            # every other milter's failure behaviour.
            milter = f"{{ {self.milter_socket}, default_action=accept }}"
            lines += [f"smtpd_milters = {milter}",
                      f"non_smtpd_milters = {milter if self.non_smtpd_milter else ''}"]
        return "\n".join(lines) + "\n"

    def _master_cf(self) -> str:
        text = DEFAULT_MASTER_CF.read_text() if DEFAULT_MASTER_CF.exists() else ""
        out = []
        for line in text.splitlines():
            # Our own smtpd listener replaces the standard one (below).
            if re.match(r"^smtp\s+inet\s", line):
                continue
            out.append(line)
        if not any(re.match(r"^pickup\s", l) for l in out):
            raise RuntimeError(f"{DEFAULT_MASTER_CF} is missing or has no pickup service")
        out.insert(0, f"127.0.0.1:{self.port} inet n - n - - smtpd")
        out.append(f"{ETRN_TRANSPORT} unix - - n - - smtp")
        out += self._extra_services
        text = "\n".join(out) + "\n"
        # No chroot: the milter socket and the maps live outside the queue.
        text = re.sub(r"^(\S+\s+(?:inet|unix|fifo|pass|unix-dgram)\s+\S+\s+\S+\s+)y(\s)",
                      r"\1n\2", text, flags=re.M)
        return text

    # ---- control ---------------------------------------------------------

    def postconf(self, *args: str) -> str:
        return run(["postconf", "-c", str(self.dir), *args]).stdout.decode()

    def main_cf_set(self, **settings) -> None:
        """Sets main.cf parameters (postconf -e); reloads a running instance."""
        args = [f"{k} = {v}" for k, v in settings.items()]
        if args:
            run(["postconf", "-c", str(self.dir), "-e", *args])
            cool(self.dir / "main.cf")
        if self.running:
            self.reload()

    def add_deferred_transport(self, name: str, domain: str) -> None:
        """Mail for `domain` goes through transport `name` (an smtp client to
        the site port) and waits in the deferred queue like ETRN mail, with
        the same delay reason ("deferred transport"), though it is not."""
        self._extra_services.append(f"{name} unix - - n - - smtp")
        write_cool(self.dir / "master.cf", self._master_cf())
        with open(self.dir / "transport", "a") as f:
            f.write(f"{domain} {name}:[127.0.0.1]:{self.site_port}\n")
        cool(self.dir / "transport")
        relay = self.postconf("-h", "relay_domains").strip()
        deferred = self.postconf("-h", "defer_transports").strip()
        self.main_cf_set(relay_domains=f"{relay}, {domain}", defer_transports=f"{deferred}, {name}")

    def write_map(self, name: str, text: str, kind: str = "texthash") -> str:
        write_cool(self.dir / name, text)
        return f"{kind}:{self.dir / name}"

    def use_milter(self, socket: str | None, non_smtpd: bool = True) -> None:
        """Puts a milter (libmilter socket spec) in front of this instance."""
        self.milter_socket = socket
        self.non_smtpd_milter = non_smtpd
        write_cool(self.dir / "main.cf", self._main_cf())
        if self.running:
            self.reload()

    def reload(self) -> None:
        run(["postfix", "-c", str(self.dir), "reload"], env=self.env)
        time.sleep(0.5)

    def start(self) -> None:
        """Starts the instance; if another process took its SMTP port
        meanwhile (parallel tests), starts again on another one."""
        register_alternate_config_dir(self.dir)
        self._registered = True
        for attempt in range(5):
            proc = run(["postfix", "-c", str(self.dir), "start"], env=self.env, check=False)
            if proc.returncode == 0:
                break
            output = f"{proc.stdout.decode()}{proc.stderr.decode()}\n{self.maillog()}"
            if "Address already in use" not in output or attempt == 4:
                raise RuntimeError(f"postfix start failed ({proc.returncode}):\n{output}")
            self._wait_for_master_exit()
            self.port = free_port()
            write_cool(self.dir / "master.cf", self._master_cf())
        self.running = True
        self._wait_for_port(self.port, timeout=20)

    def stop(self) -> None:
        self.stop_site_sink()
        if self.running:
            run(["postfix", "-c", str(self.dir), "stop"], env=self.env, check=False)
            self.running = False
            self._wait_for_master_exit()

    def cleanup(self, remove: bool = True) -> None:
        self.stop()
        if self._registered:
            unregister_alternate_config_dir(self.dir)
            self._registered = False
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _master_pid(self) -> int | None:
        """The PID of the instance's running master, or None. A master that
        has exited is gone, though it stays a zombie until init (its parent
        once daemonized) reaps it: the init of this machine's containers
        takes a second and more for that, which every teardown waited out."""
        pid_file = self.dir / "queue" / "pid" / "master.pid"
        try:
            pid = int(pid_file.read_text().strip())
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (OSError, ValueError):
            return None
        state = stat.rsplit(")", 1)[-1].split()[0]  # after "PID (COMMAND)"
        return None if state == "Z" else pid

    def _wait_for_master_exit(self, timeout: float = 15) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline and self._master_pid() is not None:
            time.sleep(0.1)
        pid = self._master_pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)

    @staticmethod
    def _wait_for_port(port: int, timeout: float) -> None:
        deadline = time.time() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)

    # ---- queue -----------------------------------------------------------

    def postqueue_json(self) -> list[dict]:
        out = run(["postqueue", "-c", str(self.dir), "-j"], env=self.env).stdout.decode()
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def queue_ids(self) -> list[str]:
        return [m["queue_id"] for m in self.postqueue_json()]

    def wait_for_queue(self, predicate: Callable[[list[dict]], bool], timeout: float = 20) -> list[dict]:
        """Polls postqueue -j until predicate(messages) holds; returns them."""
        return poll_until(self.postqueue_json, predicate, timeout,
                          lambda queue: f"queue condition not met within {timeout}s; queue: {queue}")

    def wait_for_queue_id(self, queue_id: str, timeout: float = 20) -> dict:
        queue = self.wait_for_queue(lambda q: any(m["queue_id"] == queue_id for m in q), timeout)
        return next(m for m in queue if m["queue_id"] == queue_id)

    def wait_until_deferred(self, queue_id: str, timeout: float = 20) -> dict:
        """Waits until `queue_id` sits in the deferred (or hold) queue: past its
        first delivery attempt, where the sweeper acts on it (it leaves
        incoming and active mail alone)."""
        queue = self.wait_for_queue(lambda q: any(
            m["queue_id"] == queue_id and m["queue_name"] in ("deferred", "hold") for m in q),
            timeout)
        return next(m for m in queue if m["queue_id"] == queue_id)

    def flush(self) -> None:
        run(["postqueue", "-c", str(self.dir), "-f"], env=self.env)

    # ---- sending ---------------------------------------------------------

    def smtp_session(self, helo: str = "client.example") -> smtplib.SMTP:
        s = smtplib.SMTP("127.0.0.1", self.port, local_hostname=helo, timeout=30)
        s.ehlo(helo)
        return s

    @staticmethod
    def build_message(from_: str, to: Iterable[str], subject: str, headers: dict | None,
                      body: str) -> bytes:
        hdrs = {"From": from_ or "<>", "To": ", ".join(to), "Subject": subject,
                "Message-ID": f"<{time.time_ns()}.{os.getpid()}@client.example>",
                "Date": email.utils.formatdate(localtime=False)}
        for k, v in (headers or {}).items():
            if v is None:
                hdrs.pop(k, None)
            else:
                hdrs[k] = v
        text = "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n")
        if not text.endswith("\r\n"):
            text += "\r\n"
        return text.encode("utf-8")

    def send(self, from_: str, to, *, mail_options: Sequence[str] = (),
             rcpt_options: Sequence[str] = (), headers: dict | None = None,
             body: str = "Test message.\n", subject: str = "test", helo: str = "client.example",
             message: bytes | None = None) -> str:
        """Sends one message over SMTP; returns Postfix's queue ID."""
        recipients: list[tuple[str, list[str]]] = []
        for r in ([to] if isinstance(to, str) else to):
            if isinstance(r, str):
                recipients.append((r, list(rcpt_options)))
            else:
                recipients.append((r[0], list(r[1])))
        data = message if message is not None else self.build_message(
            from_, [r for r, _ in recipients], subject, headers, body)
        with self.smtp_session(helo) as s:
            code, resp = s.mail(from_, list(mail_options))
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, resp, from_)
            for addr, opts in recipients:
                code, resp = s.rcpt(addr, opts)
                if code not in (250, 251):
                    raise smtplib.SMTPRecipientsRefused({addr: (code, resp)})
            code, resp = s.data(data)
            if code != 250:
                raise smtplib.SMTPDataError(code, resp)
        m = re.search(rb"queued as ([0-9A-Za-z]+)", resp)
        if not m:
            raise RuntimeError(f"no queue ID in reply {resp!r}")
        return m.group(1).decode()

    def send_raw(self, from_: str, to, **kw) -> tuple[int, bytes]:
        """Like send(), but returns the DATA reply (code, text) instead of
        raising when the server does not accept the message."""
        try:
            qid = self.send(from_, to, **kw)
            return 250, f"queued as {qid}".encode()
        except smtplib.SMTPResponseException as e:
            return e.smtp_code, e.smtp_error
        except smtplib.SMTPRecipientsRefused as e:
            code, text = next(iter(e.recipients.values()))
            return code, text

    def sendmail_submit(self, from_: str, to, *, headers: dict | None = None,
                        body: str = "Submitted with sendmail.\n", subject: str = "sendmail test",
                        args: Sequence[str] = ()) -> None:
        """Submits with the instance's sendmail(1) command (postdrop, pickup)."""
        to = [to] if isinstance(to, str) else list(to)
        data = self.build_message(from_, to, subject, headers, body)
        run([str(POSTFIX_BIN / "sendmail"), "-C", str(self.dir), "-f", from_, *args, "--", *to],
            env=self.env, input=data)

    def etrn(self, domain: str) -> tuple[int, str]:
        with self.smtp_session() as s:
            code, resp = s.docmd("ETRN", domain)
        return code, resp.decode(errors="replace")

    # ---- mailboxes and the site ------------------------------------------

    def mailbox_messages(self, localpart: str) -> list[email.message.Message]:
        new = self.dir / "mail" / localpart / "new"
        if not new.is_dir():
            return []
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.compat32)
                for p in sorted(new.iterdir(), key=lambda p: p.stat().st_mtime)]

    def wait_for_mailbox(self, localpart: str, count: int = 1, timeout: float = 30) -> list:
        return poll_until(lambda: self.mailbox_messages(localpart), lambda msgs: len(msgs) >= count,
                          timeout, lambda msgs: f"{localpart}@{SENDER_DOMAIN} got {len(msgs)} "
                          f"messages, want {count}; maillog:\n{self.maillog()[-3000:]}")

    def start_site_sink(self, data_delay: int = 0) -> None:
        """Starts the ETRN site (smtp-sink) on site_port; dumps mail under DIR/sink.
        `data_delay`: seconds the site waits before answering DATA (a slow
        site keeps the message in Postfix's active queue that long)."""
        if self._sink is not None:
            return
        slow = ["-w", str(data_delay)] if data_delay else []
        self._sink = subprocess.Popen(
            ["smtp-sink", "-u", "postfix", *slow, "-d", f"{self.dir}/sink/msg-",
             f"127.0.0.1:{self.site_port}", "10"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_for_port(self.site_port, timeout=10)

    def stop_site_sink(self) -> None:
        if self._sink is not None:
            self._sink.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._sink.wait(timeout=5)
            if self._sink.poll() is None:
                self._sink.kill()
                self._sink.wait()
            self._sink = None

    def site_messages(self) -> list[bytes]:
        return [p.read_bytes() for p in sorted((self.dir / "sink").glob("msg-*"))]

    def maillog(self) -> str:
        path = self.dir / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    # ---- etrn-sweeper configuration --------------------------------------

    def write_etrn_config(self, path: Path, *, database: Path, socket: str | None = None,
                          user: str = "postfix", etrn_domains: Sequence[str] = (ETRN_DOMAIN,),
                          etrn_transports: Sequence[str] = (ETRN_TRANSPORT,),
                          on_error: str = "accept", extra_top: dict | None = None,
                          extra_milter: dict | None = None,
                          extra_sweeper: dict | None = None) -> Path:
        """Writes an etrn-sweeper.conf that matches this instance."""
        socket = socket or self.milter_socket or f"unix:{self.dir}/milter.sock"
        lines = ["# etrn-sweeper configuration for a test Postfix instance",
                 f"database = {database}",
                 f"etrn_domains = {', '.join(etrn_domains)}",
                 f"etrn_transports = {', '.join(etrn_transports)}"]
        lines += [f"{k} = {v}" for k, v in (extra_top or {}).items()]
        lines += ["", "[milter]", f"socket = {socket}", f"on_error = {on_error}",
                  f"user = {user}"]
        lines += [f"{k} = {v}" for k, v in (extra_milter or {}).items()]
        lines += ["", "[sweeper]", "mta = postfix", f"postfix_config_directory = {self.dir}",
                  f"reporting_mta = {self.hostname}"]
        lines += [f"{k} = {v}" for k, v in (extra_sweeper or {}).items()]
        path = Path(path)
        path.write_text("\n".join(lines) + "\n")
        os.chmod(path, 0o644)
        return path
