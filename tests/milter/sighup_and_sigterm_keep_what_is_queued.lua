-- sighup_and_sigterm_keep_what_is_queued.lua - with a long commit_interval
-- the records of three messages wait in memory after end of message was
-- answered (nothing is in the database yet); a SIGHUP (reload) keeps them,
-- and the SIGTERM the runner sends at the end commits all three before
-- the milter exits 0.
--
-- config-milter: commit_interval = 10s
-- expect-sql: SELECT group_concat(queue_id, ',') FROM (SELECT queue_id FROM messages ORDER BY queue_id) => 1A1A1A1A1A,2B2B2B2B2B,3C3C3C3C3C
-- expect-log: configuration reloaded
-- expect-log: etrn-milter stopped: 3 recorded, 0 not recorded, 0 lost at the stop

local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
assert(conn, "cannot connect to the milter")
assert(mt.negotiate(conn, nil, nil, nil) == nil)
assert(mt.conninfo(conn, "client.example", "192.0.2.7") == nil)
for _, queue_id in ipairs({ "1A1A1A1A1A", "2B2B2B2B2B", "3C3C3C3C3C" }) do
  assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
  assert(mt.macro(conn, SMFIC_RCPT, "i", queue_id) == nil)
  assert(mt.rcptto(conn, "<bob@customer.example>") == nil)
  assert(mt.eoh(conn) == nil)
  assert(mt.eom(conn) == nil)
  assert(mt.getreply(conn) == SMFIR_CONTINUE, queue_id .. ": want continue")
end
assert(mt.disconnect(conn) == nil)

local function recorded()
  local query = io.popen("sqlite3 " .. os.getenv("ETRN_DB") .. " 'SELECT count(*) FROM messages'")
  local n = tonumber(query:read("a"))
  query:close()
  return n
end
assert(recorded() == 0, "committed before commit_interval: want the records still in memory")
assert(os.execute("kill -HUP " .. os.getenv("MILTER_PID")), "kill -HUP failed")
mt.sleep(0.5)
assert(recorded() == 0, "a reload must neither commit nor drop what is queued")
