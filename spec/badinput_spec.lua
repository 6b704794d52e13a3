-- The bad-input corpus (spec/fixtures/badinput/): every malformed request
-- gets its dialect's exact answer from the real binary over HTTP, and
-- afterwards the same process still answers a normal request.
local cjson = require "cjson.safe"
local client = require "support.client"
local server = require "support.server"
local build = require "fixtures.badinput.request"

local cases = {}
for _, dialect in ipairs { "huawei", "tencent" } do
  for _, c in ipairs(require("fixtures.badinput." .. dialect)) do
    cases[#cases + 1] = c
  end
end

local function quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local srv, host
local ctx = {}

local function send(req, extra)
  local args = {}
  for _, line in ipairs(extra or {}) do
    args[#args + 1] = "-H " .. quote(line)
  end
  local status, _, body = server.send(srv, req, args)
  if status == nil then
    -- civetweb's own errors come as HTTP/1.0, which support.server does
    -- not read; their text body starts "Error <status>:".
    status = tonumber(body:match("^Error (%d+):"))
  end
  return status, body
end

-- Ciphertexts the corpus spoils, made by this server at start-up.
local function make_ciphertexts()
  local _, b = send(client.huawei { action = "encrypt-data", host = host,
    body = { key_id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", plain_text = "bad input" } })
  ctx.hw_data = assert(cjson.decode(b).cipher_text)
  _, b = send(client.huawei { action = "create-datakey", host = host,
    body = { key_id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", datakey_length = "256" } })
  ctx.hw_datakey = assert(cjson.decode(b).cipher_text)
  for name, key in pairs { tc_blob = "23e80852-1e38-11e9-b129-5cb9019b4b01",
                           tc_blob_aes = "6d4f5e70-1e38-11e9-b129-5cb9019b4b06" } do
    _, b = send(client.tencent { action = "Encrypt", host = host,
      params = { KeyId = key, Plaintext = "YmFkIGlucHV0" } })
    ctx[name] = assert(cjson.decode(b).Response.CiphertextBlob)
  end
end

-- The error a dialect's body carries: code and message, or nil.
local function error_of(dialect, body)
  local t = cjson.decode(body)
  assert.is_table(t, "the body is not JSON: " .. tostring(body):sub(1, 200))
  if dialect == "tencent" then
    assert.is_table(t.Response, "no Response")
    assert.is_string(t.Response.RequestId, "no RequestId")
    local e = t.Response.Error
    return e and e.Code, e and e.Message
  end
  local e = type(t.error) == "table" and t.error or t
  return e.error_code, e.error_msg
end

local function check(c, status, body)
  local want_status, want_code = c.expect[1], c.expect[2]
  assert.are.equal(want_status, status, tostring(body):sub(1, 300))
  if c.expect.http_only then
    return -- civetweb's own answer, before any dialect sees the request
  end
  local code, msg = error_of(c.dialect, body)
  assert.are.equal(want_code, code, tostring(body):sub(1, 300))
  if want_code then
    assert.is_string(msg)
    if c.dialect == "huawei" and not want_code:find("^APIGW%.") then
      assert.is_table(cjson.decode(body).error, "KMS errors are nested under \"error\"")
    end
  end
end

describe("the bad-input corpus", function()
  setup(function()
    srv = server.start { "--scenario", "scenarios/default.lua" }
    assert.is_string(srv.url, "kmsemu did not start")
    host = srv.url:match("//(.*)")
    make_ciphertexts()
  end)

  teardown(function()
    server.stop(srv)
  end)

  it("has at least 200 cases with unique names", function()
    local seen = {}
    for _, c in ipairs(cases) do
      assert.is_nil(seen[c.name], c.name)
      seen[c.name] = true
    end
    assert.is_true(#cases >= 200, #cases .. " cases")
  end)

  for _, c in ipairs(cases) do
    it(c.name, function()
      local req = build.build(c, host, ctx)
      if c.spoil_body then
        req.body = c.spoil_body
      end
      local status, body = send(req, c.extra)
      if c.replay then
        status, body = send(req, c.extra)
      end
      check(c, status, body)
    end)
  end

  it("answers a normal request afterwards, from the same process", function()
    assert.is_true(os.execute(("kill -0 %d"):format(srv.pid)) == true, "kmsemu is gone")
    local status, body = send(client.tencent { action = "Encrypt", host = host,
      params = { KeyId = "23e80852-1e38-11e9-b129-5cb9019b4b01", Plaintext = "aGVsbG8=" } })
    assert.are.equal(200, status)
    local blob = cjson.decode(body).Response.CiphertextBlob
    status, body = send(client.tencent { action = "Decrypt", host = host,
      params = { CiphertextBlob = blob } })
    assert.are.equal(200, status)
    assert.are.equal("aGVsbG8=", cjson.decode(body).Response.Plaintext)
  end)
end)
