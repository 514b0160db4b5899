-- on_error_accept_accepts_when_database_fails.lua - the database's
-- directory is missing: end of message still answers continue at once
-- (the record waits in memory, the writer logs why it cannot write it).
-- Once the directory appears, the writer opens the database without a
-- restart and writes the waiting record and the next one. After
-- record_timeout without a commit, a message goes unrecorded per on_error
-- (accept): continue, logged with its queue ID.
--
-- config: database = $DIR/later/etrn.db
-- config-milter: record_timeout = 1s
-- expect-log: cannot record 1 message(s) yet (retrying)
-- expect-log: 7A7A7A7A7A: NOT recorded, accepting (on_error = accept): the database has not taken records for longer than record_timeout
-- expect-log: the database takes records again
-- expect-log: 9C9C9C9C9C: recorded
-- expect-sql: SELECT queue_id, recipient FROM etrn_audit ORDER BY queue_id => 8B8B8B8B8B|bob@customer.example;9C9C9C9C9C|carol@customer.example

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
mt.sleep(1.5)
got = send(conn, "7A7A7A7A7A", "<dave@customer.example>")
assert(got == SMFIR_CONTINUE, "eom past record_timeout: got " .. tostring(got) .. ", want continue")

assert(os.execute("mkdir " .. os.getenv("ETRN_TEST_DIR") .. "/later"), "mkdir failed")
mt.sleep(1.5)
got = send(conn, "9C9C9C9C9C", "<carol@customer.example>")
assert(got == SMFIR_CONTINUE, "eom with the database back: got " .. tostring(got) .. ", want continue")
assert(mt.disconnect(conn) == nil)
