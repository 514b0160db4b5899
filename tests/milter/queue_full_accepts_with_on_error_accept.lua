-- queue_full_accepts_with_on_error_accept.lua - the record queue holds one
-- record (a test hook) and the database cannot be opened (its directory is
-- missing), so the first record waits and the second finds the queue
-- full: with on_error = accept it is answered continue at once and logged
-- as not recorded, with the count. The first is written once the
-- directory appears.
--
-- env: ETRN_MILTER_TEST_QUEUE_CAPACITY=1
-- config: database = $DIR/later/etrn.db
-- expect-log: 2B2B2B2B2B: NOT recorded, accepting (on_error = accept): the record queue is full (1 not recorded since start)
-- expect-sql: SELECT queue_id FROM messages => 1A1A1A1A1A
-- expect-log: etrn-milter stopped: 1 recorded, 1 not recorded, 0 lost at the stop

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
local got = send(conn, "1A1A1A1A1A")
assert(got == SMFIR_CONTINUE, "first eom: got " .. tostring(got) .. ", want continue")
got = send(conn, "2B2B2B2B2B")
assert(got == SMFIR_CONTINUE, "eom with the queue full: got " .. tostring(got) .. ", want continue")
assert(os.execute("mkdir " .. os.getenv("ETRN_TEST_DIR") .. "/later"), "mkdir failed")
assert(mt.disconnect(conn) == nil)
