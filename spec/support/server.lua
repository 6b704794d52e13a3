-- Runs the real binary for the HTTP specs: starts it on 127.0.0.1:0 in the
-- background, reads the address it announces, and stops it with a signal,
-- recording its exit status. Requests go through curl, so the bytes on the
-- wire are a real client's.
--
-- A server that dies of a signal the harness did not send fails the stop()
-- that finds it; when a spec fails, every server its file started is shown
-- with its exit status and stderr.
local fs = require "support.fs"

local M = {}

-- The servers the running spec file started, for the failure report.
local started = {}

-- Signal numbers as the shell's $? reports a death: 128 + n.
local SIGNALS = { HUP = 1, INT = 2, QUIT = 3, ABRT = 6, KILL = 9, SEGV = 11, TERM = 15 }
local KEEP = 16 * 1024 -- bytes of stderr kept

M.BIN = os.getenv("KMSEMU_BIN") or "build/kmsemu"

local read = fs.read

M.read = read

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function sleep(seconds)
  os.execute("sleep " .. seconds)
end

-- Starts the binary with extra arguments (a list) and returns at once a
-- handle with its pid and the paths of its output.
function M.launch(args)
  local dir = fs.tmpdir()
  local argv = { M.BIN, "--listen", "127.0.0.1:0" }
  for _, a in ipairs(args or {}) do
    argv[#argv + 1] = a
  end
  for i, a in ipairs(argv) do
    argv[i] = sh_quote(a)
  end
  local s = { dir = dir, out = dir .. "/out", err = dir .. "/err", status = dir .. "/status",
              argv = table.concat(argv, " ") }
  started[#started + 1] = s
  os.execute(("sh -c '%s >%s 2>%s & echo $! >%s/pid; wait $!; echo $? >%s' >/dev/null 2>&1 &")
    :format(table.concat(argv, " "):gsub("'", "'\\''"), s.out, s.err, dir, s.status))
  for _ = 1, 250 do
    s.pid = tonumber(read(dir .. "/pid") or "")
    if s.pid then
      break
    end
    sleep(0.02)
  end
  return s
end

-- The same, returned once it listens (with its url) or has exited.
function M.start(args)
  local s = M.launch(args)
  for _ = 1, 750 do -- 15 s: a guard against a binary that never starts
    local out = read(s.out) or ""
    s.url = out:match("kmsemu listening on (https?://[%d.]+:%d+)")
    if s.url or read(s.status) then
      break
    end
    sleep(0.02)
  end
  return s
end

-- fn(...) with bin (a wrapper script, a copy elsewhere) in place of M.BIN.
function M.with_bin(bin, fn, ...)
  local real = M.BIN
  M.BIN = bin
  local ok, r = pcall(fn, ...)
  M.BIN = real
  assert(ok, r)
  return r
end

-- Calls fn until it returns true, pausing between calls, for `seconds`
-- (30) at most: a guard against a hang, never a measurement. Returns
-- whether fn did.
function M.eventually(fn, seconds)
  local give_up = os.time() + (seconds or 30)
  repeat
    if fn() then
      return true
    end
    sleep(0.02)
  until os.time() > give_up
  return false
end

-- What the harness knows of s's end: its exit status and stderr, kept
-- once its files are gone.
local function collect(s)
  if not s.removed then
    s.exit = s.exit or tonumber(read(s.status) or "")
    local err = read(s.err) or ""
    s.stderr = #err > KEEP and err:sub(-KEEP) or err
  end
  return s.exit, s.stderr
end

-- Waits for the process to end; returns its exit status and stderr.
function M.wait(s, seconds)
  for _ = 1, (seconds or 15) * 50 do
    -- The shell creates the file before it writes the number: an empty
    -- read is not the end yet.
    if tonumber(read(s.status) or "") then
      return collect(s)
    end
    sleep(0.02)
  end
  return nil, (select(2, collect(s)))
end

-- A report of s: its command line, how it ended ("exit 0", "killed by
-- signal 11 (not sent by the harness)", "still running") and its stderr.
function M.describe(s)
  local exit, err = collect(s)
  local how = "still running"
  if exit and exit > 128 then
    how = ("killed by signal %d%s"):format(exit - 128,
      SIGNALS[s.sent] == exit - 128 and " (sent by the harness)" or " (not sent by the harness)")
  elseif exit then
    how = "exit " .. exit
  end
  return ("kmsemu pid %s: %s\n  %s\n  stderr:\n%s"):format(tostring(s.pid), s.argv, how,
    ((err or ""):gsub("[^\n]+", "    %0")))
end

-- Whether s died of a signal the harness did not send it.
function M.died(s)
  local exit = collect(s)
  return exit ~= nil and exit > 128 and SIGNALS[s.sent] ~= exit - 128
end

-- Stops s with `signal` (TERM) and returns its exit status and stderr;
-- raises, with both, when it had died of another signal.
function M.stop(s, signal)
  s.sent = signal or "TERM"
  if s.pid then
    os.execute(("kill -%s %d 2>/dev/null"):format(s.sent, s.pid))
  end
  local status, err = M.wait(s)
  os.execute("rm -rf " .. s.dir)
  s.removed = true
  if M.died(s) then
    error("kmsemu died of a signal the harness did not send\n" .. M.describe(s), 2)
  end
  return status, err
end

-- Under busted: a failure shows the servers of its file (each once, and
-- again when its state changed), and a new file starts a new list.
local ok, busted = pcall(require, "busted")
if ok and type(busted) == "table" and busted.subscribe then
  local function report()
    for _, s in ipairs(started) do
      local d = M.describe(s)
      if d ~= s.reported then
        io.stderr:write(d, "\n")
        s.reported = d
      end
    end
    return nil, true
  end
  busted.subscribe({ "failure" }, report)
  busted.subscribe({ "error" }, report)
  busted.subscribe({ "file", "start" }, function()
    started = {}
    return nil, true
  end)
  -- A spec that fails before its stop() leaves its server running: killed
  -- when its file ends, so that no server outlives the run.
  busted.subscribe({ "file", "end" }, function()
    for _, s in ipairs(started) do
      if not s.removed and s.pid then
        os.execute(("kill -KILL %d 2>/dev/null"):format(s.pid))
      end
    end
    return nil, true
  end)
end

-- Sends a request table (as support.client builds them) with curl.
-- Returns status, headers (lower-case names), body.
function M.send(s, req, extra)
  local tmp = s.dir .. "/req"
  local f = assert(io.open(tmp, "wb"))
  f:write(req.body or "")
  f:close()
  local cmd = { "curl -s -i --http1.1 -X", req.method, "--data-binary", "@" .. tmp }
  for k, v in pairs(req.headers) do
    if k ~= "host" then
      cmd[#cmd + 1] = "-H " .. sh_quote(k .. ": " .. v)
    end
  end
  for _, e in ipairs(extra or {}) do
    cmd[#cmd + 1] = e
  end
  local query = (req.query and req.query ~= "") and ("?" .. req.query) or ""
  cmd[#cmd + 1] = sh_quote(s.url .. req.path .. query)
  local p = io.popen(table.concat(cmd, " "), "r")
  local raw = p:read("a")
  p:close()
  local head, body = raw:match("^(.-)\r\n\r\n(.*)$")
  if not head then
    return nil, {}, raw
  end
  local status = tonumber(head:match("^HTTP/1%.1 (%d+)"))
  local headers = {}
  for k, v in head:gmatch("\r\n([^:\r\n]+): ([^\r\n]*)") do
    headers[k:lower()] = v
  end
  return status, headers, body
end

return M
