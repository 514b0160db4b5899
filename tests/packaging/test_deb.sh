#!/usr/bin/env bash
# test_deb.sh - the Debian package, end to end, as an admin would meet it:
# build it with dpkg-buildpackage from a clean copy of the source, lintian
# (no errors), dpkg -i, the installed files, user, directories and man
# pages, --check-config on the installed configuration, the milter started
# as the systemd unit would start it (socket in Postfix's chroot, reachable
# by group postfix), the cron entry's privilege set-up, the Postfix
# end-to-end scenario (record, expire, DSN delivered) with the installed
# binaries, then dpkg -r (keeps state) and dpkg --purge (leaves nothing).
#
#   tests/packaging/test_deb.sh SOURCE_DIR
#
# Needs root and the packaging tools (scripts/install-deps). Exits 77
# (skipped) when they are missing or when etrn-sweeper is already installed
# on this machine: the test must not take over an admin's installation.
# It is a CTest test with LABELS package (ctest -LE package skips it).
# ETRN_DEB_DIR=DIR reuses the .deb and .changes a previous run built there.
set -euo pipefail

SOURCE_DIR=$(cd "${1:?usage: test_deb.sh SOURCE_DIR}" && pwd)
PKG=etrn-sweeper
CONF=/etc/etrn-sweeper/etrn-sweeper.conf
STATE_DIR=/var/lib/etrn-sweeper
SOCKET_DIR=/var/spool/postfix/etrn-sweeper
# The same directory as smtpd sees the full path from inside its chroot.
SOCKET_LINK=/var/spool/postfix/var/spool/postfix/etrn-sweeper
SKIP=77
START=$(date +%s)

say() { printf 'test_deb: %s\n' "$*"; }
fail() {
	printf 'test_deb: FAIL: %s\n' "$*" >&2
	exit 1
}
# Under scripts/test (ETRN_TESTS_NO_SKIP=1) install-deps has installed every
# tool, so a missing one is a broken install step: fail rather than skip.
skip() {
	[ "${ETRN_TESTS_NO_SKIP:-}" = 1 ] && fail "cannot run: $*"
	say "SKIP: $*"
	exit "$SKIP"
}
# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }
expect_file() { [ -e "$1" ] || fail "$1 is missing after install"; }
expect_gone() { [ ! -e "$1" ] && [ ! -L "$1" ] || fail "$1 is still there after $2"; }
installed() { dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'install ok installed'; }
known_after_purge() { dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -qv 'not-installed'; }

check_preconditions() {
	[ "$(id -u)" = 0 ] || skip "needs root (dpkg -i)"
	for tool in dpkg-buildpackage dh lintian help2man; do
		command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/install-deps)"
	done
	installed && skip "$PKG is already installed here; not touching it"
	return 0
}

WORK=$(mktemp -d /tmp/etrn-deb-test.XXXXXX)
MILTER_PID=
cleanup() {
	local rc=$?
	if [ -n "$MILTER_PID" ]; then kill "$MILTER_PID" 2>/dev/null || true; fi
	if known_after_purge; then dpkg --purge "$PKG" >/dev/null 2>&1 || true; fi
	if [ "$rc" = 0 ] || [ "$rc" = "$SKIP" ]; then
		rm -rf "$WORK"
	else
		say "left $WORK (build log, lintian output) for inspection"
	fi
	say "took $(($(date +%s) - START))s"
}

# The source as a checkout has it: tracked and new files, not build trees.
copy_source() {
	mkdir -p "$WORK/src"
	if git -C "$SOURCE_DIR" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$SOURCE_DIR" && git ls-files -z --cached --others --exclude-standard |
			xargs -0 tar -cf - --no-recursion) | tar -C "$WORK/src" -xf -
	else
		tar -C "$SOURCE_DIR" --exclude='./build*' --exclude='./obj-*' --exclude=./.git -cf - . |
			tar -C "$WORK/src" -xf -
	fi
	[ -L "$WORK/src/debian" ] || ln -s packaging/debian "$WORK/src/debian"
}

build_package() {
	if [ -n "${ETRN_DEB_DIR:-}" ]; then
		DEB=$(ls "$ETRN_DEB_DIR"/${PKG}_*.deb)
		CHANGES=$(ls "$ETRN_DEB_DIR"/${PKG}_*.changes)
		say "using the package built before: $DEB"
		return 0
	fi
	say "dpkg-buildpackage -us -uc -b (log: $WORK/build.log)"
	if ! (cd "$WORK/src" && DEB_BUILD_OPTIONS="parallel=$(nproc) nocheck" \
		dpkg-buildpackage -us -uc -b >"$WORK/build.log" 2>&1); then
		tail -40 "$WORK/build.log" >&2
		fail "dpkg-buildpackage failed"
	fi
	DEB=$(ls "$WORK"/${PKG}_*.deb)
	CHANGES=$(ls "$WORK"/${PKG}_*.changes)
}

