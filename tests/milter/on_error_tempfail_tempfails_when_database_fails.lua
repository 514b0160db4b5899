-- on_error_tempfail_tempfails_when_database_fails.lua - the database's
-- directory does not exist. End of message never waits for it: the first
-- record is queued (continue); once records have waited longer than
-- record_timeout, on_error = tempfail tempfails the next ETRN message
-- (the MTA keeps it with the client) and logs why. Mail without ETRN
-- recipients is not affected: it is accepted at DATA.
--
-- config: database = $DIR/missing/etrn.db
-- config-milter: on_error = tempfail
-- config-milter: record_timeout = 1s
-- expect-log: 6F6F6F6F6F: NOT recorded, tempfailing (on_error = tempfail): the database has not taken records for longer than record_timeout
-- expect-log: missing does not exist
-- expect-log: 5E5E5E5E5E: NOT recorded: the database did not take it before the milter stopped

local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
assert(conn, "cannot connect to the milter")
assert(mt.negotiate(conn, nil, nil, nil) == nil)
assert(mt.conninfo(conn, "client.example", "192.0.2.7") == nil)
assert(mt.helo(conn, "client.example") == nil)

local function send_etrn(queue_id)
  assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
  assert(mt.macro(conn, SMFIC_RCPT, "i", queue_id) == nil)
  assert(mt.rcptto(conn, "<bob@customer.example>") == nil)
  assert(mt.eoh(conn) == nil)
  assert(mt.eom(conn) == nil)
  return mt.getreply(conn)
end

local got = send_etrn("5E5E5E5E5E")
assert(got == SMFIR_CONTINUE, "first eom: got " .. tostring(got) .. ", want continue (queued)")
mt.sleep(1.5)
got = send_etrn("6F6F6F6F6F")
assert(got == SMFIR_TEMPFAIL, "eom past record_timeout: got " .. tostring(got) .. ", want tempfail")

assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
assert(mt.macro(conn, SMFIC_RCPT, "i", "7A7A7A7A7A", "{rcpt_mailer}", "virtual") == nil)
assert(mt.rcptto(conn, "<erin@sender.example>") == nil)
assert(mt.data(conn) == nil)
assert(mt.getreply(conn) == SMFIR_ACCEPT, "non-ETRN mail must be accepted, not tempfailed")
assert(mt.disconnect(conn) == nil)
