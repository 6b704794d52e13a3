-- Runs the real binary for the HTTP specs: starts it on 127.0.0.1:0 in the
-- background, reads the address it announces, and stops it with a signal,
-- recording its exit status. Requests go through curl, so the bytes on the
-- wire are a real client's.
local fs = require "support.fs"

local M = {}

M.BIN = os.getenv("KMSEMU_BIN") or "build/kmsemu"

local read = fs.read

M.read = read

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function sleep(seconds)
  os.execute("sleep " .. seconds)
end

-- Starts the binary with extra arguments (a list). Returns a handle with
-- url, pid and the paths of its output, once it listens or has exited.
function M.start(args)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  local argv = { M.BIN, "--listen", "127.0.0.1:0" }
  for _, a in ipairs(args or {}) do
    argv[#argv + 1] = a
  end
  for i, a in ipairs(argv) do
    argv[i] = sh_quote(a)
  end
  local s = { dir = dir, out = dir .. "/out", err = dir .. "/err", status = dir .. "/status" }
  os.execute(("sh -c '%s >%s 2>%s & echo $! >%s/pid; wait $!; echo $? >%s' >/dev/null 2>&1 &")
    :format(table.concat(argv, " "):gsub("'", "'\\''"), s.out, s.err, dir, s.status))
  for _ = 1, 200 do
    local out = read(s.out) or ""
    s.url = out:match("kmsemu listening on (https?://[%d.]+:%d+)")
    if s.url or read(s.status) then
      break
    end
    sleep(0.02)
  end
  s.pid = tonumber(read(dir .. "/pid"))
  return s
end

-- Waits for the process to end; returns its exit status and stderr.
function M.wait(s, seconds)
  for _ = 1, (seconds or 15) * 50 do
    -- The shell creates the file before it writes the number: an empty
    -- read is not the end yet.
    local st = tonumber(read(s.status) or "")
    if st then
      return st, read(s.err)
    end
    sleep(0.02)
  end
  return nil, read(s.err)
end

function M.stop(s, signal)
  if s.pid then
    os.execute(("kill -%s %d 2>/dev/null"):format(signal or "TERM", s.pid))
  end
  local status, err = M.wait(s)
  os.execute("rm -rf " .. s.dir)
  return status, err
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
