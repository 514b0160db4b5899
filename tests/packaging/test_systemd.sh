#!/usr/bin/env bash
# test_systemd.sh - the package's units under a real systemd: a Debian 12
# root with systemd and Postfix, booted with systemd as PID 1 of namespaces
# of its own (unshare: PID, mount, UTS, network), the .deb installed in it.
# Checks what an admin would after `apt install`:
#   - systemd reaches "running" or "degraded", etrn-milter.service is active
#     with READY=1 given (Type=notify: its status line), ordered before
#     postfix@-.service, which is active too;
#   - the socket is in Postfix's chroot, and mail through the chrooted
#     smtpd (smtpd_milters = { unix:/var/spool/postfix/etrn-sweeper/milter.sock,
#     default_action=accept }, as the README says) is recorded;
#   - etrn-sweeper.timer is scheduled; its service sweeps (the run is in the
#     runs table, the journal has the unit finishing) and `etrn-sweeper
#     check` then says OK.
#
#   tests/packaging/test_systemd.sh DEB
#
# Why not systemd-nspawn: it needs the host's systemd as PID 1, and these
# machines (and CI's chroot) have none. Needs root, debootstrap, unshare and
# a Debian mirror (the one this machine's apt uses). Exits 77 (skipped)
# without them.
set -euo pipefail

DEB=$(realpath "${1:?usage: test_systemd.sh DEB}")
SKIP=77
START=$(date +%s)

say() { printf 'test_systemd: %s\n' "$*"; }
fail() {
	say "FAIL: $*" >&2
	exit 1
}
skip() {
	say "skipped: $*"
	exit "$SKIP"
}

[ "$(id -u)" = 0 ] || skip "needs root"
# unshare --mount makes "/" private, which fails where "/" is no mount
# point (a bare chroot directory): say so rather than unshare's EINVAL.
mountpoint -q / || fail "/ is not a mount point (a chroot into a plain directory?): bind-mount the root onto itself first, as .ci/run does"
for tool in debootstrap unshare nsenter chroot; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done

WORK=$(mktemp -d /var/tmp/etrn-systemd-test.XXXXXX)
chmod 755 "$WORK"
ROOT=$WORK/root
PID1=
cleanup() {
	local rc=$?
	# PID 1 of the namespace gone, the kernel ends every process in it, and
	# its mounts (private to it) go with its mount namespace.
	if [ -n "$PID1" ]; then kill -9 "$PID1" 2>/dev/null || true; fi
	sleep 1
	if grep -q " $ROOT" /proc/mounts; then
		umount -R "$ROOT/proc" 2>/dev/null || true
	fi
	if [ "$rc" = 0 ] || [ "$rc" = "$SKIP" ]; then
		rm -rf --one-file-system "$WORK"
	else
		say "left $WORK for inspection"
	fi
	say "took $(($(date +%s) - START))s"
}
trap cleanup EXIT

# Runs a command inside the booted system.
in_root() { nsenter -t "$PID1" -p -m -u -n chroot "$ROOT" "$@"; }

make_root() {
	local mirror
	mirror=$("$(dirname "$0")/../../scripts/debian-mirror")
	say "debootstrap a Debian 12 root with systemd and Postfix ($mirror)"
	debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,postfix \
		bookworm "$ROOT" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
		fail "debootstrap: $(tail -5 "$WORK/debootstrap.log")"
	cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
	cp "$DEB" "$ROOT/tmp/etrn-sweeper.deb"
	say "apt install $(basename "$DEB") in it"
	mount -t proc proc "$ROOT/proc"
	chroot "$ROOT" /bin/sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends /tmp/etrn-sweeper.deb' >"$WORK/install.log" 2>&1 ||
		{ umount "$ROOT/proc"; fail "apt install: $(tail -20 "$WORK/install.log")"; }
	umount "$ROOT/proc"
}

# Postfix as Debian installs it (smtpd chrooted), plus an ETRN-only domain
# whose mail stays deferred, and the milter as the README says.
configure() {
	cat >>"$ROOT/etc/postfix/main.cf" <<-'EOF'
		# test_systemd.sh
		myhostname = mx.test.example
		mydestination = localhost
		inet_interfaces = loopback-only
		relay_domains = customer.example
		transport_maps = inline:{ customer.example=etrn-only: }
		defer_transports = etrn-only
		smtpd_milters = { unix:/var/spool/postfix/etrn-sweeper/milter.sock, default_action=accept }
		non_smtpd_milters = { unix:/var/spool/postfix/etrn-sweeper/milter.sock, default_action=accept }
	EOF
	printf 'etrn-only unix - - y - - smtp\n' >>"$ROOT/etc/postfix/master.cf"
	sed -i 's/^#\{0,1\}etrn_domains =.*/etrn_domains = customer.example/' \
		"$ROOT/etc/etrn-sweeper/etrn-sweeper.conf"
	grep -q '^etrn_domains = customer.example$' "$ROOT/etc/etrn-sweeper/etrn-sweeper.conf" ||
		fail "could not set etrn_domains in the installed configuration"
}

