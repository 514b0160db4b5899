-- abort_and_non_etrn_mail_leave_no_row.lua - per-message state: an aborted
-- transaction with an ETRN recipient records nothing, the next message on
-- the same connection (no ETRN recipient) is accepted at DATA (the MTA
-- then sends nothing more of it) and records nothing, and a third one
-- records only its own recipient, under its own queue ID.
--
-- expect-sql: SELECT queue_id, recipient FROM etrn_audit => 3C3C3C3C3C|zed@customer.example
-- expect-sql: SELECT count(*) FROM messages => 1
-- expect-no-log: 1A1A1A1A1A
-- expect-no-log: 2B2B2B2B2B

local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
assert(conn, "cannot connect to the milter")
local function expect(what, want)
  local got = mt.getreply(conn)
  if got ~= want then error(what .. ": got reply " .. tostring(got) .. ", want " .. tostring(want)) end
end
assert(mt.negotiate(conn, nil, nil, nil) == nil)
assert(mt.conninfo(conn, "client.example", "192.0.2.7") == nil)
assert(mt.helo(conn, "client.example") == nil)

-- 1: aborted after RCPT.
assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
assert(mt.macro(conn, SMFIC_RCPT, "i", "1A1A1A1A1A") == nil)
assert(mt.rcptto(conn, "<bob@customer.example>") == nil)
expect("rcpt 1", SMFIR_CONTINUE)
assert(mt.abort(conn) == nil)

-- 2: no ETRN-only recipient.
assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
assert(mt.macro(conn, SMFIC_RCPT, "i", "2B2B2B2B2B", "{rcpt_mailer}", "virtual") == nil)
assert(mt.rcptto(conn, "<erin@sender.example>") == nil)
assert(mt.data(conn) == nil)
expect("data 2", SMFIR_ACCEPT)

-- 3: one ETRN-only recipient.
assert(mt.mailfrom(conn, "<c@sender.example>") == nil)
assert(mt.macro(conn, SMFIC_RCPT, "i", "3C3C3C3C3C", "{rcpt_mailer}", "smtp") == nil)
assert(mt.rcptto(conn, "<zed@customer.example>") == nil)
assert(mt.data(conn) == nil)
expect("data 3", SMFIR_CONTINUE)
assert(mt.header(conn, "Subject", "third") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.eom(conn) == nil)
expect("eom 3", SMFIR_CONTINUE)
assert(mt.disconnect(conn) == nil)
