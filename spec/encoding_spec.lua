-- Each answer is built as a document, shaped as one and encoded once.
-- Lists the clouds declare as arrays read [] when empty, by a marker no
-- request text can be; hooks change the document before it is encoded,
-- or send a raw body instead; the journal keeps the error of the answer
-- as it went out.
local cjson = require "cjson"
local client = require "support.client"
local kmsemu = require "kmsemu"
local scenario_file = require "support.scenario_file"

local HW_KEY = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
local TC_KEY = "23e80852-1e38-11e9-b129-5cb9019b4b01"

local function start(extra)
  assert(kmsemu.start { scenario = scenario_file.with(extra or "") } == nil)
end

local function hw(action, body, opts)
  return client.huawei_call(kmsemu, action, body, opts)
end

-- The response of a Huawei call whose answer may not be JSON.
local function hw_raw(action, body)
  return kmsemu.handle(client.huawei { action = action, body = body })
end

local function tc(action, params)
  local res = kmsemu.handle(client.tencent { action = action, params = params })
  return cjson.decode(res.body).Response, res
end

local function tags_path(id)
  return ("/v1.0/%s/kms/%s/tags"):format(client.HUAWEI.project_id, id)
end

describe("the empty-array marker", function()
  before_each(function() start() end)

  -- The marker kmsemu used before, and its shape with any suffix.
  local FORGERIES = { "\1kmsemu-empty-array\1", "kmsemu-empty-array-00000000000000000000000000000000" }

  it("cannot be forged through a Huawei key description", function()
    for _, text in ipairs(FORGERIES) do
      assert.are.equal(200, (hw("update-key-description", { key_id = HW_KEY, key_description = text })))
      local _, r, res = hw("describe-key", { key_id = HW_KEY })
      assert.are.equal(text, r.key_info.key_description, res.body)
    end
  end)

  it("cannot be forged through a Tencent key description", function()
    for _, text in ipairs(FORGERIES) do
      assert.is_nil(tc("UpdateKeyDescription", { KeyId = TC_KEY, Description = text }).Error)
      local r, res = tc("DescribeKey", { KeyId = TC_KEY })
      assert.are.equal(text, r.KeyMetadata.Description, res.body)
    end
  end)

  it("still writes an empty list as [] and a full one as a list", function()
    local _, _, res = hw(nil, "", { method = "GET", path = tags_path(HW_KEY) })
    assert.matches('"tags":%[%]', res.body)
    local r, tres = tc("ListKeys", { Limit = 1 })
    assert.are.equal(1, #r.Keys)
    assert.matches('"Keys":%[{', tres.body)
    assert.is_nil(tres.body:find("\\/", 1, true), "no escaped slash goes out")
  end)
end)

describe("hooks", function()
  it("get the document: an empty list is a table, and stays [] unless they fill it", function()
    start([[
on("huawei", "show-kms-tags", function(req, res)
  res.headers["X-Tags-Type"] = type(res.json.tags) .. " " .. #res.json.tags
  return res
end)
on("tencent", "ListKeys", function(req, res)
  res.json.Response.Keys = {}
  return res
end)
on("tencent", "GetServiceStatus", function(req, res)
  table.insert(res.json.Response.ExclusiveHSMList, "hsm-1")
  return res
end)
]])
    local _, _, res = hw(nil, "", { method = "GET", path = tags_path(HW_KEY) })
    assert.are.equal("table 0", res.headers["X-Tags-Type"])
    assert.matches('"tags":%[%]', res.body)
    local _, lres = tc("ListKeys", {})
    assert.matches('"Keys":{}', lres.body) -- a new table: nothing marks it a list
    local s = tc("GetServiceStatus", {})
    assert.are.same({ "hsm-1" }, s.ExclusiveHSMList)
  end)

  it("keep a list they empty a JSON array", function()
    start([[
on("tencent", "ListKeys", function(req, res)
  local keys = res.json.Response.Keys
  while #keys > 0 do table.remove(keys) end
  return res
end)
]])
    local _, res = tc("ListKeys", {})
    assert.matches('"Keys":%[%]', res.body)
  end)

  it("read body as the JSON of the document so far, and may send raw bytes instead", function()
    start([[
on("tencent", "DescribeKey", function(req, res)
  res.json.Response.KeyMetadata.Description = "first"
  return res
end)
on("tencent", "DescribeKey", function(req, res)
  res.headers["X-Saw-First"] = tostring(res.body:find('"Description":"first"', 1, true) ~= nil)
  return res
end)
on("huawei", "describe-key", function(req, res)
  res.status, res.body = 503, "upstream connect error"
  return res
end)
]])
    local r, res = tc("DescribeKey", { KeyId = TC_KEY })
    assert.are.equal("first", r.KeyMetadata.Description)
    assert.are.equal("true", res.headers["X-Saw-First"])
    local hres = hw_raw("describe-key", { key_id = HW_KEY })
    assert.are.equal(503, hres.status)
    assert.are.equal("upstream connect error", hres.body)
  end)

  it("leave the dialect's own tables as they were", function()
    start([[
on("tencent", "GetRegions", function(req, res)
  res.json.Response.Regions[1] = "changed"
  return res
end)
]])
    local first = tc("GetRegions", {}).Regions
    local second = tc("GetRegions", {}).Regions
    assert.are.equal("changed", first[1])
    assert.are.equal("changed", second[1])
    assert.are.equal(#first, #second)
    kmsemu.start { scenario = "scenarios/default.lua" }
    assert.are_not.equal("changed", tc("GetRegions", {}).Regions[1])
  end)
end)

describe("the journal's error", function()
  it("is the dialect's, or the shaped answer's when a hook changed it", function()
    start([[
on("tencent", "DescribeKey", function(req, res)
  res.json.Response.Error = { Code = "InternalError", Message = "shaped" }
  return res
end)
on("huawei", "describe-key", function(req, res)
  res.status, res.body = 503, "upstream connect error"
  return res
end)
]])
    tc("DescribeKey", { KeyId = TC_KEY })
    hw_raw("describe-key", { key_id = HW_KEY })
    hw_raw("describe-key", { key_id = "00000000-0000-4000-8000-000000000000" })
    tc("Encrypt", { KeyId = "00000000-0000-4000-8000-000000000000", Plaintext = "aGk=" })
    local got = {}
    for _, e in ipairs(kmsemu.world().journal:query {}) do
      got[#got + 1] = { e.action, e.status, e.error or "-", e.message or "-" }
    end
    assert.are.same({
      { "DescribeKey", 200, "InternalError", "shaped" },
      { "describe-key", 503, "-", "-" },
      { "describe-key", 503, "-", "-" },
      { "Encrypt", 200, "ResourceUnavailable.CmkNotFound", "The CMK does not exist. 00000000-0000-4000-8000-000000000000" },
    }, got)
  end)
end)
