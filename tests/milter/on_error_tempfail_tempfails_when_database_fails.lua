-- on_error_tempfail_tempfails_when_database_fails.lua - the database's
-- directory does not exist; with on_error = tempfail the milter answers
-- end of message with tempfail (the MTA keeps the message with the
-- client), logs why, and mail without ETRN recipients is not affected.
--
-- config: database = $DIR/missing/etrn.db
-- config-milter: on_error = tempfail
-- expect-log: 6F6F6F6F6F: NOT recorded, tempfailing
-- expect-log: cannot open database

local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
assert(conn, "cannot connect to the milter")
assert(mt.negotiate(conn, nil, nil, nil) == nil)
assert(mt.conninfo(conn, "client.example", "192.0.2.7") == nil)
assert(mt.helo(conn, "client.example") == nil)

assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
assert(mt.macro(conn, SMFIC_RCPT, "i", "6F6F6F6F6F") == nil)
assert(mt.rcptto(conn, "<bob@customer.example>") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.eom(conn) == nil)
local got = mt.getreply(conn)
assert(got == SMFIR_TEMPFAIL, "eom: got " .. tostring(got) .. ", want tempfail")

assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
assert(mt.macro(conn, SMFIC_RCPT, "i", "7A7A7A7A7A", "{rcpt_mailer}", "virtual") == nil)
assert(mt.rcptto(conn, "<erin@sender.example>") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.eom(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE, "non-ETRN mail must not be tempfailed")
assert(mt.disconnect(conn) == nil)
