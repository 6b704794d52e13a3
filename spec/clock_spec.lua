-- Fake time (clock{} and /_kmsemu/clock) and keys made over the admin API,
-- through the router: the clock moves key lifecycles, not signatures.
local cjson = require "cjson"
local client = require "support.client"
local kmsemu = require "kmsemu"
local scenario_file = require "support.scenario_file"
local util = require "kmsemu.util"

local TC_KEY = "23e80852-1e38-11e9-b129-5cb9019b4b01"
local JAN_1 = 1767225600 -- 2026-01-01T00:00:00Z

local function start_with(extra)
  assert(kmsemu.start { scenario = scenario_file.with(extra) } == nil)
end

local function admin(method, path, body)
  local res = kmsemu.handle { method = method, path = "/_kmsemu/" .. path, query = "", headers = {},
    body = body and cjson.encode(body) or "", remote_addr = "127.0.0.1" }
  return res.status, cjson.decode(res.body)
end

local function tc(action, params)
  return cjson.decode(kmsemu.handle(client.tencent { action = action, params = params }).body).Response
end

local function hw(action, body)
  return cjson.decode(kmsemu.handle(client.huawei { action = action, body = body }).body)
end

local function hw_status(action, body)
  return kmsemu.handle(client.huawei { action = action, body = body }).status
end

local function code(r)
  return r.Error and r.Error.Code or "ok"
end

describe("clock{}", function()
  after_each(function() util.clock_set(util.wall()) end)

  it("starts the emulated time at an instant and keeps it frozen; signatures still verify", function()
    start_with('clock { at = "2026-01-01T00:00:00Z", frozen = true }')
    local _, c = admin("GET", "clock")
    assert.are.same({ now = JAN_1, iso = "2026-01-01T00:00:00Z", frozen = true }, { now = c.now, iso = c.iso, frozen = c.frozen })
    local r = tc("DescribeKey", { KeyId = TC_KEY })
    assert.are.equal("ok", code(r))
    assert.are.equal(JAN_1, r.KeyMetadata.CreateTime)
  end)

  it("ends a pending deletion when advanced past its date: the key is gone", function()
    start_with('clock { at = "2026-01-01T00:00:00Z", frozen = true }')
    assert.are.equal("ok", code(tc("DisableKey", { KeyId = TC_KEY })))
    local r = tc("ScheduleKeyDeletion", { KeyId = TC_KEY, PendingWindowInDays = 7 })
    local ends = JAN_1 + 7 * 86400 + 16 * 3600 - 1 -- 23:59:59 Beijing time, 7 days on
    assert.are.equal(ends, r.DeletionDate)
    admin("POST", "clock", { advance = ends - JAN_1 - 1 })
    assert.are.equal("PendingDelete", tc("DescribeKey", { KeyId = TC_KEY }).KeyMetadata.KeyState)
    local status, c = admin("POST", "clock", { advance = 1 })
    assert.are.equal(200, status)
    assert.are.equal(ends, c.now)
    assert.are.equal("ResourceUnavailable.CmkNotFound", code(tc("DescribeKey", { KeyId = TC_KEY })))
  end)

  it("ends keys declared pending deletion at each cloud's shortest window, or their own date", function()
    start_with('clock { at = "2026-01-01T00:00:00Z", frozen = true }\n'
      .. 'cmk { id = "0a000000-0000-4000-8000-00000000000a", dialect = "tencent", state = "pending_deletion" }\n'
      .. 'cmk { id = "0a000000-0000-4000-8000-00000000000b", dialect = "huawei", state = "pending_deletion" }\n'
      .. 'cmk { id = "0a000000-0000-4000-8000-00000000000c", dialect = "huawei", state = "pending_deletion", '
      .. ('deletion_date = %d }'):format(JAN_1 + 30 * 86400))
    local tc_key, hw_key, later = "0a000000-0000-4000-8000-00000000000a", "0a000000-0000-4000-8000-00000000000b",
      "0a000000-0000-4000-8000-00000000000c"
    local tc_ends = JAN_1 + 7 * 86400 + 16 * 3600 - 1 -- 23:59:59 Beijing time, 7 days on
    local hw_ends = JAN_1 + 7 * 86400
    assert.are.equal(tc_ends, tc("DescribeKey", { KeyId = tc_key }).KeyMetadata.DeletionDate)
    assert.are.equal(tostring(hw_ends * 1000), hw("describe-key", { key_id = hw_key }).key_info.scheduled_deletion_date)
    admin("POST", "clock", { advance = hw_ends - JAN_1 - 1 })
    assert.are.equal(200, hw_status("describe-key", { key_id = hw_key }))
    admin("POST", "clock", { advance = 1 })
    assert.are.equal(404, hw_status("describe-key", { key_id = hw_key }))
    assert.are.equal("PendingDelete", tc("DescribeKey", { KeyId = tc_key }).KeyMetadata.KeyState)
    admin("POST", "clock", { advance = tc_ends - hw_ends })
    assert.are.equal("ResourceUnavailable.CmkNotFound", code(tc("DescribeKey", { KeyId = tc_key })))
    assert.are.equal(200, hw_status("describe-key", { key_id = later }))
    admin("POST", "clock", { advance = 30 * 86400 })
    assert.are.equal(404, hw_status("describe-key", { key_id = later }))
  end)

  it("gives a key put in pending deletion over the admin API a date too", function()
    start_with('clock { at = "2026-01-01T00:00:00Z", frozen = true }')
    assert.are.equal(200, (admin("POST", "keys/state",
      { dialect = "tencent", owner = "ap-guangzhou", id = TC_KEY, state = "pending_deletion" })))
    assert.are.equal(JAN_1 + 7 * 86400 + 16 * 3600 - 1, tc("DescribeKey", { KeyId = TC_KEY }).KeyMetadata.DeletionDate)
  end)

  it("is set, frozen and released over the admin API, and refuses nonsense", function()
    start_with("")
    local _, c = admin("POST", "clock", { set = "2030-06-01T12:00:00Z", frozen = true })
    assert.are.same({ "2030-06-01T12:00:00Z", true }, { c.iso, c.frozen })
    -- Released, it runs on from where it stood: by no more than the
    -- machine's clock moved meanwhile.
    local before = util.wall()
    _, c = admin("POST", "clock", { frozen = false })
    local ran = util.wall() - before
    assert.is_false(c.frozen)
    local moved = c.now - util.parse_instant("2030-06-01T12:00:00Z")
    assert.is_true(moved >= 0 and moved <= ran, ("moved %d s in %d s"):format(moved, ran))
    assert.are.equal(400, (admin("POST", "clock", { set = "tomorrow" })))
    assert.are.equal(400, (admin("POST", "clock", { advance = 1.5 })))
  end)

  it("refuses a bad declaration with file:line", function()
    assert.is_truthy(kmsemu.start { scenario = "/dev/null" } == nil)
    for _, bad in ipairs { 'clock { at = "noon" }', 'clock { speed = 2 }', 'clock { frozen = "yes" }' } do
      local path = os.tmpname()
      local f = assert(io.open(path, "wb"))
      f:write(bad, "\n")
      f:close()
      local err = kmsemu.start { scenario = path }
      assert.is_truthy(err and err:find(path .. ":1: clock", 1, true), err)
    end
  end)
end)

