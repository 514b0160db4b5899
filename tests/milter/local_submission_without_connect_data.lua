-- local_submission_without_connect_data.lua - what non_smtpd_milters
-- sends for mail from Postfix's sendmail command: no HELO, no macros but
-- the queue ID, addresses without angle brackets, no {rcpt_mailer}. The
-- ETRN domain is still recognised; a message without any queue ID is
-- accepted and logged, not recorded.
--
-- expect-sql: SELECT queue_id, sender, recipient FROM etrn_audit => 5E5E5E5E5E|root@mx.provider.example|bob@customer.example
-- expect-sql: SELECT coalesce(auth_user, 'NULL'), client_addr FROM messages => NULL|127.0.0.1
-- expect-log: NOQUEUE: NOT recorded, from=<root@mx.provider.example>, size=0, nrcpt=1, to=<carol@customer.example>, priority=normal, no queue ID (macro i)

local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
assert(conn, "cannot connect to the milter")
assert(mt.negotiate(conn, nil, nil, nil) == nil)
assert(mt.conninfo(conn, "localhost", "127.0.0.1") == nil)

assert(mt.mailfrom(conn, "root@mx.provider.example") == nil)
assert(mt.macro(conn, SMFIC_RCPT, "i", "5E5E5E5E5E") == nil)
assert(mt.rcptto(conn, "bob@customer.example") == nil)
assert(mt.rcptto(conn, "someone@elsewhere.example") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.eom(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE, "eom with queue ID: want continue")

-- A second connection that never tells the queue ID.
local other = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
assert(mt.negotiate(other, nil, nil, nil) == nil)
assert(mt.conninfo(other, "localhost", "127.0.0.1") == nil)
assert(mt.mailfrom(other, "root@mx.provider.example") == nil)
assert(mt.rcptto(other, "carol@customer.example") == nil)
assert(mt.eoh(other) == nil)
assert(mt.eom(other) == nil)
assert(mt.getreply(other) == SMFIR_CONTINUE, "eom without queue ID: want continue")
assert(mt.disconnect(other) == nil)
assert(mt.disconnect(conn) == nil)