# The root must be a mount point for systemd to build its units' mount
# namespaces (ProtectSystem= and friends): bind it onto itself first.
boot() {
	say "boot systemd as PID 1 of new namespaces"
	unshare --fork --pid --mount --uts --net --propagation private sh -c \
		"mount --bind '$ROOT' '$ROOT' && mount -t proc proc '$ROOT/proc' &&
		 exec chroot '$ROOT' /usr/bin/env container=etrn-test /lib/systemd/systemd --system" \
		>"$WORK/systemd.log" 2>&1 &
	local unshare_pid=$! state=
	for _ in $(seq 100); do
		PID1=$(pgrep -P "$unshare_pid" || true)
		[ -n "$PID1" ] && break
		sleep 0.1
	done
	[ -n "$PID1" ] || fail "systemd did not start: $(cat "$WORK/systemd.log")"
	for _ in $(seq 120); do
		state=$(in_root systemctl is-system-running 2>/dev/null || true)
		case "$state" in running | degraded) break ;; esac
		sleep 0.5
	done
	case "$state" in running | degraded) ;; *) fail "systemd is '$state', not running" ;; esac
	say "systemd is $state"
}

# One SMTP transaction with bash's /dev/tcp, inside the booted system's
# network namespace; prints the server's replies.
smtp_send() {
	in_root /bin/bash -c '
		exec 3<>/dev/tcp/127.0.0.1/25
		say() { printf "%s\r\n" "$1" >&3; }
		reply() { local line; while read -r -t 10 line <&3; do echo "$line"; [ "${line:3:1}" = " " ] && return; done; }
		reply
		say "EHLO client.example"; reply
		say "MAIL FROM:<alice@sender.example>"; reply
		say "RCPT TO:<bob@customer.example>"; reply
		say "DATA"; reply
		printf "Subject: under systemd\r\n\r\nhello\r\n.\r\n" >&3; reply
		say "QUIT"; reply'
}

check_units() {
	expect_active etrn-milter.service
	expect_active postfix@-.service
	local status
	status=$(in_root systemctl show -p StatusText --value etrn-milter.service)
	case "$status" in "listening on unix:/var/spool/postfix/etrn-sweeper/milter.sock") ;;
	*) fail "etrn-milter.service status is '$status' (no READY=1 from sd_notify?)" ;; esac
	in_root systemctl show -p Before --value etrn-milter.service | grep -qw 'postfix@-.service' ||
		fail "etrn-milter.service is not ordered before postfix@-.service"
	in_root test -S /var/spool/postfix/etrn-sweeper/milter.sock || fail "no socket in Postfix's chroot"
	expect_active etrn-sweeper.timer
	local next
	next=$(in_root systemctl show -p NextElapseUSecRealtime --value etrn-sweeper.timer)
	[ -n "$next" ] && [ "$next" != 0 ] || fail "etrn-sweeper.timer has no next run"
	say "units active; milter says '$status'; timer next at $next"
}

expect_active() {
	local state
	state=$(in_root systemctl is-active "$1" || true)
	[ "$state" = active ] || fail "$1 is '$state': $(in_root systemctl --no-pager status "$1" 2>&1 | tail -15)"
}

check_mail_is_recorded() {
	local replies
	replies=$(smtp_send) || fail "SMTP to the booted Postfix failed: $replies"
	printf '%s\n' "$replies" | grep -q '^250 .*queued as' || fail "Postfix did not queue the mail: $replies"
	for _ in $(seq 50); do
		in_root etrn-sweeper report 2>/dev/null | grep -q 'bob@customer.example' && break
		sleep 0.2
	done
	in_root etrn-sweeper report | grep -q 'bob@customer.example' ||
		fail "the milter did not record the mail: $(in_root journalctl --no-pager -u etrn-milter | tail -10)"
	say "mail through the chrooted smtpd recorded"
}

check_the_timers_sweep() {
	in_root systemctl start etrn-sweeper.service || fail "etrn-sweeper.service failed: $(in_root journalctl --no-pager -u etrn-sweeper.service | tail -10)"
	in_root journalctl --no-pager -u etrn-sweeper.service | grep -q 'Finished etrn-sweeper.service' ||
		fail "the journal has no finished sweep"
	local line rc=0
	line=$(in_root etrn-sweeper check) || rc=$?
	[ "$rc" = 0 ] || fail "etrn-sweeper check exits $rc: $line"
	case "$line" in "ETRN-SWEEPER OK - "*"milter answers on unix:/var/spool/postfix/etrn-sweeper/milter.sock"*) ;;
	*) fail "etrn-sweeper check says: $line" ;; esac
	say "the timer's service swept; check: ${line%% |*}"
}

# The DSN goes through Postfix's sendmail -bs, which runs as the sweeper's
# child outside smtpd's chroot: the milter's socket path must work there
# too (no "Milter service" warning from any Postfix program).
check_an_expiry_through_sendmail_bs() {
	local out
	out=$(in_root etrn-sweeper sweep --now +49h --future-now 2>&1) || fail "sweep --now +49h --future-now: $out"
	in_root etrn-sweeper report --state expired | grep -q 'bob@customer.example' ||
		fail "bob@customer.example did not expire: $(in_root etrn-sweeper report)"
	local warnings
	warnings=$(in_root journalctl --no-pager -t postfix/smtpd -t postfix/cleanup -t postfix/sendmail \
		-t postfix/pickup | grep -i 'milter' || true)
	[ -z "$warnings" ] || fail "Postfix could not reach the milter:\n$warnings"
	say "expired with a DSN through sendmail -bs; no Postfix program missed the milter"
}

make_root
configure
boot
check_units
check_mail_is_recorded
check_the_timers_sweep
check_an_expiry_through_sendmail_bs
say "PASS"
