-- Request size limits, each dialect in its own words: Huawei's gateway
-- answers 413 APIGW.0201 over 12 MB, Tencent RequestSizeLimitExceeded
-- over 10 MB (TC3), 32 KB (GET), and AuthFailure.SignatureFailure over
-- 1 MB for a v1 form POST. --max-body DIALECT=BYTES moves a dialect's
-- figure; a body over the core's own --max-body is drained, not kept, and
-- still answered by the dialect on a connection that stays usable.
local socket = require "socket"
local client = require "support.client"
local server = require "support.server"
local kmsemu = require "kmsemu"

local HUAWEI_KEY = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
local TENCENT_KEY = "23e80852-1e38-11e9-b129-5cb9019b4b01"
local MiB = 1024 * 1024

local build = {
  huawei = function(text, host)
    return client.huawei { action = "encrypt-data", host = host,
      body = { key_id = HUAWEI_KEY, plain_text = text } }
  end,
  tencent = function(text, host)
    return client.tencent { action = "Encrypt", host = host,
      params = { KeyId = TENCENT_KEY, Plaintext = text } }
  end,
}

-- The error code of a response in either dialect, or "ok"; and the status.
local function outcome(status, body)
  local j = client.json { body = body }
  if j.Response then
    return j.Response.Error and j.Response.Error.Code or "ok", status, j.Response.Error
  end
  return j.error_code or (j.error and j.error.error_code) or "ok", status, j
end

local function sent(s, req)
  local status, _, body = server.send(s, req)
  local code = outcome(status, body)
  return code, status
end

local REFUSAL = { huawei = { "APIGW.0201", 413 }, tencent = { "RequestSizeLimitExceeded", 200 } }

describe("the clouds' own body limits #limits", function()
  lazy_setup(function()
    assert(kmsemu.start { scenario = "scenarios/default.lua" } == nil)
  end)

  local function call(req)
    local res = kmsemu.handle(req)
    return outcome(res.status, res.body)
  end

  it("huawei: 12 MiB of body passes the gateway, a byte more gets 413 APIGW.0201", function()
    local pad = 12 * MiB - #build.huawei("").body
    assert.are.equal("KMS.0308", (call(build.huawei(("x"):rep(pad)))))
    local code, status, body = call(build.huawei(("x"):rep(pad + 1)))
    assert.are.same({ "APIGW.0201", 413 }, { code, status })
    assert.are.equal("Request entity too large.", body.error_msg)
    assert.is_string(body.request_id)
  end)

  it("tencent TC3: 10 MiB passes, a byte more gets RequestSizeLimitExceeded", function()
    local pad = 10 * MiB - #build.tencent("").body
    assert.are_not.equal("RequestSizeLimitExceeded", (call(build.tencent(("x"):rep(pad)))))
    local code, status, err = call(build.tencent(("x"):rep(pad + 1)))
    assert.are.same({ "RequestSizeLimitExceeded", 200 }, { code, status })
    assert.are.equal("The request size exceeds the upper limit.", err.Message)
  end)

  it("tencent v1 form POST: over 1 MiB is a signature failure that says why", function()
    local req = build.tencent("aGk=")
    req.headers.authorization = nil
    req.headers["content-type"] = "application/x-www-form-urlencoded"
    req.body = "Action=Encrypt&Pad=" .. ("x"):rep(MiB)
    local code, _, err = call(req)
    assert.are.equal("AuthFailure.SignatureFailure", code)
    assert.matches("exceeding request size limit", err.Message)
  end)

  it("tencent GET: a request line over 32 KiB gets RequestSizeLimitExceeded", function()
    local req = client.tencent { action = "Encrypt", method = "GET",
      params = { KeyId = TENCENT_KEY, Plaintext = ("QQ=="):rep(8192) } }
    assert.are.equal("RequestSizeLimitExceeded", (call(req)))
  end)

  it("answers a body the core did not keep (req.oversize) with the dialect's refusal", function()
    for name, b in pairs(build) do
      local req = b("aGk=")
      req.body, req.oversize = "", 99 * MiB
      local code, status = call(req)
      assert.are.same(REFUSAL[name], { code, status }, name)
    end
  end)
end)

