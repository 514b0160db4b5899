#!/usr/bin/python3
"""check_layers.py - keeps ARCHITECTURE.md's layering true.

Reads every `#include` of the product's C++ sources and fails when a file
includes what its layer may not:

- a folder includes only the folders its layer names (LAYERS below, the
  same table as ARCHITECTURE.md);
- the pure core (PURE) includes no adapter and no header that does I/O;
- a system library's header is included only by its one adapter
  (sqlite3.h, libpq-fe.h: common/store; libmilter: milter/milter_glue).

    check_layers.py SOURCE_DIR      check the tree; exit 1 listing each violation
    check_layers.py --self-test     prove on a made-up tree that each rule fires

Tests, fuzz targets and benchmarks are outside the rule (they may include
anything of the product); bench/ only has to keep to the system-header rule.
"""

from __future__ import annotations

import fnmatch
import re
import sys
import tempfile
from pathlib import Path

# folder -> the other folders it may include (its own is always allowed).
LAYERS: dict[str, tuple[str, ...]] = {
    "common/util": (),
    "common/model": ("common/util",),
    "common/config": ("common/util", "common/model"),
    "common/policy": ("common/util", "common/model", "common/config"),
    "common/dsn": ("common/util", "common/model"),
    "common/log": ("common/util",),
    "common/store": ("common/util", "common/model", "common/config", "common/policy"),
    "common/mta": ("common/util", "common/model", "common/config", "common/policy"),
    "milter": ("common/*",),
    "sweeper": ("common/*",),
    "packaging/tools": ("common/*",),
}

# The pure core: deciding, with data in and data out. It may include only
# these project headers (and its own pure siblings), and no I/O header.
PURE: tuple[str, ...] = (
    "common/util/strings.*", "common/util/xtext.*", "common/util/time_format.*",
    "common/util/printable.*", "common/util/epoch_seconds.hpp", "common/util/result.hpp",
    "common/util/log_line.*",
    "common/model/*", "common/policy/*", "common/dsn/*",
    "milter/message_collector.*",
    "sweeper/planner.*", "sweeper/plan.*", "sweeper/plan_printer.*", "sweeper/quiet_records.*",
    "sweeper/time_spec.*", "sweeper/health.*", "sweeper/action_log.*",
)
PURE_MAY_INCLUDE: tuple[str, ...] = (
    "common/util/strings.hpp", "common/util/xtext.hpp", "common/util/time_format.hpp",
    "common/util/printable.hpp", "common/util/epoch_seconds.hpp", "common/util/result.hpp",
    "common/util/sysexits.hpp", "common/util/log_line.hpp",
    "common/model/*", "common/config/config.hpp", "common/config/config_values.hpp",
    "common/policy/*", "common/dsn/*",
)
IO_HEADERS: tuple[str, ...] = (
    "fstream", "filesystem", "iostream", "unistd.h", "fcntl.h", "sys/*",
    "spdlog/*", "sqlite3.h", "libpq-fe.h", "libmilter/*", "systemd/*", "thread", "mutex",
)

# A system library's header, and the only files that may include it.
OWNERS: dict[str, tuple[str, ...]] = {
    "sqlite3.h": ("common/store/*",),
    "libpq-fe.h": ("common/store/*",),
    "libmilter/*": ("milter/milter_glue.*", "bench/*"),
    "systemd/*": ("milter/service_manager.*",),
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def matches(path: str, patterns) -> bool:
    return any(fnmatch.fnmatch(path, p) for p in patterns)


def folder_of(path: str) -> str | None:
    for folder in sorted(LAYERS, key=len, reverse=True):
        if path.startswith(folder + "/"):
            return folder
    return None


def project_folder(include: str) -> str | None:
    """The layer folder a quoted include names, or None for a system header."""
    folder = folder_of(include)
    if folder is not None:
        return folder
    parts = include.split("/")
    if parts[0] in ("common", "tests", "bench", "packaging") and len(parts) > 1:
        return "/".join(parts[:-1])
    return None


def violations_in(root: Path, path: str) -> list[str]:
    found = []
    folder = folder_of(path)
    pure = matches(path, PURE)
    lines = (root / path).read_text(errors="replace").splitlines()
    for number, line in enumerate(lines, 1):
        m = INCLUDE.match(line)
        if not m:
            continue
        quoted, name = m.group(1) == '"', m.group(2)
        where = f"{path}:{number}: includes {name}"
        system = not quoted or project_folder(name) is None
        if system:
            for header, owners in OWNERS.items():
                if fnmatch.fnmatch(name, header) and not matches(path, owners):
                    found.append(f"{where}, which only {', '.join(owners)} may include")
            if pure and matches(name, IO_HEADERS):
                found.append(f"{where}, an I/O header, in the pure core")
            continue
        target = project_folder(name)
        if folder is not None and target != folder:
            allowed = LAYERS[folder]
            if not (matches(target, allowed) or (target.startswith("common/") and "common/*" in allowed)):
                found.append(f"{where}, but {folder}/ may include only "
                             f"{', '.join(allowed) or 'itself'}")
        if pure and not (matches(name, PURE_MAY_INCLUDE) or matches(name, PURE)):
            found.append(f"{where}, which the pure core may not include")
    return found


def sources(root: Path) -> list[str]:
    out = []
    for top in ("common", "milter", "sweeper", "packaging/tools", "bench"):
        for f in sorted((root / top).rglob("*")):
            if f.suffix in (".cpp", ".hpp", ".h") and f.is_file():
                out.append(f.relative_to(root).as_posix())
    return out


def check(root: Path) -> list[str]:
    found = []
    for path in sources(root):
        found.extend(violations_in(root, path))
    return found


def self_test() -> int:
    """Each rule, on a made-up tree: a clean file passes, each kind of
    violation is reported. Fails (exit 1) if a rule does not fire."""
    cases = {
        "common/util/ok.hpp": ('#include "common/util/strings.hpp"\n#include <string>\n', 0),
        "common/util/up.hpp": ('#include "common/model/message.hpp"\n', 1),
        "common/model/io.hpp": ('#include <fstream>\n', 1),
        "common/store/db.cpp": ('#include <sqlite3.h>\n#include "common/model/x.hpp"\n', 0),
        "common/mta/db.cpp": ('#include <sqlite3.h>\n', 1),
        "common/dsn/adapter.cpp": ('#include "common/mta/mta.hpp"\n', 2),
        "milter/record_writer.cpp": ('#include <sqlite3.h>\n#include "common/store/x.hpp"\n', 1),
        "milter/message_collector.cpp": ('#include "common/store/records.hpp"\n', 1),
        "milter/milter_glue.cpp": ('#include <libmilter/mfapi.h>\n', 0),
        "sweeper/planner.cpp": ('#include "common/mta/mta.hpp"\n#include <spdlog/spdlog.h>\n', 2),
        "sweeper/executor.cpp": ('#include "common/mta/mta.hpp"\n#include <spdlog/spdlog.h>\n', 0),
    }
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for path, (text, _) in cases.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        for path, (_, want) in cases.items():
            got = violations_in(root, path)
            if len(got) != want:
                failures += 1
                print(f"self-test {path}: got {len(got)} violations, want {want}: {got}")
    print("self-test: " + ("every rule fires" if failures == 0 else f"{failures} case(s) wrong"))
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    found = check(Path(argv[1]))
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} include(s) break the layering in ARCHITECTURE.md")
        return 1
    print(f"layering OK ({len(sources(Path(argv[1])))} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
