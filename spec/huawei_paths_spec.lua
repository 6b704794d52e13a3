-- The path contract: the request table's path is the path as civetweb
-- gives it, percent-decoded once, and nothing in kmsemu decodes it again.
-- A Huawei tag key holding "%" or "/" (sent as %25 and %2F) is reached as
-- itself, and the signature over the SDK's encoding of the path holds.
local client = require "support.client"
local kmsemu = require "kmsemu"
local server = require "support.server"

local P = client.HUAWEI.project_id
local KEY = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"

local function tags_path(rest)
  return ("/v1.0/%s/kms/%s/tags%s"):format(P, KEY, rest or "")
end

-- Tag keys and how the SDKs send each in a path (quote(key, safe="")).
local KEYS = { { key = "a%41", wire = "a%2541" }, { key = "x/y", wire = "x%2Fy" },
               { key = "100%/day", wire = "100%25%2Fday" } }

-- One way to send a request: in-process, or over HTTP to the binary
-- (host() gives the Host it signs for).
local function runs(send, host)
  local function call(o)
    o.host = host and host()
    return send(client.huawei(o))
  end

  local function shown()
    local status, body = call { method = "GET", body = "", path = tags_path() }
    assert.are.equal(200, status)
    local keys = {}
    for _, t in ipairs(client.json { body = body }.tags) do
      keys[#keys + 1] = t.key
    end
    return keys
  end

  it("creates, lists and deletes tag keys holding % and / by their own names", function()
    assert.are.equal(204, (call { body = { tag = { key = "aA", value = "plain" } }, path = tags_path() }))
    for _, k in ipairs(KEYS) do
      assert.are.equal(204, (call { body = { tag = { key = k.key, value = "v" } }, path = tags_path() }))
    end
    assert.are.same({ "100%/day", "a%41", "aA", "x/y" }, shown())
    for i, k in ipairs(KEYS) do
      local status, body = call { method = "DELETE", body = "", path = tags_path("/" .. k.wire) }
      assert.are.equal(204, status, body)
      assert.are.equal(#KEYS - i + 1, #shown())
    end
    assert.are.same({ "aA" }, shown())
    local status, body = call { method = "DELETE", body = "", path = tags_path("/a%2541") }
    assert.are.equal(404, status)
    assert.are.equal("KMS.0416", client.json { body = body }.error.error_code)
    assert.are.same({ "aA" }, shown())
  end)
end

describe("huawei paths in-process", function()
  before_each(function()
    assert(kmsemu.start { scenario = "scenarios/huawei.lua" } == nil)
  end)

  runs(function(req)
    local res = kmsemu.handle(req)
    return res.status, res.body
  end)

  it("takes the path decoded: the signed request carries it so", function()
    local req = client.huawei { method = "DELETE", body = "", path = tags_path("/x%2Fy") }
    assert.are.equal(tags_path("/x/y"), req.path)
    assert.are.equal(tags_path("/x%2Fy"), req.wire_path)
  end)

  it("journals the key a tag path names", function()
    kmsemu.handle(client.huawei { method = "DELETE", body = "", path = tags_path("/x%2Fy") })
    assert.are.equal(1, kmsemu.world().journal:count { action = "delete-tag", key_id = KEY })
  end)
end)

describe("huawei paths through the binary #http", function()
  local s

  lazy_setup(function()
    s = server.start { "--scenario", "scenarios/huawei.lua" }
    assert.is_string(s.url, "the binary did not announce its address")
  end)

  lazy_teardown(function()
    assert.are.equal(0, (server.stop(s)))
  end)

  runs(function(req)
    local o = {}
    for k, v in pairs(req) do
      o[k] = v
    end
    o.path = req.wire_path
    local status, _, body = server.send(s, o)
    return status, body
  end, function() return s.url:match("^http://(.*)$") end)
end)
