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

describe("the read timeout #http #limits", function()
  it("cuts off a client that sends a byte at a time and serves others meanwhile", function()
    local s = start { "--lua-dir", STAND_IN, "--threads", "2", "--request-timeout-ms", "1000" }
    local c = connect(s)
    local started = socket.gettime()
    local head = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " .. ("a"):rep(100)
    local cut_after, answer = nil, ""
    for i = 1, #head do
      if not c:send(head:sub(i, i)) then
        cut_after = socket.gettime() - started
        break
      end
      if i == 3 then
        local t = socket.gettime()
        assert.is_true(curl_ok(s, 2), "a slow client must not stop others being served")
        assert.is_true(socket.gettime() - t < 1)
      end
      socket.sleep(0.1)
      c:settimeout(0)
      local _, err, partial = c:receive("*a")
      c:settimeout(5)
      answer = answer .. (partial or "")
      if err == "closed" then
        cut_after = socket.gettime() - started
        -- Often no answer survives: closing with the client's last
        -- bytes unread resets the connection, and the reset discards
        -- the 400 on its way.
        assert.is_true(answer == "" or answer:find("^HTTP/1%.1 400") ~= nil, answer)
        break
      end
    end
    c:close()
    assert.is_number(cut_after, "the slow client was never cut off")
    assert.is_true(cut_after >= 0.9 and cut_after < 4, "cut off after " .. tostring(cut_after) .. " s")
    assert.is_true(curl_ok(s))
    assert.are.equal(0, stop(s))
  end)
end)

describe("workers and the connection queue #http #limits", function()
  it("queues a connection while every worker is busy and serves it once one frees", function()
    local s = start { "--lua-dir", STAND_IN, "--threads", "2", "--queue", "4" }
    local held = {}
    for i = 1, 2 do -- two keep-alive clients hold both workers
      held[i] = connect(s)
      assert(held[i]:send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
      assert.matches("^HTTP/1%.1 200", held[i]:receive("*l"))
    end
    -- A socket, not curl: a child process would inherit the held
    -- connections and keep them open after we close them.
    local third = connect(s)
    assert(third:send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
    third:settimeout(1)
    local line, err = third:receive("*l")
    assert.is_nil(line, "a third client was served while both workers were held")
    assert.are.equal("timeout", err)
    held[1]:close()
    third:settimeout(5)
    assert.matches("^HTTP/1%.1 200", third:receive("*l"))
    third:close()
    held[2]:close()
    assert.are.equal(0, stop(s))
  end)
end)

describe("the script budget #http #limits", function()
  it("ends a runaway request at --script-ms with a 500 and keeps serving", function()
    local s = start { "--lua-dir", STAND_IN, "--script-ms", "50" }
    local started = socket.gettime()
    local status = raw(s, "GET /loop HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert.are.equal(500, status)
    assert.is_true(socket.gettime() - started < 2)
    assert.is_true(curl_ok(s))
    assert.are.equal(0, stop(s))
  end)
end)
