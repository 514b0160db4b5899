-- interleaved_connections_keep_their_own_messages.lua - libmilter runs
-- each connection in its own thread; two sessions whose commands
-- interleave must each record exactly their own message.
--
-- expect-sql: SELECT queue_id, sender, recipient FROM etrn_audit ORDER BY queue_id => AAAA000001|one@sender.example|first@customer.example;BBBB000002|two@sender.example|second@customer.example
-- expect-sql: SELECT queue_id, subject FROM messages ORDER BY queue_id => AAAA000001|subject one;BBBB000002|subject two

local function open()
  local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
  assert(conn, "cannot connect to the milter")
  assert(mt.negotiate(conn, nil, nil, nil) == nil)
  assert(mt.conninfo(conn, "client.example", "192.0.2.7") == nil)
  return conn
end

local a, b = open(), open()
assert(mt.mailfrom(a, "<one@sender.example>") == nil)
assert(mt.mailfrom(b, "<two@sender.example>") == nil)
assert(mt.macro(b, SMFIC_RCPT, "i", "BBBB000002") == nil)
assert(mt.rcptto(b, "<second@customer.example>") == nil)
assert(mt.macro(a, SMFIC_RCPT, "i", "AAAA000001") == nil)
assert(mt.rcptto(a, "<first@customer.example>") == nil)
assert(mt.header(b, "Subject", "subject two") == nil)
assert(mt.header(a, "Subject", "subject one") == nil)
assert(mt.eoh(a) == nil)
assert(mt.eoh(b) == nil)
assert(mt.eom(b) == nil)
assert(mt.getreply(b) == SMFIR_CONTINUE)
assert(mt.eom(a) == nil)
assert(mt.getreply(a) == SMFIR_CONTINUE)
assert(mt.disconnect(a) == nil)
assert(mt.disconnect(b) == nil)
