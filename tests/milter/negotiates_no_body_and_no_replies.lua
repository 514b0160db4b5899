-- negotiates_no_body_and_no_replies.lua - what the milter asks of the MTA
-- (libmilter 8.17 against an MTA that offers everything, as Postfix 3.7
-- and Sendmail 8.17 do): no body and no unknown commands; no reply to
-- connect, HELO, MAIL, RCPT, each header and end of headers; a reply to
-- DATA and end of message only. A message without an ETRN-only recipient
-- is accepted at DATA; one with one is recorded as before, with the size
-- the client declared (SIZE=) since the body is never seen.
--
-- expect-sql: SELECT queue_id, recipient FROM etrn_audit => 2B2B2B2B2B|bob@customer.example
-- expect-sql: SELECT coalesce(size, 'NULL') FROM messages => 4242
-- expect-no-log: claimed not to reply

local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
assert(conn, "cannot connect to the milter")
assert(mt.negotiate(conn, nil, nil, nil) == nil)
local wanted = {
  NOBODY = SMFIP_NOBODY, NOUNKNOWN = SMFIP_NOUNKNOWN, NR_CONN = SMFIP_NR_CONN,
  NR_HELO = SMFIP_NR_HELO, NR_MAIL = SMFIP_NR_MAIL, NR_RCPT = SMFIP_NR_RCPT,
  NR_HDR = SMFIP_NR_HDR, NR_EOH = SMFIP_NR_EOH,
}
for name, option in pairs(wanted) do
  assert(mt.test_option(conn, option), "SMFIP_" .. name .. " not negotiated")
end
local unwanted = {
  NR_DATA = SMFIP_NR_DATA, NODATA = SMFIP_NODATA, NOHDRS = SMFIP_NOHDRS, NOEOH = SMFIP_NOEOH,
  NOMAIL = SMFIP_NOMAIL, NORCPT = SMFIP_NORCPT, NOCONNECT = SMFIP_NOCONNECT, NOHELO = SMFIP_NOHELO,
}
for name, option in pairs(unwanted) do
  assert(not mt.test_option(conn, option), "SMFIP_" .. name .. " negotiated, must not be")
end
assert(mt.conninfo(conn, "client.example", "192.0.2.7") == nil)
assert(mt.helo(conn, "client.example") == nil)

-- No ETRN-only recipient: accepted at DATA, nothing more is sent.
assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
assert(mt.macro(conn, SMFIC_RCPT, "i", "1A1A1A1A1A", "{rcpt_mailer}", "virtual") == nil)
assert(mt.rcptto(conn, "<erin@sender.example>") == nil)
assert(mt.macro(conn, SMFIC_RCPT, "i", "1A1A1A1A1A", "{rcpt_mailer}", "smtp") == nil)
assert(mt.rcptto(conn, "<x@elsewhere.example>") == nil)
assert(mt.data(conn) == nil)
assert(mt.getreply(conn) == SMFIR_ACCEPT, "data without ETRN recipients: want accept")

-- An ETRN-only recipient: continue at DATA, recorded at end of message.
assert(mt.mailfrom(conn, "<a@sender.example>", "SIZE=4242") == nil)
assert(mt.macro(conn, SMFIC_RCPT, "i", "2B2B2B2B2B", "{rcpt_mailer}", "etrn-only") == nil)
assert(mt.rcptto(conn, "<bob@customer.example>") == nil)
assert(mt.data(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE, "data with an ETRN recipient: want continue")
assert(mt.header(conn, "Subject", "for the site") == nil)
assert(mt.header(conn, "X-Unrelated", "ignored") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.eom(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE, "eom: want continue")
assert(mt.disconnect(conn) == nil)
