-- The access log of the binary: one line per request, in text (the
-- default, on stderr) or JSON, to --log FILE, or none with --quiet; each
-- line names the request id the answer carries, and JSON lines agree with
-- the journal field for field.
local cjson = require "cjson"
local client = require "support.client"
local server = require "support.server"

local HW_KEY, TC_KEY = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", "6d4f5e70-1e38-11e9-b129-5cb9019b4b06"
local MISSING = "00000000-0000-4000-8000-000000000000"
local LINE = "^(%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ) (%S+) (%S+) (%d+) (%S+) ([%d.]+)ms"

local function scenario_file()
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(server.read("scenarios/default.lua"),
    '\nfault { id = "second-encrypt", action = "encrypt", every = 2, error = "internal" }\n')
  f:close()
  return path
end

local function host_of(s)
  return s.url:match("^http://(.*)$")
end

-- A mix of both dialects: successes, a missing key, the injected error.
-- Returns the request id of each answer, in order.
local function traffic(s)
  local host, ids = host_of(s), {}
  local function send(req)
    local status, headers, body = server.send(s, req)
    assert.is_number(status)
    local doc = cjson.decode(body)
    ids[#ids + 1] = headers["x-request-id"] or doc.Response.RequestId
    return doc
  end
  send(client.tencent { action = "GenerateDataKey", host = host, params = { KeyId = TC_KEY, KeySpec = "AES_256" } })
  for _ = 1, 2 do
    send(client.tencent { action = "Encrypt", host = host, params = { KeyId = TC_KEY, Plaintext = "aGk=" } })
  end
  send(client.tencent { action = "DescribeKey", host = host, params = { KeyId = MISSING } })
  send(client.huawei { action = "create-datakey", host = host, body = { key_id = HW_KEY } })
  for _ = 1, 2 do
    send(client.huawei { action = "encrypt-data", host = host, body = { key_id = HW_KEY, plain_text = "hi" } })
  end
  send(client.huawei { action = "describe-key", host = host, body = { key_id = MISSING } })
  return ids
end

local function lines_of(text)
  local out = {}
  for l in text:gmatch("[^\n]+") do
    out[#out + 1] = l
  end
  return out
end

local function journal(s)
  local _, _, body = server.send(s, { method = "GET", path = "/_kmsemu/journal", query = "", headers = {}, body = "" })
  return cjson.decode(body).entries
end

describe("the access log #http #logs", function()
  local scenario

  setup(function()
    scenario = scenario_file()
  end)

  teardown(function()
    os.remove(scenario)
  end)

  it("writes one text line per request to --log FILE, the answer's request id on it", function()
    local path = os.tmpname()
    local s = server.start { "--scenario", scenario, "--log", path }
    assert.is_string(s.url)
    local ids = traffic(s)
    assert.are.equal(0, (server.stop(s)))
    local l = lines_of(server.read(path))
    os.remove(path)
    assert.are.equal(8, #l, table.concat(l, "\n"))
    local want = {
      { "tencent", "GenerateDataKey", "200", "-" },
      { "tencent", "Encrypt", "200", "-" },
      { "tencent", "Encrypt", "200", "InternalError" },
      { "tencent", "DescribeKey", "200", "ResourceUnavailable.CmkNotFound" },
      { "huawei", "create-datakey", "200", "-" },
      { "huawei", "encrypt-data", "200", "-" },
      { "huawei", "encrypt-data", "500", "KMS.0101" },
      { "huawei", "describe-key", "404", "KMS.0207" },
    }
    for i, w in ipairs(want) do
      local _, dialect, action, status, code = l[i]:match(LINE)
      assert.are.same(w, { dialect, action, status, code }, l[i])
      assert.is_truthy(l[i]:find(" request_id=" .. ids[i], 1, true), l[i])
      assert.is_truthy(l[i]:find(" key=", 1, true), l[i])
    end
    assert.matches(' faults=second%-encrypt .* reason="injected by fault second%-encrypt"$', l[3])
    assert.matches(' reason="injected by fault second%-encrypt"$', l[7])
    assert.matches(' reason="The key does not exist%."$', l[8])
    assert.is_nil(l[1]:find("reason=", 1, true))
  end)

  it("writes JSON lines that agree with the journal", function()
    local path = os.tmpname()
    local s = server.start { "--scenario", scenario, "--log", path, "--log-format", "json" }
    local ids = traffic(s)
    local entries = journal(s)
    assert.are.equal(0, (server.stop(s)))
    local l = lines_of(server.read(path))
    os.remove(path)
    assert.are.equal(#entries, #l)
    for i, text in ipairs(l) do
      local got, e = cjson.decode(text), entries[i]
      assert.are.equal(ids[i], got.request_id)
      for _, f in ipairs { "dialect", "action", "key_id", "caller", "method", "path", "status", "reason" } do
        assert.are.equal(e[f], got[f], f .. " of " .. text)
      end
      assert.are.equal(e.error or cjson.null, got.error or cjson.null)
      -- The journal keeps the request id of an error only.
      assert.are.equal(e.error and got.request_id or nil, e.request_id)
      assert.are.equal(os.date("!%Y-%m-%dT%H:%M:%SZ", e.time), got.time)
      assert.is_true(got.latency_ms >= 0 and math.abs(got.latency_ms - e.latency_ms) <= 0.5, text)
    end
    assert.are.same({ "second-encrypt" }, cjson.decode(l[3]).faults)
  end)

  it("logs to stderr by default, and nothing with --quiet", function()
    local s = server.start { "--scenario", scenario }
    traffic(s)
    local _, err = server.stop(s)
    local n = 0
    for _, l in ipairs(lines_of(err)) do
      n = n + (l:find(LINE) and 1 or 0)
    end
    assert.are.equal(8, n, err)
    s = server.start { "--scenario", scenario, "--quiet" }
    traffic(s)
    _, err = server.stop(s)
    assert.are.equal("kmsemu: signal 15, stopping\n", err)
  end)

  it("writes a line out within a tick while the server goes on", function()
    local path = os.tmpname()
    local s = server.start { "--scenario", scenario, "--log", path }
    traffic(s)
    local seen = server.eventually(function() return #lines_of(server.read(path) or "") == 8 end)
    server.stop(s)
    os.remove(path)
    assert.is_true(seen)
  end)

  it("refuses an unknown format and a file it cannot open, before it listens", function()
    local s = server.start { "--scenario", scenario, "--log-format", "xml" }
    local status, err = server.wait(s)
    assert.are.equal(2, status)
    assert.are.equal("kmsemu: --log-format must be one of text, json, not 'xml'\n", err)
    s = server.start { "--scenario", scenario, "--log", "/nonexistent/dir/access.log" }
    status, err = server.wait(s)
    assert.are.equal(2, status)
    assert.matches("^kmsemu: %-%-log: /nonexistent/dir/access%.log: No such file or directory\n$", err)
  end)
end)
