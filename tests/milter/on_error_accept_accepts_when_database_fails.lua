-- on_error_accept_accepts_when_database_fails.lua - the database's
-- directory is missing; with the default on_error = accept the milter
-- answers continue at end of message and logs that the message was not
-- recorded. Once the directory appears, the next message is recorded
-- without a restart (the writer retries opening the database).
--
-- config: database = $DIR/later/etrn.db
-- expect-log: 8B8B8B8B8B: NOT recorded, accepting (on_error = accept)
-- expect-log: recorded 9C9C9C9C9C
-- expect-sql: SELECT queue_id, recipient FROM etrn_audit => 9C9C9C9C9C|carol@customer.example

local function send(conn, queue_id, rcpt)
  assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
  assert(mt.macro(conn, SMFIC_RCPT, "i", queue_id) == nil)
  assert(mt.rcptto(conn, rcpt) == nil)
  assert(mt.eoh(conn) == nil)
  assert(mt.eom(conn) == nil)
  return mt.getreply(conn)
end

local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
assert(conn, "cannot connect to the milter")
assert(mt.negotiate(conn, nil, nil, nil) == nil)
assert(mt.conninfo(conn, "client.example", "192.0.2.7") == nil)
local got = send(conn, "8B8B8B8B8B", "<bob@customer.example>")
assert(got == SMFIR_CONTINUE, "eom without a database: got " .. tostring(got) .. ", want continue")

assert(os.execute("mkdir " .. os.getenv("ETRN_TEST_DIR") .. "/later"), "mkdir failed")
got = send(conn, "9C9C9C9C9C", "<carol@customer.example>")
assert(got == SMFIR_CONTINUE, "eom with the database back: got " .. tostring(got) .. ", want continue")
assert(mt.disconnect(conn) == nil)
