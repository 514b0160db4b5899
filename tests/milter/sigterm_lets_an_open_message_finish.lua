-- sigterm_lets_an_open_message_finish.lua - SIGTERM arrives while a
-- message is in the middle of its transaction: the milter stops accepting
-- connections but lets the open one finish, records its message, and only
-- then exits (0, checked by the runner).
--
-- expect-sql: SELECT queue_id, recipient FROM etrn_audit => TERM000001|bob@customer.example
-- expect-log: SIGTERM: stopping
-- expect-log: TERM000001: recorded
-- expect-no-log: stopping anyway
-- expect-no-log: still in progress

local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
assert(conn, "cannot connect to the milter")
assert(mt.negotiate(conn, nil, nil, nil) == nil)
assert(mt.conninfo(conn, "client.example", "192.0.2.7") == nil)
assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
assert(mt.macro(conn, SMFIC_RCPT, "i", "TERM000001") == nil)
assert(mt.rcptto(conn, "<bob@customer.example>") == nil)
-- MAIL and RCPT get no reply (SMFIP_NR_*): the milter may not have read
-- them yet. DATA is answered, so after its reply the message is open in
-- the milter for sure when SIGTERM arrives (under load the signal could
-- otherwise come first, and an idle milter rightly exits at once).
assert(mt.data(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE, "DATA: want continue")

assert(os.execute("kill -TERM " .. os.getenv("MILTER_PID")), "kill -TERM failed")
mt.sleep(0.5)

assert(mt.header(conn, "Subject", "in flight") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.eom(conn) == nil)
local got = mt.getreply(conn)
assert(got == SMFIR_CONTINUE, "eom after SIGTERM: got " .. tostring(got) .. ", want continue")
assert(mt.disconnect(conn) == nil)
