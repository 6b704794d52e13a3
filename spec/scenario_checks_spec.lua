-- A scenario does what it says or is refused: faults, hooks, keys and
-- journal filters that could never take effect are refused where they are
-- declared (file:line, or a 400 naming the field), with the name meant
-- when one is close.
local cjson = require "cjson"
local client = require "support.client"
local kmsemu = require "kmsemu"
local scenario = require "kmsemu.scenario"
local server = require "support.server"
local scenario_with = require("support.scenario_file").with

local TC_KEY = "23e80852-1e38-11e9-b129-5cb9019b4b01"

local function refusal(extra)
  local path = scenario_with(extra)
  local w, err = scenario.load(path)
  assert.is_nil(w, "loaded: " .. extra)
  return err, path
end

local function admin(...)
  return client.admin(kmsemu, ...)
end

describe("declarations that could never take effect", function()
  local refused = {
    { 'fault { action = "GenerateDatakey", error = "internal" }',
      "fault.action 'GenerateDatakey' is not an action of huawei or tencent (did you mean 'GenerateDataKey'?)" },
    { 'fault { dialect = "huawei", action = "Encrypt", error = "internal" }',
      "fault.action 'Encrypt' is not an action of huawei (did you mean 'encrypt'?)" },
    { 'fault { dialect = "huawei", error = "disabld" }',
      "fault.error 'disabld' is neither a neutral error" },
    { 'fault { error = "ResourceUnavailable.CmkDisable" }',
      "(did you mean 'ResourceUnavailable.CmkDisabled'?)" },
    { 'fault { action = "Encrypt", error = "KMS.0209" }',
      "fault.error 'KMS.0209' is a huawei code, but the fault acts in tencent only" },
    { 'fault { dialect = "tencent", key_id = "k1", error = "internal" }',
      "fault.key_id 'k1' is not a key id tencent requests can name (tencent: a UUID)" },
    { 'fault { action = "create-datakey", key_id = "0D0466B0-E727-4D9C-B35D-F84BB474A37F", error = "internal" }',
      "is not a key id huawei requests can name" },
    { 'fault { action = "Encrypt", message = "down", delay_ms = 5 }', "fault.message goes with error" },
    { 'on("tencent", "DescribeKeyy", function(req, res) return res end)',
      "on: action 'DescribeKeyy' is not an action of tencent (did you mean 'DescribeKey'?)" },
    { 'on("huawei", "GenerateDataKey", function(req, res) return res end)',
      "(did you mean 'generate_data_key'?)" },
    { 'cmk { id = "k1", dialect = "tencent" }', "cmk.id 'k1' is not a key id tencent requests can name (a UUID)" },
    { 'cmk { id = "0D0466B0-E727-4D9C-B35D-F84BB474A37E", dialect = "huawei" }',
      "is not a key id huawei requests can name (8-4-4-4-12 lower-case letters and digits)" },
    { 'cmk { id = "0d0466b0-e727-4d9c-b35d-f84bb474a37e", dialect = "huawei", deletion_date = 4102444800 }',
      'cmk.deletion_date goes with state = "pending_deletion"' },
    -- The base scenario declares seed and credentials already.
    { 'seed "again"', "seed is declared twice: declare it once" },
    { 'credentials { tencent = { secret_id = "AKIDx", secret_key = "s" } }',
      "credentials is declared twice: declare it once" },
    { 'clock { at = 0 }\nclock { frozen = true }', "clock is declared twice: declare it once" },
    { 'tencent_limits { cmks = 10 }\ntencent_limits { cmks = 20 }', "tencent_limits is declared twice" },
    { ('huawei_region { name = "cn-east-3", project_id = "%s" }\n'):rep(2):format(("e"):rep(32), ("f"):rep(32)),
      "huawei_region: duplicate name 'cn-east-3'" },
    { 'huawei_user { name = "a", ak = "AK1", sk = "s" }\nhuawei_user { name = "b", ak = "AK1", sk = "t" }',
      "huawei_user: duplicate ak 'AK1'" },
    { 'huawei_user { name = "a", token = "t1" }\nhuawei_user { name = "a", token = "t2" }',
      "huawei_user: duplicate name 'a'" },
    { ('huawei_keystore { id = "%s", alias = "ks1", type = "CDMS", cluster_id = "c" }\n'
        .. 'huawei_keystore { id = "%s", alias = "ks1", type = "CDMS", cluster_id = "c" }')
        :format("11111111-2222-4333-8444-555555555555", "11111111-2222-4333-8444-666666666666"),
      "huawei_keystore: duplicate alias 'ks1'" },
  }
  for _, r in ipairs(refused) do
    it("refuses " .. r[1], function()
      local err, path = refusal(r[1])
      assert.is_truthy(err:find(path .. ":%d+: "), err)
      assert.is_truthy(err:find(r[2], 1, true), err)
    end)
  end

  local accepted = {
    'fault { action = "generate_data_key", error = "internal" }',
    'fault { action = "*", error = "ResourceUnavailable.CmkDisabled" }',
    'fault { action = "DescribeWhiteBoxKey", error = "ResourceUnavailable.NotPurchased" }',
    'fault { action = "create-datakey", key_id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", error = "KMS.0105" }',
    'on("*", "describe_key", function(req, res) return res end)',
    'on("huawei", "describe-key", function(req, res) return res end)',
  }
  for _, src in ipairs(accepted) do
    it("accepts " .. src, function()
      assert.is_table(scenario.load(scenario_with(src)))
    end)
  end

  it("makes kmsemu check fail with file:line", function()
    local path = scenario_with('fault { action = "GenerateDatakey", error = "internal" }')
    local out = os.tmpname()
    local ok, _, code = os.execute(("%s check %s >%s 2>&1"):format(server.BIN, path, out))
    local text = server.read(out)
    os.remove(out)
    assert.is_nil(ok)
    assert.are.equal(2, code)
    assert.is_truthy(text:find(path .. ":%d+: fault.action 'GenerateDatakey'"), text)
  end)
end)

