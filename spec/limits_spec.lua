-- The limits of the real binary, each set by a flag: header bytes and
-- fields (body size: body_limits_spec), workers and their queue, the read
-- timeout (a slow-loris client), the script budget. Each over-limit
-- request gets a clear refusal and the server goes on serving. Raw sockets
-- (LuaSocket) send what curl will not.
local socket = require "socket"
local server = require "support.server"

local STAND_IN = "spec/fixtures/lua-broken" -- answers "alive" at once

local function endpoint(s)
  local host, port = s.url:match("^http://([%d.]+):(%d+)$")
  return host, tonumber(port)
end

local function connect(s)
  local host, port = endpoint(s)
  local c = assert(socket.tcp())
  c:settimeout(5)
  assert(c:connect(host, port))
  return c
end

-- Sends bytes on a fresh connection, reads until the server closes it or
-- `wait` seconds pass. Returns status, body, and whether it was closed.
local function raw(s, bytes, wait)
  local c = connect(s)
  assert(c:send(bytes))
  c:settimeout(wait or 3)
  local got, err, partial = c:receive("*a")
  c:close()
  local out = got or partial or ""
  return tonumber(out:match("^HTTP/1%.%d (%d+)")), out:match("\r\n\r\n(.*)$"), err == nil
end

local function get_with(headers)
  local lines = { "GET / HTTP/1.1", "Host: 127.0.0.1", "Connection: close" }
  for _, h in ipairs(headers) do
    lines[#lines + 1] = h
  end
  return table.concat(lines, "\r\n") .. "\r\n\r\n"
end

local function numbered(n, value)
  local t = {}
  for i = 1, n do
    t[i] = ("X-Field-%d: %s"):format(i, value or "v")
  end
  return t
end

-- A server for one test, stopped even when an assertion fails first.
local function start(args)
  local s = server.start(args)
  finally(function()
    if not s.stopped then
      server.stop(s)
    end
  end)
  assert.is_string(s.url)
  return s
end

local function stop(s)
  s.stopped = true
  return server.stop(s)
end

local function curl_ok(s, max_time)
  local p = io.popen(("curl -s -o /dev/null -w '%%{http_code}' --max-time %s %s/")
    :format(max_time or 5, s.url))
  local code = p:read("a")
  p:close()
  return code == "200", code
end

describe("header limits #http #limits", function()
  local s

  lazy_setup(function()
    s = server.start { "--lua-dir", STAND_IN, "--max-header-bytes", "2048", "--max-headers", "10" }
    assert.is_string(s.url)
  end)

  lazy_teardown(function()
    assert.are.equal(0, server.stop(s))
  end)

  it("serves a head under --max-header-bytes and refuses a larger one with a JSON 400", function()
    assert.are.equal(200, (raw(s, get_with { "X-Pad: " .. ("a"):rep(1500) })))
    local status, body, closed = raw(s, get_with { "X-Pad: " .. ("a"):rep(3000) })
    assert.are.equal(400, status)
    assert.matches('"kmsemu_error":"[^"]*%-%-max%-header%-bytes', body)
    assert.is_true(closed, "the connection must be closed after the refusal")
    assert.is_true(curl_ok(s))
  end)

  it("serves --max-headers fields and answers one more with 431", function()
    -- Host and Connection count: 8 more make 10.
    assert.are.equal(200, (raw(s, get_with(numbered(8)))))
    local status, body = raw(s, get_with(numbered(9)))
    assert.are.equal(431, status)
    assert.matches("%-%-max%-headers", body)
    assert.is_true(curl_ok(s))
  end)
end)

describe("the header count civetweb can hold #http #limits", function()
  it("refuses 64 fields or more by default instead of dropping the surplus", function()
    local s = start { "--lua-dir", STAND_IN }
    assert.are.equal(200, (raw(s, get_with(numbered(61)))), "63 fields are served")
    assert.are.equal(431, (raw(s, get_with(numbered(62)))))
    assert.are.equal(431, (raw(s, get_with(numbered(100)))))
    assert.are.equal(0, stop(s))
  end)
end)

-- A client that sends `head` a byte every 0.1 s on its own connection,
-- reading what comes back. Stops after `bytes` bytes (all of the head by
-- default) or once the server closes the connection. Returns how many
-- bytes went out before the close (nil: not closed), the seconds that
-- took, what came back, and the connection if it is still open.
local function trickle(s, head, bytes)
  local c = connect(s)
  local started = socket.gettime()
  local answer = ""
  for i = 1, bytes or #head do
    if not c:send(head:sub(i, i)) then
      c:close()
      return i - 1, socket.gettime() - started, answer
    end
    socket.sleep(0.1)
    c:settimeout(0)
    local _, err, partial = c:receive("*a")
    c:settimeout(5)
    answer = answer .. (partial or "")
    if err == "closed" then
      c:close()
      return i, socket.gettime() - started, answer
    end
  end
  return nil, socket.gettime() - started, answer, c
end

local SLOW_HEAD = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " .. ("a"):rep(100)

describe("the read timeout #http #limits", function()
  it("cuts off a client that sends a byte at a time once --request-timeout-ms has passed", function()
    local s = start { "--lua-dir", STAND_IN, "--threads", "2", "--request-timeout-ms", "1000" }
    -- 40 bytes 0.1 s apart take 4 s at the least, more on a busy machine.
    local sent, after, answer = trickle(s, SLOW_HEAD, 40)
    assert.is_number(sent, "the slow client was not cut off within 40 bytes")
    assert.is_true(after >= 0.9, "cut off after " .. after .. " s, before --request-timeout-ms")
    -- Often no answer survives: closing with the client's last bytes
    -- unread resets the connection, and the reset discards the 400 on
    -- its way.
    assert.is_true(answer == "" or answer:find("^HTTP/1%.1 400") ~= nil, answer)
    assert.is_true(curl_ok(s))
    assert.are.equal(0, stop(s))
  end)

  it("lets the same client finish under a longer timeout, and serves others meanwhile", function()
    local s = start { "--lua-dir", STAND_IN, "--threads", "2", "--request-timeout-ms", "60000" }
    -- 20 bytes: past the point where a 1000 ms timeout cut it off.
    local sent, _, answer, c = trickle(s, SLOW_HEAD, 20)
    assert.is_nil(sent, answer)
    assert.is_true(curl_ok(s, 30), "a slow client must not stop others being served")
    assert(c:send(SLOW_HEAD:sub(21) .. "\r\n\r\n"))
    assert.matches("^HTTP/1%.1 200", c:receive("*l"))
    c:close()
    assert.are.equal(0, stop(s))
  end)
end)

describe("workers and the connection queue #http #limits", function()
  -- The stand-in numbers its answers (X-Served).
  local function served(c)
    local n
    repeat
      local line = assert(c:receive("*l"))
      n = n or tonumber(line:match("^X%-Served: (%d+)"))
    until line == ""
    assert(c:receive(#"alive "))
    return n
  end

  it("queues a connection while every worker is busy and serves it once one frees", function()
    local s = start { "--lua-dir", STAND_IN, "--threads", "2", "--queue", "4" }
    local GET = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    local held = {}
    for i = 1, 2 do -- two keep-alive clients hold both workers
      held[i] = connect(s)
      assert(held[i]:send(GET))
      assert.are.equal(i, served(held[i]))
    end
    -- A socket, not curl: a child process would inherit the held
    -- connections and keep them open after we close them.
    local third = connect(s)
    assert(third:send(GET))
    -- A held worker answers a request sent after the third's: the third
    -- is still waiting, and is answered only once a worker frees.
    assert(held[2]:send(GET))
    assert.are.equal(3, served(held[2]))
    third:settimeout(0)
    local line, err = third:receive("*l")
    assert.are.same({ nil, "timeout" }, { line, err }, "a third client was served while both workers were held")
    held[1]:close()
    third:settimeout(5)
    assert.are.equal(4, served(third))
    third:close()
    held[2]:close()
    assert.are.equal(0, stop(s))
  end)
end)

describe("the script budget #http #limits", function()
  it("ends a runaway request at --script-ms with a 500 and keeps serving", function()
    local s = start { "--lua-dir", STAND_IN, "--script-ms", "50" }
    local status = raw(s, "GET /loop HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert.are.equal(500, status)
    assert.is_true(curl_ok(s))
    local exit, err = stop(s)
    assert.are.equal(0, exit)
    assert.is_truthy(err:find("script time budget of 50 ms exceeded", 1, true), err)
  end)
end)