-- Sends raw requests on one connection; returns the responses' raw text.
local function exchange(s, chunks, wait)
  local host, port = s.url:match("^http://([%d.]+):(%d+)$")
  local c = assert(socket.tcp())
  c:settimeout(5)
  assert(c:connect(host, tonumber(port)))
  for _, chunk in ipairs(chunks) do
    local ok, err = c:send(chunk)
    if not ok then
      break -- the server may close before the upload ends
    end
    assert(err == nil or err == "closed")
  end
  c:settimeout(wait or 2)
  local got, _, partial = c:receive("*a")
  c:close()
  return got or partial or ""
end

local function wire(req, host, extra)
  local lines = { req.method .. " " .. req.path .. " HTTP/1.1", "Host: " .. host }
  for k, v in pairs(req.headers) do
    if k ~= "host" then
      lines[#lines + 1] = k .. ": " .. v
    end
  end
  for _, h in ipairs(extra or {}) do
    lines[#lines + 1] = h
  end
  return table.concat(lines, "\r\n") .. "\r\n\r\n"
end

describe("--max-body over the wire #http #limits", function()
  local s

  lazy_setup(function()
    s = server.start { "--max-body", "8192", "--max-body", "huawei=4096", "--max-body", "tencent=4096" }
    assert.is_string(s.url)
  end)

  lazy_teardown(function()
    assert.are.equal(0, server.stop(s))
  end)

  local host = function() return s.url:match("^http://(.*)$") end

  for name, b in pairs(build) do
    it(name .. ": a body over its DIALECT=BYTES limit gets the dialect's refusal, one under it 200", function()
      assert.are.same(REFUSAL[name], { sent(s, b(("x"):rep(5000), host())) })
      assert.are.same({ "ok", 200 }, { sent(s, b("aGk=", host())) })
    end)

    it(name .. ": a body over --max-body is drained and refused, and the connection serves the next", function()
      local big, small = b(("x"):rep(20000), host()), b("aGk=", host())
      local out = exchange(s, {
        wire(big, host(), { "Content-Length: " .. #big.body }) .. big.body,
        wire(small, host(), { "Content-Length: " .. #small.body, "Connection: close" }) .. small.body,
      })
      local first, second = out:match("^HTTP/1%.1 (%d+).-HTTP/1%.1 (%d+)")
      assert.are.same({ tostring(REFUSAL[name][2]), "200" }, { first, second })
      assert.are.equal(REFUSAL[name][1], out:match("\"error_code\":\"([^\"]+)\"") or out:match("\"Code\":\"([^\"]+)\""))
    end)
  end

  it("refuses a chunked body over --max-body the same way", function()
    local req = build.huawei("aGk=", host())
    local chunk = ("x"):rep(3000)
    local body = {}
    for i = 1, 4 do
      body[i] = ("%x\r\n%s\r\n"):format(#chunk, chunk)
    end
    local out = exchange(s, { wire(req, host(), { "Transfer-Encoding: chunked", "Connection: close" })
      .. table.concat(body) .. "0\r\n\r\n" })
    assert.matches("^HTTP/1%.1 413", out)
    assert.matches("APIGW.0201", out)
  end)

  it("closes the connection after answering a body past four times --max-body", function()
    local req = build.tencent("aGk=", host())
    local out = exchange(s, { wire(req, host(), { "Content-Length: " .. 64 * 1024 }), ("x"):rep(64 * 1024) })
    assert.matches("^HTTP/1%.1 200", out)
    assert.matches("RequestSizeLimitExceeded", out)
    assert.matches("Connection: close", out)
    assert.are.same({ "ok", 200 }, { sent(s, build.tencent("aGk=", host())) })
  end)

  it("refuses an admin request over --max-body with 413", function()
    local status, _, body = server.send(s, { method = "POST", path = "/_kmsemu/scenario",
      headers = {}, body = ("-- x\n"):rep(4000) })
    assert.are.equal(413, status)
    assert.matches("%-%-max%-body", body)
  end)
end)

describe("--max-body on the command line #http #limits", function()
  it("refuses a DIALECT that does not exist and a malformed rule with status 2", function()
    for _, arg in ipairs { "azure=100", "=100", "huawei=big", "huawei=-1" } do
      local s = server.start { "--max-body", arg }
      local status, err = server.wait(s)
      assert.are.equal(2, status, arg)
      assert.matches("%-%-max%-body", err, 1, false)
      os.execute("rm -rf " .. s.dir)
    end
  end)
end)