run_lintian() {
	lintian --fail-on error "$CHANGES" >"$WORK/lintian.txt" 2>&1 || {
		cat "$WORK/lintian.txt" >&2
		fail "lintian reports errors"
	}
	say "lintian: $(grep -c '^E:' "$WORK/lintian.txt" || true) errors," \
		"$(grep -c '^W:' "$WORK/lintian.txt" || true) warnings"
}

check_installed_files() {
	for f in /usr/sbin/etrn-milter /usr/sbin/etrn-sweeper "$CONF" /etc/cron.d/etrn-sweeper \
		/lib/systemd/system/etrn-milter.service /lib/systemd/system/etrn-sweeper.service \
		/lib/systemd/system/etrn-sweeper.timer /usr/share/man/man8/etrn-milter.8.gz \
		/usr/share/man/man8/etrn-sweeper.8.gz /usr/share/man/man5/etrn-sweeper.conf.5.gz \
		/usr/share/doc/etrn-sweeper/examples/etrn-roles.sql; do
		expect_file "$f"
	done
	dpkg-query -W -f='${Conffiles}\n' "$PKG" | grep -q " $CONF " || fail "$CONF is not a conffile"
	getent passwd etrn-sweeper >/dev/null || fail "no user etrn-sweeper"
	getent group etrn-sweeper >/dev/null || fail "no group etrn-sweeper"
	expect_eq "$STATE_DIR owner and mode" "$(stat -c '%U:%G %a' "$STATE_DIR")" "etrn-sweeper:etrn-sweeper 750"
	if getent group postfix >/dev/null; then
		expect_eq "$SOCKET_DIR owner and mode" "$(stat -c '%U:%G %a' "$SOCKET_DIR")" "etrn-sweeper:postfix 2750"
		expect_eq "$SOCKET_LINK" "$(readlink "$SOCKET_LINK")" "/etrn-sweeper"
	fi
	for page in etrn-milter.8 etrn-sweeper.8 etrn-sweeper.conf.5; do
		man -l "/usr/share/man/man${page##*.}/$page.gz" 2>/dev/null | grep -q 'SEE ALSO' ||
			fail "man page $page does not render"
	done
	# The conffile shows every key of the key table, as the man page does.
	for key in database etrn_domains expire_after warn_after socket on_error mta reporting_mta; do
		grep -Eq "^#?$key =" "$CONF" || fail "$CONF does not show the key $key"
	done
	grep -q '^socket = unix:/var/spool/postfix/etrn-sweeper/milter.sock$' "$CONF" ||
		fail "$CONF: the milter socket is not inside Postfix's chroot"
}

check_config_commands() {
	expect_eq "etrn-milter --check-config" "$(/usr/sbin/etrn-milter -c "$CONF" --check-config 2>&1)" "configuration OK"
	local out
	out=$(/usr/sbin/etrn-sweeper -c "$CONF" check-config 2>&1) || fail "etrn-sweeper check-config: $out"
	echo "$out" | grep -q 'configuration OK' || fail "etrn-sweeper check-config: got '$out'"
}

# As etrn-milter.service starts it: user etrn-sweeper, umask 0007, the
# installed configuration. smtpd (user postfix) must be able to connect.
check_milter_as_the_unit_runs_it() {
	getent group postfix >/dev/null || return 0
	(umask 0007 && exec setpriv --reuid=etrn-sweeper --regid=etrn-sweeper --init-groups \
		/usr/sbin/etrn-milter -c "$CONF" --foreground) >"$WORK/milter.log" 2>&1 &
	MILTER_PID=$!
	local socket=$SOCKET_DIR/milter.sock
	for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.1; done
	[ -S "$socket" ] || fail "the milter made no socket $socket: $(cat "$WORK/milter.log")"
	expect_eq "socket owner and mode" "$(stat -c '%U:%G %a' "$socket")" "etrn-sweeper:postfix 660"
	setpriv --reuid=postfix --regid=postfix --init-groups /usr/bin/python3 -c \
		"import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])" "$socket" ||
		fail "user postfix cannot connect to $socket"
	kill "$MILTER_PID"
	wait "$MILTER_PID" || fail "etrn-milter exited $? on SIGTERM, want 0: $(cat "$WORK/milter.log")"
	MILTER_PID=
}

# Postfix installed after the package: the unit's root ExecStartPre makes
# the socket directory in its spool as postinst would have.
check_unit_makes_the_socket_dir() {
	getent group postfix >/dev/null || return 0
	local unit=/lib/systemd/system/etrn-milter.service command
	grep -q '^Type=notify$' "$unit" || fail "$unit is not Type=notify"
	grep -q '^Before=.*postfix@-.service' "$unit" || fail "$unit is not ordered before postfix@-.service"
	command=$(sed -n 's/^ExecStartPre=+//p' "$unit")
	[ -n "$command" ] || fail "$unit has no root ExecStartPre"
	rm -rf "$SOCKET_DIR" "$SOCKET_LINK"
	eval "$command" || fail "the unit's ExecStartPre failed: $command"
	expect_eq "$SOCKET_DIR made by the unit" "$(stat -c '%U:%G %a' "$SOCKET_DIR")" "etrn-sweeper:postfix 2750"
	expect_eq "$SOCKET_LINK made by the unit" "$(readlink "$SOCKET_LINK")" "/etrn-sweeper"
}

