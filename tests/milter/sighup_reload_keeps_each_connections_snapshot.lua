-- sighup_reload_keeps_each_connections_snapshot.lua - SIGHUP re-reads the
-- configuration; a connection that was open before keeps the rules it
-- started with, a new connection gets the new ones, and the milter keeps
-- running (libmilter's own signal thread would have stopped it).
--
-- expect-sql: SELECT queue_id, recipient FROM etrn_audit ORDER BY queue_id => NEW0000002|dave@elsewhere.example;OLD0000001|carol@customer.example
-- expect-log: configuration reloaded

local dir = os.getenv("ETRN_TEST_DIR")
local function open()
  local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
  assert(conn, "cannot connect to the milter")
  assert(mt.negotiate(conn, nil, nil, nil) == nil)
  assert(mt.conninfo(conn, "client.example", "192.0.2.7") == nil)
  return conn
end
local function send(conn, queue_id, rcpts)
  assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
  assert(mt.macro(conn, SMFIC_RCPT, "i", queue_id) == nil)
  for _, r in ipairs(rcpts) do assert(mt.rcptto(conn, r) == nil) end
  assert(mt.eoh(conn) == nil)
  assert(mt.eom(conn) == nil)
  assert(mt.getreply(conn) == SMFIR_CONTINUE, queue_id .. ": want continue")
end

local old = open()

local path = dir .. "/etrn-sweeper.conf"
local f = assert(io.open(path, "r"))
local text = f:read("a")
f:close()
local changed, n = text:gsub("etrn_domains = [^\n]*", "etrn_domains = elsewhere.example")
assert(n == 1, "etrn_domains not found in " .. path)
f = assert(io.open(path, "w"))
f:write(changed)
f:close()
assert(os.execute("kill -HUP " .. os.getenv("MILTER_PID")), "kill -HUP failed")
mt.sleep(0.5)

send(old, "OLD0000001", { "<bob@elsewhere.example>", "<carol@customer.example>" })
local new = open()
send(new, "NEW0000002", { "<dave@elsewhere.example>", "<erin@customer.example>" })
assert(mt.disconnect(old) == nil)
assert(mt.disconnect(new) == nil)
