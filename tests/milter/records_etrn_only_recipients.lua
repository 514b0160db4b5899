-- records_etrn_only_recipients.lua - a message with mixed recipients over
-- an smtpd-like session: only the ETRN-only ones (by domain and by
-- {rcpt_mailer}) are recorded, with the DSN parameters, headers, priority
-- and client data, and every reply is "continue".
--
-- expect-sql: SELECT queue_id, sender, recipient, domain, priority, state FROM etrn_audit ORDER BY recipient => 4A1B2C3D4E|alice@sender.example|bob@customer.example|customer.example|urgent|queued;4A1B2C3D4E|alice@sender.example|carol@transport-only.example|transport-only.example|urgent|queued;4A1B2C3D4E|alice@sender.example|dave@a.dialup.example|a.dialup.example|urgent|queued
-- expect-sql: SELECT ret, envid, smtputf8, message_id, subject, client_addr, client_name, helo, auth_user, size FROM messages => HDRS|env+id 1|0|<m1@sender.example>|Hello there|192.0.2.7|client.example|helo.client.example|alice|100
-- expect-sql: SELECT address, notify, orcpt, mailer FROM recipients ORDER BY address => bob@customer.example|SUCCESS,DELAY|rfc822;Bob+X@customer.example|etrn-only;carol@transport-only.example|NEVER||etrn-only;dave@a.dialup.example|||smtp
-- expect-sql: SELECT count(*) FROM etrn_events WHERE kind = 'recorded' => 3
-- expect-log: 4A1B2C3D4E: recorded

local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
assert(conn, "cannot connect to the milter")

local function expect(what, want)
  local got = mt.getreply(conn)
  if got ~= want then error(what .. ": got reply " .. tostring(got) .. ", want " .. tostring(want)) end
end

assert(mt.negotiate(conn, nil, nil, nil) == nil, "negotiate failed")
assert(mt.conninfo(conn, "client.example", "192.0.2.7") == nil)
expect("connect", SMFIR_CONTINUE)
assert(mt.helo(conn, "helo.client.example") == nil)
expect("helo", SMFIR_CONTINUE)

assert(mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "alice") == nil)
assert(mt.mailfrom(conn, "<alice@sender.example>", "RET=HDRS", "ENVID=env+2Bid+201", "SIZE=100") == nil)
expect("mail", SMFIR_CONTINUE)

local recipients = {
  { "<bob@customer.example>", "etrn-only", "NOTIFY=SUCCESS,DELAY", "ORCPT=rfc822;Bob+2BX@customer.example" },
  { "<carol@transport-only.example>", "etrn-only", "NOTIFY=NEVER" },
  { "<dave@a.dialup.example>", "smtp" },
  { "<erin@sender.example>", "virtual" },
  { "<frank@dialup.example>", "smtp" },
}
for _, r in ipairs(recipients) do
  assert(mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", r[2]) == nil)
  assert(mt.rcptto(conn, r[1], table.unpack(r, 3)) == nil)
  expect("rcpt " .. r[1], SMFIR_CONTINUE)
end

assert(mt.macro(conn, SMFIC_RCPT, "i", "4A1B2C3D4E", "{rcpt_mailer}", "smtp") == nil)
assert(mt.data(conn) == nil)
expect("data", SMFIR_CONTINUE)
assert(mt.header(conn, "From", "Alice <alice@sender.example>") == nil)
assert(mt.header(conn, "Subject", "Hello there") == nil)
assert(mt.header(conn, "Message-ID", "<m1@sender.example>") == nil)
assert(mt.header(conn, "X-Priority", "1 (Highest)") == nil)
assert(mt.eoh(conn) == nil)
expect("eoh", SMFIR_CONTINUE)
assert(mt.eom(conn) == nil)
local eom = mt.getreply(conn)
assert(eom == SMFIR_CONTINUE or eom == SMFIR_ACCEPT, "eom: got reply " .. tostring(eom))
-- It asked for no modification rights at all.
for _, action in ipairs({ SMFIF_ADDHDRS, SMFIF_CHGHDRS, SMFIF_CHGBODY, SMFIF_ADDRCPT, SMFIF_DELRCPT, SMFIF_QUARANTINE }) do
  assert(not mt.test_action(conn, action), "the milter asked for action " .. tostring(action))
end

assert(mt.disconnect(conn) == nil)