describe("the admin API refuses what could never take effect", function()
  before_each(function() assert(kmsemu.start { scenario = "scenarios/faults/errors.lua" } == nil) end)

  it("a fault with an unknown error code, naming the field; the SDK never sees the code", function()
    local status, body = admin("POST", "faults", '{"action":"Encrypt","error":"disabld"}')
    assert.are.equal(400, status)
    assert.is_truthy(body.error:find("fault.error 'disabld' is neither", 1, true), body.error)
    assert.is_truthy(body.error:find("(did you mean 'disabled'?)", 1, true), body.error)
    local res = kmsemu.handle(client.tencent { action = "Encrypt", params = { KeyId = TC_KEY, Plaintext = "aGk=" } })
    assert.is_nil(cjson.decode(res.body).Response.Error)
    assert.are.equal(400, (admin("POST", "faults", '{"action":"Decrypt","key_id":"nope","error":"internal"}')))
  end)

  it("a replacement scenario whose fault names an unknown action, with its line", function()
    local status, body = admin("PUT", "scenario", 'seed "x"\n\nfault { action = "DescribeKeyy", error = "internal" }')
    assert.are.equal(400, status)
    assert.is_truthy(body.error:find("admin:scenario:3: fault.action 'DescribeKeyy'", 1, true), body.error)
  end)

  it("journal queries with an unknown filter or a malformed value", function()
    local cases = {
      { "journal?bogus=1", "unknown filter 'bogus'" },
      { "journal?statuss=200", "(did you mean 'status'?)" },
      { "journal?status=abc", "filter status must be an integer, not 'abc'" },
      { "journal?since=1.5", "filter since must be an integer" },
      { "journal?limit=0", "limit must be a positive integer" },
      { "journal?dialect=huwaei", "(did you mean 'huawei'?)" },
      { "journal/count?limit=2", "unknown filter 'limit'" },
    }
    for _, c in ipairs(cases) do
      local status, body = admin("GET", c[1])
      assert.are.equal(400, status, c[1])
      assert.is_truthy(body.error:find(c[2], 1, true), c[1] .. ": " .. body.error)
    end
    assert.are.equal(200, (admin("GET", "journal?status=200&since=0&limit=5&method=POST")))
  end)

  it("journal filters from a scenario's hooks, naming the filter", function()
    local view = kmsemu.world().journal:view()
    local ok, err = pcall(view.count, { statuss = 200 })
    assert.is_false(ok)
    assert.is_truthy(err:find("unknown filter 'statuss'", 1, true), err)
    ok, err = pcall(view.query, { status = "200" })
    assert.is_false(ok)
    assert.is_truthy(err:find("filter status must be an integer", 1, true), err)
    assert.are.equal(0, view.count { status = 200, dialect = "tencent" })
  end)
end)
