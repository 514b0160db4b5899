#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

The seeds are the captured fixtures under tests/data/, the inputs of the
unit tests, and the inputs of the findings already fixed (marked
"finding-"). Run it again after adding a fixture; it only writes files, so
a seed added by hand (a crash kept as a regression input) stays.

    tests/fuzz/make_seeds.py
"""
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parent / "data"
CORPUS = HERE / "corpus"


def write(target, name, content):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    (directory / name).write_bytes(content)


def fixtures(target, folder, pattern="*"):
    for path in sorted((DATA / folder).glob(pattern)):
        write(target, "fixture-" + path.name, path.read_bytes())


class Provider:
    """Bytes in the layout libFuzzer's FuzzedDataProvider reads: strings
    from the front, each ended by a backslash and another byte; integers
    and booleans from the end, the first one consumed in the last byte."""

    def __init__(self):
        self.front = b""
        self.back = []

    def string(self, text):
        if isinstance(text, str):
            text = text.encode()
        self.front += text.replace(b"\\", b"\\\\") + b"\\|"
        return self

    def byte(self, value):  # ConsumeBool, ConsumeIntegral<uint8_t>, small ranges
        self.back.append(value & 0xFF)
        return self

    def integer(self, value, size):  # most significant byte read first
        for shift in reversed(range(size)):
            self.back.append((value >> (8 * shift)) & 0xFF)
        return self

    def remaining(self, text):
        if isinstance(text, str):
            text = text.encode()
        return self.front + text + bytes(reversed(self.back))


def postqueue_json():
    for name in ("postqueue-j.txt", "postqueue-j-long-id.txt"):
        for i, line in enumerate((DATA / "postfix" / name).read_text().splitlines()):
            write("postqueue_json", f"fixture-{name}-{i}", line)
    write("postqueue_json", "unit-held-null-sender",
          '{"queue_name":"hold","queue_id":"ABCDEF12","arrival_time":5,"message_size":9,'
          '"forced_expire":true,"sender":"MAILER-DAEMON","recipients":'
          '[{"address":"c@d","delay_reason":"deferred transport"}]}')
    write("postqueue_json", "unit-queue-id-all",
          '{"queue_name":"deferred","queue_id":"ALL","arrival_time":5,"sender":"","recipients":[]}')
    write("postqueue_json", "unit-extreme-arrival",
          '{"queue_name":"deferred","queue_id":"ABCDEF12","arrival_time":-9223372036854775808,'
          '"sender":"a@b","recipients":[{"address":"c@d"}]}')


def postcat():
    fixtures("postcat", "postfix", "postcat-*.txt")
    path = "deferred/2/2A9FCA7225E"
    frame = (f"*** ENVELOPE RECORDS {path} ***\nsender: a@b.example\nrecipient: c@d.example\n"
             f"*** MESSAGE CONTENTS {path} ***\nSubject: x\n\n{{}}\n"
             f"*** HEADER EXTRACTED {path} ***\n*** MESSAGE FILE END {path} ***\n")
    # The overlap the outside campaign found: one star run matched both ends.
    write("postcat", "finding-star-star-in-body", frame.format("*** ***"))
    write("postcat", "finding-star-star-alone", "*** ***\n***  ***\n*** ENVELOPE RECORDS ***\n")
    write("postcat", "body-with-a-marker-line",
          frame.format(f"*** MESSAGE FILE END {path} ***"))


def postsuper_output():
    write("postsuper_output", "two-removed",
          "3F1C2A7225E 4A2D3B8336F\npostsuper: 3F1C2A7225E: removed\n"
          "postsuper: 4A2D3B8336F: removed\npostsuper: Deleted: 2 messages\n")
    write("postsuper_output", "one-missing",
          "3F1C2A7225E 4A2D3B8336F\npostsuper: 3F1C2A7225E: removed\npostsuper: Deleted: 1 message\n")
    write("postsuper_output", "long-id",
          "4dTL0V6JgVzB1Zq\npostsuper: 4dTL0V6JgVzB1Zq: removed\n")
    # The overlap the outside campaign found: prefix and suffix share ": ".
    write("postsuper_output", "finding-postsuper-removed",
          "3F1C2A7225E\npostsuper: removed\npostsuper: : removed\n")


def sendmail_qf():
    fixtures("sendmail_qf", "sendmail")


def xtext():
    for i, text in enumerate(["abc.123@example", "a+2Bb+3Dc+20d", "a+2bb+3d", "+C3+A4", "abc+",
                              "abc+4", "+GG", "+2G", "++20", "", "a+b=c d\x01\xc3\xa4", "!az~<@>"]):
        write("xtext", f"unit-{i}", text)


def config():
    # The example of interface.md, as the configuration unit test holds it.
    unit_test = (HERE.parent / "unit" / "common" / "config" / "config_test.cpp").read_text()
    example = re.search(r'kInterfaceExample = R"\((.*?)\)";', unit_test, re.S).group(1)
    write("config", "interface-example", example)
    write("config", "more-keys", "log_level = debug\n[milter]\nrecord_timeout = 5s\n"
          "[sweeper]\nbounce_size_limit = 50000\nmta = sendmail\n")
    # The overflow the outside campaign found: durations near INT64_MAX.
    write("config", "finding-duration-int64-max", "expire_after = 9223372036854775807s\n")
    write("config", "finding-policy-duration-overflow",
          "domain_policy = a.example expire_after=106751991167300d warn_after=15250284452471w\n")
    write("config", "longest-duration", "expire_after = 3650d\nwarn_after = 3651d\n")
    write("config", "override-line", "sweeper.mta=sendmail\n[unknown]\nx = 1\nwarn_after = 1w\n")


def priority_headers():
    for i, (name, value) in enumerate([
            ("Subject", "urgent!"), ("Priority", "urgent"), ("priority", "  NORMAL  "),
            ("X-Priority", "2 (High)"), ("X-PRIORITY", "5 (Lowest)"), ("X-Priority", "High"),
            ("X-Priority", "12"), ("Importance", "High"), ("importance", "low"),
            ("Precedence", "bulk"), ("Precedence", "special-delivery"), ("Priority", "non-urgent")]):
        write("priority_headers", f"unit-{i}", f"From: a@b.example\n{name}: {value}\nSubject: s\n")
    write("priority_headers", "folded-crlf",
          "Priority:\r\n urgent\r\nX-Priority: 5\r\n\r\nPriority: non-urgent\r\n")
    fixtures("priority_headers", "postfix", "postcat-h-*.txt")


def dsn_seed(kind, smtputf8, ret, headers_only, sender, envid, queue_id, recipients, original,
             size_limit=50000, fuzzed_sender=True):
    p = Provider()
    p.byte(kind).byte(smtputf8).byte(ret).byte(headers_only).integer(size_limit, 3)
    p.byte(fuzzed_sender).byte(0).byte(0)          # sender, reporting MTA, Message-ID choices
    p.byte(0).integer(100_000_000 - 172_800, 4)    # arrival: near now, two days before
    p.integer(86_400, 4)                            # now
    p.byte(len(recipients) - 1)
    if fuzzed_sender:
        p.string(sender)
    p.string(envid).string(queue_id)
    for address, orcpt, notify in recipients:
        p.byte(notify).byte(0).integer(100_000_000 + 86_400, 4)
        p.string(address).string(orcpt).string("customer.example").string(
            "domain_policy customer.example: expire after 3d")
    return p.remaining(original)


def dsn():
    original = ((DATA / "postfix" / "postcat-hb-each.txt").read_text()
                if (DATA / "postfix" / "postcat-hb-each.txt").exists() else
                "From: alice@sender.example\nSubject: hello\n\nbody\n")
    bob = ("bob@customer.example", "rfc822;bob@customer.example", 1 | 8 | 16)
    write("dsn", "failed-plain", dsn_seed(0, 0, 0, 0, "alice@sender.example", "", "3F1C2A7225E",
                                          [bob], original))
    write("dsn", "delayed-ret-hdrs", dsn_seed(1, 0, 2, 0, "alice@sender.example", "abc+def",
                                              "3F1C2A7225E", [bob], original))
    write("dsn", "smtputf8", dsn_seed(0, 1, 1, 0, "jörg@bücher.example", "id-ä",
                                      "4dTL0V6JgVzB1Zq", [("zoë@customer.example",
                                                           "utf-8;zoë@customer.example", 8)],
                                      "From: jörg@bücher.example\r\nSubject: grüße\r\n\r\nbody\r\n"))
    write("dsn", "hostile", dsn_seed(
        0, 0, 0, 1, "evil\r\nBcc: victim@x.example\r\n@sender.example",
        "x\r\nSubject: injected", "ID\r\nX-Injected: 1",
        [("bob@customer.example\r\nBcc: v@x", "rfc822;a\nb", 8),
         ("", "x", 0), ("\"quoted local\"@customer.example", "rfc822 ; c@d", 1 | 2)],
        "Subject: x\n\n--=_ETRN_20261201174100.failed.3F1C2A7225E_mx.example.net_0\n*** ***\n\0",
        size_limit=10))
    write("dsn", "long-values", dsn_seed(1, 1, 0, 0, "a" * 300 + "@" + "b" * 60 + ".example",
                                         "e" * 950, "", [("r" * 1200 + "@customer.example",
                                                          "rfc822;" + "o" * 1000, 16)],
                                         "X-Long: " + "v" * 1200 + "\n\nbody\n"))


def milter_arguments():
    def seed(envid, orcpt, ret_hdrs, notify, mail, rcpts, headers, queue_id):
        p = Provider()
        p.string(envid).string(orcpt).byte(ret_hdrs).byte(notify)
        p.byte(len(mail))
        for arg in mail:
            p.string(arg)
        p.string("auth-user")
        p.byte(len(rcpts))
        for argv, mailer in rcpts:
            p.byte(len(argv))
            for arg in argv:
                p.string(arg)
            p.string(mailer)
        p.byte(len(headers))
        for name, value in headers:
            p.string(name).string(value)
        p.string(queue_id)
        return p.remaining(b"")

    write("milter_arguments", "unit-collector", seed(
        "a+2Bb+20c", "bob@customer.example", 1, 1 | 8 | 16,
        ["<alice@sender.example>", "SIZE=100", "RET=HDRS", "ENVID=a+2Bb+20c", "SMTPUTF8"],
        [(["<bob@customer.example>", "NOTIFY=SUCCESS,DELAY", "ORCPT=rfc822;b+2Bx@y"], "etrn-only"),
         (["<carol@sender.example>"], "virtual"), (["<erin@host.dialup.example>"], "smtp")],
        [("Priority", "urgent"), ("Subject", "hi"), ("Message-ID", "<1@x>")], "3F1C2A7225E"))
    write("milter_arguments", "unit-null-sender", seed(
        "", "x", 0, 1 | 2, ["<>", "ret=full", "envid=x"],
        [(["bob@customer.example", "NOTIFY=NEVER"], ""), (["<b@customer.example>", "ORCPT=rfc822;b+ZZ"], "")],
        [], ""))
    write("milter_arguments", "hostile", seed(
        "\r\n\x00", "a\nb", 0, 0, ["<a\r\nb@sender.example>", "ENVID=+0A+0D"],
        [(["<\x1b[31mred@Customer.Example.>", "NOTIFY=FOO"], "etrn-only\n")],
        [("X-Priority", "1\r\n"), ("Subject", "\x00")], "ID\nforged: line"))


def main():
    postqueue_json()
    postcat()
    postsuper_output()
    sendmail_qf()
    xtext()
    config()
    priority_headers()
    dsn()
    milter_arguments()


if __name__ == "__main__":
    main()
