#!/usr/bin/env bash
# test_cmake_install.sh - `cmake --install` for sites that build from
# source: into a DESTDIR, every file lands where GNUInstallDirs says, the
# installed configuration passes check-config, and a second install keeps
# an edited configuration (the new defaults go to etrn-sweeper.conf.dist).
#
#   tests/packaging/test_cmake_install.sh BUILD_DIR
set -euo pipefail

BUILD_DIR=$(cd "${1:?usage: test_cmake_install.sh BUILD_DIR}" && pwd)
DEST=$(mktemp -d /tmp/etrn-cmake-install.XXXXXX)
trap 'rm -rf "$DEST"' EXIT

fail() {
	printf 'test_cmake_install: FAIL: %s\n' "$*" >&2
	exit 1
}
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD_DIR/CMakeCache.txt"; }

PREFIX=$(cache CMAKE_INSTALL_PREFIX)
SBIN=$PREFIX/sbin # GNUInstallDirs defaults
MAN=$PREFIX/share/man
case "$PREFIX" in /usr) ETC=/etc ;; *) ETC=$PREFIX/etc ;; esac
CONF=$DEST$ETC/etrn-sweeper/etrn-sweeper.conf

DESTDIR=$DEST cmake --install "$BUILD_DIR" >"$DEST.log" 2>&1 || fail "cmake --install: $(cat "$DEST.log")"
rm -f "$DEST.log"
for f in "$SBIN/etrn-milter" "$SBIN/etrn-sweeper" "$MAN/man5/etrn-sweeper.conf.5" \
	"$ETC/cron.d/etrn-sweeper" "$PREFIX/lib/tmpfiles.d/etrn-sweeper.conf" \
	"$PREFIX/lib/sysusers.d/etrn-sweeper.conf" "$PREFIX/lib/etrn-sweeper/postfix-socket-dir"; do
	[ -e "$DEST$f" ] || fail "$f was not installed"
done
ls "$DEST"/"$PREFIX"/lib/systemd/system/etrn-milter.service >/dev/null 2>&1 ||
	ls "$DEST"/lib/systemd/system/etrn-milter.service >/dev/null 2>&1 || fail "etrn-milter.service was not installed"
grep -q "ExecStart=$SBIN/etrn-milter -c $ETC/etrn-sweeper/etrn-sweeper.conf --foreground" \
	"$DEST"/{"$PREFIX"/,}lib/systemd/system/etrn-milter.service 2>/dev/null ||
	fail "etrn-milter.service does not run $SBIN/etrn-milter with $ETC/etrn-sweeper/etrn-sweeper.conf"
# The templates for Postfix instances: each reads its own NAME.conf.
for unit in etrn-milter@.service etrn-sweeper@.service etrn-sweeper@.timer; do
	file=$(ls "$DEST"/{"$PREFIX"/,}lib/systemd/system/"$unit" 2>/dev/null | head -1 || true)
	[ -n "$file" ] || fail "$unit was not installed"
	case $unit in *.timer) continue ;; esac
	grep -q -- "-c $ETC/etrn-sweeper/%i.conf" "$file" || fail "$unit does not read $ETC/etrn-sweeper/%i.conf"
done
grep -q '^Before=postfix@%i.service$' "$DEST"/{"$PREFIX"/,}lib/systemd/system/etrn-milter@.service 2>/dev/null ||
	fail "etrn-milter@.service is not ordered before its Postfix instance"
out=$("$DEST$SBIN/etrn-sweeper" -c "$CONF" check-config 2>&1) || fail "check-config on the installed file: $out"

echo "expire_after = 5d" >>"$CONF"
DESTDIR=$DEST cmake --install "$BUILD_DIR" >/dev/null 2>&1 || fail "second cmake --install failed"
grep -q '^expire_after = 5d$' "$CONF" || fail "a second install overwrote the edited $CONF"
[ -f "$CONF.dist" ] || fail "a second install did not leave the new defaults in $CONF.dist"
echo "test_cmake_install: PASS"
