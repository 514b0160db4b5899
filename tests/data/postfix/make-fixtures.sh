#!/bin/sh
# make-fixtures.sh - re-creates the captured postcat/postqueue fixtures from
# a private real Postfix instance (Debian 12, run as root). Usage:
#   make-fixtures.sh WORKDIR   (WORKDIR is created; the instance is left
#                               running so more captures can be taken; stop it
#                               with `postfix -c WORKDIR/etc stop`)
set -eu
W=$1
PORT=${PORT:-25825}
mkdir -p "$W/etc" "$W/spool" "$W/data"
chown postfix "$W/data"
cp /etc/postfix/master.cf "$W/etc/master.cf" 2>/dev/null || cp /usr/share/postfix/master.cf.dist "$W/etc/master.cf"
cat > "$W/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $W/spool
data_directory = $W/data
maillog_file = $W/maillog
maillog_file_prefixes = $W
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.provider.example
mydestination =
relay_domains = customer.example
transport_maps = texthash:$W/etc/transport
defer_transports = etrn-only
smtputf8_enable = yes
enable_long_queue_ids = ${LONG_IDS:-no}
queue_run_delay = 3600s
CF
echo "customer.example etrn-only:[127.0.0.1]:25826" > "$W/etc/transport"
sed -i 's/^smtp \{1,\}inet.*/127.0.0.1:'"$PORT"' inet n - n - - smtpd/' "$W/etc/master.cf"
echo "etrn-only unix - - n - - smtp" >> "$W/etc/master.cf"
postconf -c "$W/etc" -F '*/*/chroot = n'
postfix -c "$W/etc" check
script -qc "postfix -c $W/etc start" /dev/null