describe("POST /_kmsemu/keys", function()
  it("creates a key as cmk{} would, usable at once, and refuses a bad or duplicate one", function()
    start_with("")
    local status, k = admin("POST", "keys", { dialect = "tencent", spec = "AES_256", alias = "made-live" })
    assert.are.equal(201, status)
    assert.are.same({ "tencent", "ap-guangzhou", "AES_256", "enabled" }, { k.dialect, k.owner, k.spec, k.state })
    local r = tc("GenerateDataKey", { KeyId = k.id, KeySpec = "AES_256" })
    assert.are.equal(k.id, r.KeyId)
    status, k = admin("POST", "keys", { dialect = "huawei", id = "6c1f0c0e-1111-4222-8333-444455556666",
                                        spec = "SM4", state = "disabled" })
    assert.are.equal(201, status)
    assert.are.equal("0a1b2c3d4e5f60718293a4b5c6d7e8f9", k.owner)
    assert.are.equal(409, (admin("POST", "keys", { dialect = "huawei", id = "6c1f0c0e-1111-4222-8333-444455556666" })))
    local bad, e = admin("POST", "keys", { dialect = "tencent", spec = "AES_512" })
    assert.are.equal(400, bad)
    assert.is_truthy(e.error:find("AES_512", 1, true), e.error)
  end)
end)

describe("connection and rate faults over the admin API", function()
  it("are added, take effect, and are removed at run time", function()
    start_with("")
    local status, f = admin("POST", "faults", { action = "GenerateRandom", connection = { effect = "drip", bytes = 4 } })
    assert.are.equal(201, status)
    local res = kmsemu.handle(client.tencent { action = "GenerateRandom", params = { NumberOfBytes = 8 } })
    assert.are.same({ bytes = 4, every_ms = 100 }, res.drip)
    assert.are.equal(200, (admin("DELETE", "faults/" .. f.id)))
    finally(function() util.clock_set(util.wall()) end)
    admin("POST", "clock", { frozen = true }) -- the bucket stays empty until told
    status = admin("POST", "faults", { action = "GenerateRandom", rate = 1, burst = 1 })
    assert.are.equal(201, status)
    assert.are.equal("ok", code(tc("GenerateRandom", { NumberOfBytes = 8 })))
    assert.are.equal("RequestLimitExceeded", code(tc("GenerateRandom", { NumberOfBytes = 8 })))
    assert.are.equal(400, (admin("POST", "faults", { action = "Encrypt", connection = "explode" })))
  end)
end)
