-- corrupt_database_does_not_stop_mail.lua - the database file is not a
-- SQLite database at all; mail still gets "continue" at end of message at
-- once, the writer logs why it cannot record, and the record it could not
-- write before the stop is logged with its queue ID.
--
-- setup: cp /etc/services $DIR/etrn.db
-- config-milter: record_timeout = 1s
-- expect-log: file is not a database
-- expect-log: 4D4D4D4D4D: NOT recorded: the database did not take it before the milter stopped

local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
assert(conn, "cannot connect to the milter")
assert(mt.negotiate(conn, nil, nil, nil) == nil)
assert(mt.conninfo(conn, "client.example", "192.0.2.7") == nil)
assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
assert(mt.macro(conn, SMFIC_RCPT, "i", "4D4D4D4D4D") == nil)
assert(mt.rcptto(conn, "<bob@customer.example>") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.eom(conn) == nil)
local got = mt.getreply(conn)
assert(got == SMFIR_CONTINUE, "eom: got " .. tostring(got) .. ", want continue")
assert(mt.disconnect(conn) == nil)
