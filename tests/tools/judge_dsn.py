#!/usr/bin/python3
"""judge_dsn.py - how independent bounce processors read a DSN.

Reads one message (a file path argument, or stdin) and prints one JSON
object with what three parsers written elsewhere make of it:

  permanent, temporary  flufl.bounce (Mailman) all_failures(): addresses
  defects               Python's email package: MIME defects, per part
  content_types         the top-level type and each direct subpart's type
  status_blocks         the delivery-status field blocks (per-message first)
                        as Python's email package reads them, for
                        message/delivery-status and for the RFC 6533
                        message/global-delivery-status that flufl.bounce
                        and Sisimai 4 do not know
  sisimai               Sisimai (Perl): recipient, reason, action and
                        deliverystatus for each bounced recipient

A DSN that these read wrongly is wrong for real bounce processors. Run
with /usr/bin/python3 (Debian's python3-flufl.bounce, libsisimai-perl).
Exit status: 0 when the message was judged, 2 on a usage or I/O error.
"""

import email
import email.policy
import json
import os
import subprocess
import sys
import tempfile

from flufl.bounce import all_failures

SISIMAI_SCRIPT = r"""
use strict;
use warnings;
use Sisimai;
use JSON::PP;
my $list = Sisimai->make($ARGV[0]) // [];
my @out = map {
    {
        recipient      => $_->recipient->address,
        reason         => $_->reason,
        action         => $_->action,
        deliverystatus => $_->deliverystatus,
        diagnosticcode => $_->diagnosticcode,
    }
} @$list;
print JSON::PP->new->canonical->encode(\@out), "\n";
"""


def read_message_bytes(argv):
    if len(argv) > 2:
        raise SystemExit("usage: judge_dsn.py [MESSAGE-FILE]  (stdin when omitted)")
    if len(argv) == 2:
        with open(argv[1], "rb") as handle:
            return handle.read()
    return sys.stdin.buffer.read()


def decode_addresses(addresses):
    return sorted(a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in addresses)


def flufl_verdict(message):
    temporary, permanent = all_failures(message)
    return decode_addresses(permanent), decode_addresses(temporary)


def email_defects(message):
    defects = []
    for part in message.walk():
        for defect in part.defects:
            defects.append("%s: %s" % (type(defect).__name__, defect))
    return defects


def content_types(message):
    types = [message.get_content_type()]
    if message.is_multipart():
        types.extend(part.get_content_type() for part in message.get_payload())
    return types


STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")


def block_fields(block):
    return {name.lower(): " ".join(str(value).split()) for name, value in block.items()}


def status_blocks(message):
    blocks = []
    for part in message.walk():
        if part.get_content_type() not in STATUS_TYPES:
            continue
        payload = part.get_payload()
        if part.get_content_type() == "message/delivery-status" and isinstance(payload, list):
            blocks.extend(block_fields(block) for block in payload)
            continue
        # Python reads message/global-delivery-status as one embedded message
        # (the first block as its header): take its bytes and split them here.
        if isinstance(payload, list):
            raw = b"\n\n".join(block.as_bytes() for block in payload)
        else:
            raw = part.get_payload(decode=True) or b""
        text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
        for chunk in text.split("\n\n"):
            if chunk.strip():
                blocks.append(block_fields(email.message_from_string(chunk + "\n")))
    return blocks


def sisimai_verdict(raw):
    # Sisimai reads a path, so hand it the exact bytes in a private file.
    with tempfile.NamedTemporaryFile(prefix="judge_dsn_", suffix=".eml") as handle:
        handle.write(raw)
        handle.flush()
        result = subprocess.run(["perl", "-e", SISIMAI_SCRIPT, handle.name],
                                capture_output=True, check=False)
    if result.returncode != 0:
        return [{"error": result.stderr.decode("utf-8", "replace").strip()}]
    return json.loads(result.stdout.decode("utf-8") or "[]")


def judge(raw):
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    permanent, temporary = flufl_verdict(message)
    return {
        "permanent": permanent,
        "temporary": temporary,
        "defects": email_defects(message),
        "content_types": content_types(message),
        "status_blocks": status_blocks(message),
        "sisimai": sisimai_verdict(raw),
    }


def main(argv):
    try:
        raw = read_message_bytes(argv)
    except OSError as error:
        print("judge_dsn.py: %s" % error, file=sys.stderr)
        return 2
    print(json.dumps(judge(raw), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
