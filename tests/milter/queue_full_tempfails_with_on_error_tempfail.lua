-- queue_full_tempfails_with_on_error_tempfail.lua - as
-- queue_full_accepts_with_on_error_accept.lua, with on_error = tempfail:
-- the record that finds the queue full is tempfailed (the MTA keeps the
-- message with its client, who sends it again), and logged.
--
-- env: ETRN_MILTER_TEST_QUEUE_CAPACITY=1
-- config: database = $DIR/later/etrn.db
-- config-milter: on_error = tempfail
-- expect-log: 4D4D4D4D4D: NOT recorded, tempfailing (on_error = tempfail): the record queue is full (1 not recorded since start)
-- expect-sql: SELECT queue_id FROM messages => 3C3C3C3C3C

local function send(conn, queue_id)
  assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
  assert(mt.macro(conn, SMFIC_RCPT, "i", queue_id) == nil)
  assert(mt.rcptto(conn, "<bob@customer.example>") == nil)
  assert(mt.eoh(conn) == nil)
  assert(mt.eom(conn) == nil)
  return mt.getreply(conn)
end

local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
assert(conn, "cannot connect to the milter")
assert(mt.negotiate(conn, nil, nil, nil) == nil)
assert(mt.conninfo(conn, "client.example", "192.0.2.7") == nil)
local got = send(conn, "3C3C3C3C3C")
assert(got == SMFIR_CONTINUE, "first eom: got " .. tostring(got) .. ", want continue")
got = send(conn, "4D4D4D4D4D")
assert(got == SMFIR_TEMPFAIL, "eom with the queue full: got " .. tostring(got) .. ", want tempfail")
assert(os.execute("mkdir " .. os.getenv("ETRN_TEST_DIR") .. "/later"), "mkdir failed")
assert(mt.disconnect(conn) == nil)