# The cron entry's command, with "report" for "sweep" so that it does not
# act on this machine's real queue: runs as root with group etrn-sweeper.
check_cron_entry() {
	local line command
	line=$(grep -E '^\*/15 \* \* \* \*[[:space:]]+root[[:space:]]' /etc/cron.d/etrn-sweeper) ||
		fail "no every-15-minutes root line in /etc/cron.d/etrn-sweeper"
	command=$(printf '%s\n' "$line" | sed -E 's/^([^[:space:]]+[[:space:]]+){6}//')
	case "$command" in "[ -d /run/systemd/system ] || "*) ;; *) fail "cron entry does not skip under systemd: $command" ;; esac
	sh -c "${command/ sweep;/ report;}" >"$WORK/cron.out" 2>&1 || fail "the cron command fails: $(cat "$WORK/cron.out")"
}

run_end_to_end() {
	say "end-to-end with the installed binaries (ETRN_BIN_DIR=/usr/sbin)"
	(cd "$SOURCE_DIR/tests/integration" && ETRN_BIN_DIR=/usr/sbin ETRN_SOURCE_DIR="$SOURCE_DIR" \
		/usr/bin/python3 -m pytest -q -p no:cacheprovider \
		test_sweeper_postfix.py -k 'two_recipients_expire') ||
		fail "the Postfix end-to-end scenario failed with the installed binaries"
}

check_remove_keeps_state() {
	dpkg -r "$PKG" >"$WORK/remove.log" 2>&1 || fail "dpkg -r: $(cat "$WORK/remove.log")"
	expect_gone /usr/sbin/etrn-milter "dpkg -r"
	[ -f "$CONF" ] || fail "dpkg -r removed $CONF, want it kept"
	[ -d "$STATE_DIR" ] || fail "dpkg -r removed $STATE_DIR, want it kept"
	getent passwd etrn-sweeper >/dev/null || fail "dpkg -r removed the user, want it kept"
	# The cron entry stays (a conffile) and must stay silent without the program.
	local line command out
	line=$(grep -E '^\*/15 ' /etc/cron.d/etrn-sweeper) || fail "dpkg -r removed the cron entry"
	command=$(printf '%s\n' "$line" | sed -E 's/^([^[:space:]]+[[:space:]]+){6}//')
	command=${command/\[ -d \/run\/systemd\/system \] || /}
	out=$(sh -c "$command" 2>&1) || fail "the cron entry fails after dpkg -r: $out"
	[ -z "$out" ] || fail "the cron entry prints after dpkg -r (cron would mail it): $out"
}

check_purge_leaves_nothing() {
	dpkg --purge "$PKG" >"$WORK/purge.log" 2>&1 || fail "dpkg --purge: $(cat "$WORK/purge.log")"
	while read -r path; do
		# Shared directories (/usr/sbin, /lib, /etc) stay; our own must go.
		case "$path" in *etrn*) ;; *) [ -d "$path" ] && continue ;; esac
		expect_gone "$path" "purge"
	done <"$WORK/files.txt"
	for path in /etc/etrn-sweeper "$STATE_DIR" "$SOCKET_DIR" "$SOCKET_LINK" /run/etrn-sweeper; do
		expect_gone "$path" "purge"
	done
	# Locked, not deleted (Debian practice: its UID is not reused).
	getent passwd etrn-sweeper >/dev/null || fail "purge deleted user etrn-sweeper, want it locked"
	passwd -S etrn-sweeper | grep -q ' L ' || fail "user etrn-sweeper is not locked after purge: $(passwd -S etrn-sweeper)"
	[ "$(getent shadow etrn-sweeper | cut -d: -f8)" = 1 ] || fail "user etrn-sweeper does not expire after purge"
	local leftovers
	leftovers=$(find /etc/systemd /var/lib/systemd -name '*etrn*' 2>/dev/null || true)
	[ -z "$leftovers" ] || fail "systemd state left after purge: $leftovers"
	known_after_purge && fail "dpkg still knows $PKG after purge"
	return 0
}

main() {
	check_preconditions
	trap cleanup EXIT
	copy_source
	build_package
	run_lintian
	say "dpkg -i $(basename "$DEB")"
	dpkg -i "$DEB" >"$WORK/install.log" 2>&1 || fail "dpkg -i: $(cat "$WORK/install.log")"
	dpkg -L "$PKG" >"$WORK/files.txt"
	check_installed_files
	check_config_commands
	check_milter_as_the_unit_runs_it
	check_unit_makes_the_socket_dir
	check_cron_entry
	run_end_to_end
	check_remove_keeps_state
	check_purge_leaves_nothing
	say "PASS"
}

main
