-- Huawei key lifecycle through the router: create-key with each spec and
-- usage, describe-key, list-keys paging and filters, the state machine
-- with its codes, alias and description, counters and versions.
local client = require "support.client"
local huawei = require "support.huawei"
local kmsemu = require "kmsemu"

local P = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
local AES = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
local DISABLED = "7e1d2c3b-4a59-4687-9abc-def012345678"
local PENDING_DELETION = "8a9b0c1d-2e3f-4051-8617-28394a5b6c7d"
local PENDING_IMPORT = "9b8a7c6d-5e4f-4321-8fed-cba987654321"
local DEFAULT_KEY = "c0000001-0000-4000-8000-000000000001"
local OTHER_PROJECT_KEY = "3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b"

local function call(action, body, opts)
  return client.huawei_call(kmsemu, action, body, opts)
end

local assert_error = huawei.assert_error

local n = 0
local function create(fields)
  n = n + 1
  fields.key_alias = fields.key_alias or ("spec/key-" .. n)
  local status, r = call("create-key", fields)
  assert.are.equal(200, status, require("cjson").encode(r))
  return r.key_info.key_id
end

local function describe_key(id)
  local status, r = call("describe-key", { key_id = id })
  assert.are.equal(200, status)
  return r.key_info
end

before_each(function()
  assert(kmsemu.start { scenario = "scenarios/huawei.lua" } == nil)
end)

describe("huawei create-key", function()
  it("answers key_info with the key id, domain and region", function()
    local status, r = call("create-key", { key_alias = "spec/first" })
    assert.are.equal(200, status)
    assert.is_true(require("kmsemu.util").is_uuid(r.key_info.key_id))
    assert.are.equal("d0d1d2d3d4d5d6d7d8d9dadbdcdddedf", r.key_info.domain_id)
    assert.are.equal("cn-north-4", r.key_info.region_id)
  end)

  it("accepts every spec with each usage it allows, defaulting the usage", function()
    local cases = {
      { "AES_256", nil, "ENCRYPT_DECRYPT" }, { "SM4", "ENCRYPT_DECRYPT", "ENCRYPT_DECRYPT" },
      { "RSA_2048", nil, "SIGN_VERIFY" }, { "RSA_3072", "ENCRYPT_DECRYPT", "ENCRYPT_DECRYPT" },
      { "RSA_4096", "SIGN_VERIFY", "SIGN_VERIFY" }, { "EC_P256", nil, "SIGN_VERIFY" },
      { "EC_P384", "SIGN_VERIFY", "SIGN_VERIFY" }, { "SECP256K1", nil, "SIGN_VERIFY" },
      { "SM2", "ENCRYPT_DECRYPT", "ENCRYPT_DECRYPT" }, { "SM2", nil, "SIGN_VERIFY" },
      { "ED25519", nil, "SIGN_VERIFY" }, { "HMAC_256", nil, "GENERATE_VERIFY_MAC" },
      { "HMAC_384", nil, "GENERATE_VERIFY_MAC" }, { "HMAC_512", nil, "GENERATE_VERIFY_MAC" },
      { "HMAC_SM3", nil, "GENERATE_VERIFY_MAC" },
    }
    for _, c in ipairs(cases) do
      local info = describe_key(create { key_spec = c[1], key_usage = c[2] })
      assert.are.equal(c[1], info.key_spec)
      assert.are.equal(c[3], info.key_usage, c[1])
      assert.are.equal("2", info.key_state)
    end
  end)

  it("refuses usages a spec cannot have, each with its code", function()
    assert_error(400, "KMS.1115", call("create-key", { key_alias = "x1", key_usage = "SIGN_VERIFY" }))
    assert_error(400, "KMS.1114", call("create-key", { key_alias = "x2", key_spec = "EC_P256",
      key_usage = "ENCRYPT_DECRYPT" }))
    assert_error(400, "KMS.0341", call("create-key", { key_alias = "x3", key_spec = "HMAC_256",
      key_usage = "ENCRYPT_DECRYPT" }))
    assert_error(400, "KMS.0308", call("create-key", { key_alias = "x4", key_usage = "WRAP" }))
    assert_error(400, "KMS.0308", call("create-key", { key_alias = "x5", key_spec = "DES" }))
  end)

  it("checks the alias: required, pattern, no /default suffix, unique", function()
    assert_error(400, "KMS.0204", call("create-key", {}))
    assert_error(400, "KMS.1101", call("create-key", { key_alias = "has space" }))
    assert_error(400, "KMS.1101", call("create-key", { key_alias = ("a"):rep(256) }))
    assert_error(400, "KMS.1101", call("create-key", { key_alias = "mine/default" }))
    assert_error(400, "KMS.1104", call("create-key", { key_alias = "hw/aes" }))
    assert_error(400, "KMS.1103", call("create-key", { key_alias = "ok", key_description = ("d"):rep(256) }))
  end)

  it("starts an external key pending import, a kms key enabled", function()
    local info = describe_key(create { origin = "external" })
    assert.are.equal("5", info.key_state)
    assert.are.equal("external", info.origin)
    assert.are.equal("kms", describe_key(create {}).origin)
    assert_error(400, "KMS.0308", call("create-key", { key_alias = "o", origin = "cloud" }))
  end)

  it("stops at the CMK quota with KMS.1105", function()
    local quota = require("kmsemu.dialect.huawei.keys").CMK_QUOTA
    local _, q = call("user-quotas", "", { method = "GET" })
    for _ = q.quotas.resources[1].used + 1, quota do
      create {}
    end
    assert_error(400, "KMS.1105", call("create-key", { key_alias = "one-too-many" }))
  end)
end)

describe("huawei describe-key", function()
  it("prints every KeyDetails field as a string", function()
    local info = describe_key(AES)
    local fields = { "key_id", "domain_id", "key_alias", "realm", "key_spec", "key_usage",
      "key_description", "creation_date", "scheduled_deletion_date", "key_state",
      "default_key_flag", "key_type", "expiration_time", "origin", "key_rotation_enabled",
      "sys_enterprise_project_id", "keystore_id" }
    for _, f in ipairs(fields) do
      assert.is_string(info[f], f)
    end
    assert.matches("^%d+000$", info.creation_date)
    assert.are.equal("", info.scheduled_deletion_date)
    assert.are.equal("0", info.default_key_flag)
    assert.are.equal("false", info.key_rotation_enabled)
    assert.are.equal("1", describe_key(DEFAULT_KEY).default_key_flag)
  end)

  it("shows each state as its code", function()
    assert.are.equal("3", describe_key(DISABLED).key_state)
    assert.are.equal("4", describe_key(PENDING_DELETION).key_state)
    assert.are.equal("4102444800000", describe_key(PENDING_DELETION).scheduled_deletion_date)
    assert.are.equal("5", describe_key(PENDING_IMPORT).key_state)
  end)

  it("answers 404 KMS.0207 for an unknown key or one of another project, 400 KMS.0205 for a bad id", function()
    assert_error(404, "KMS.0207", call("describe-key", { key_id = "00000000-0000-4000-8000-000000000000" }))
    assert_error(404, "KMS.0207", call("describe-key", { key_id = OTHER_PROJECT_KEY }))
    assert_error(400, "KMS.0205", call("describe-key", { key_id = "NOT-A-KEY" }))
    assert_error(400, "KMS.0204", call("describe-key", {}))
  end)
end)

describe("huawei list-keys", function()
  it("lists AES_256 keys by default and every key with ALL", function()
    local _, r = call("list-keys", {})
    for _, d in ipairs(r.key_details) do
      assert.are.equal("AES_256", d.key_spec)
    end
    local _, all = call("list-keys", { key_spec = "ALL" })
    assert.is_true(all.total > r.total)
    assert.are.equal(all.total, #all.keys)
    assert.are.equal("false", all.truncated)
    assert.are.equal("", all.next_marker)
    assert.are.equal(all.keys[1], all.key_details[1].key_id)
  end)

  it("filters by spec and state", function()
    local _, r = call("list-keys", { key_spec = "SM4" })
    assert.are.equal(1, r.total)
    _, r = call("list-keys", { key_spec = "ALL", key_state = "5" })
    assert.are.same({ PENDING_IMPORT }, r.keys)
    assert_error(400, "KMS.0308", call("list-keys", { key_state = "9" }))
    assert_error(400, "KMS.0308", call("list-keys", { key_spec = "DES" }))
  end)

  it("pages with limit and marker as strings", function()
    local _, all = call("list-keys", { key_spec = "ALL" })
    local seen, marker = {}, nil
    repeat
      local status, r = call("list-keys", { key_spec = "ALL", limit = "4", marker = marker })
      assert.are.equal(200, status)
      assert.is_true(#r.keys <= 4)
      for _, id in ipairs(r.keys) do
        seen[#seen + 1] = id
      end
      assert.are.equal(all.total, r.total)
      marker = r.next_marker
      assert.are.equal(marker ~= "", r.truncated == "true")
    until r.truncated == "false"
    assert.are.same(all.keys, seen)
  end)

  it("answers an empty page with [] lists", function()
    local _, r, raw = call("list-keys", { key_spec = "ALL", marker = "1000" })
    assert.are.equal(0, #r.keys)
    assert.matches('"keys":%[%]', raw.body)
    assert.matches('"key_details":%[%]', raw.body)
  end)

  it("refuses bad limit (KMS.1601) and marker (KMS.1602)", function()
    assert_error(400, "KMS.1601", call("list-keys", { limit = "0" }))
    assert_error(400, "KMS.1601", call("list-keys", { limit = "x" }))
    assert_error(400, "KMS.1602", call("list-keys", { marker = "-1" }))
  end)
end)

describe("huawei key states", function()
  it("disables only an enabled key and enables only a disabled one", function()
    local id = create {}
    local status, r = call("disable-key", { key_id = id })
    assert.are.equal(200, status)
    assert.are.same({ key_id = id, key_state = "3" }, r.key_info)
    assert_error(400, "KMS.1301", call("disable-key", { key_id = id }))
    status, r = call("enable-key", { key_id = id })
    assert.are.same({ key_id = id, key_state = "2" }, r.key_info)
    assert_error(400, "KMS.1201", call("enable-key", { key_id = id }))
    assert_error(400, "KMS.1201", call("enable-key", { key_id = PENDING_DELETION }))
    assert_error(400, "KMS.1301", call("disable-key", { key_id = PENDING_IMPORT }))
  end)

  it("schedules deletion 7 to 1096 days out and cancels it back to disabled", function()
    local id = create {}
    assert_error(400, "KMS.1401", call("schedule-key-deletion", { key_id = id, pending_days = "6" }))
    assert_error(400, "KMS.1401", call("schedule-key-deletion", { key_id = id, pending_days = "1097" }))
    assert_error(400, "KMS.0204", call("schedule-key-deletion", { key_id = id }))
    local status, r = call("schedule-key-deletion", { key_id = id, pending_days = "7" })
    assert.are.equal(200, status)
    assert.are.same({ key_id = id, key_state = "4" }, r)
    local info = describe_key(id)
    -- Seven days from the scheduling, which may be a second after the
    -- creation.
    local ahead = tonumber(info.scheduled_deletion_date) - tonumber(info.creation_date)
    assert.is_true(ahead >= 7 * 86400000 and ahead <= 7 * 86400000 + 2000, tostring(ahead))
    assert_error(400, "KMS.1402", call("schedule-key-deletion", { key_id = id, pending_days = "7" }))
    assert_error(400, "KMS.0210", call("encrypt-data", { key_id = id, plain_text = "x" }))
    status, r = call("cancel-key-deletion", { key_id = id })
    assert.are.same({ key_id = id, key_state = "3" }, r)
    assert.are.equal("", describe_key(id).scheduled_deletion_date)
    assert_error(400, "KMS.1501", call("cancel-key-deletion", { key_id = id }))
    assert_error(400, "KMS.0209", call("encrypt-data", { key_id = id, plain_text = "x" }))
  end)

  it("returns a pending-import key to pending import when its deletion is cancelled", function()
    call("schedule-key-deletion", { key_id = PENDING_IMPORT, pending_days = "30" })
    local _, r = call("cancel-key-deletion", { key_id = PENDING_IMPORT })
    assert.are.equal("5", r.key_state)
  end)

  it("forgets a key once its deletion date has passed", function()
    local util = require "kmsemu.util"
    local id = create {}
    call("schedule-key-deletion", { key_id = id, pending_days = "7" })
    local now = util.now
    util.now = function() return now() + 7 * 86400 end
    local ok, err = pcall(function()
      assert_error(404, "KMS.0207", call("describe-key", { key_id = id }))
    end)
    util.now = now
    assert(ok, err)
  end)

  it("refuses to schedule a default key's deletion", function()
    assert_error(400, "KMS.0211", call("schedule-key-deletion", { key_id = DEFAULT_KEY, pending_days = "7" }))
  end)
end)

describe("huawei update-key-alias and update-key-description", function()
  it("renames a key and answers key_info with the new alias", function()
    local status, r = call("update-key-alias", { key_id = AES, key_alias = "hw/renamed" })
    assert.are.equal(200, status)
    assert.are.same({ key_id = AES, key_alias = "hw/renamed" }, r.key_info)
    assert.are.equal("hw/renamed", describe_key(AES).key_alias)
    assert_error(400, "KMS.1104", call("update-key-alias", { key_id = AES, key_alias = "hw/sm4" }))
    assert_error(400, "KMS.1101", call("update-key-alias", { key_id = AES, key_alias = "a/default" }))
    assert_error(400, "KMS.0211", call("update-key-alias", { key_id = DEFAULT_KEY, key_alias = "evs/other" }))
    assert_error(400, "KMS.0210", call("update-key-alias", { key_id = PENDING_DELETION, key_alias = "z" }))
  end)

  it("changes the description, empty allowed, not while pending deletion", function()
    local status, r = call("update-key-description", { key_id = AES, key_description = "new words" })
    assert.are.equal(200, status)
    assert.are.same({ key_id = AES, key_description = "new words" }, r.key_info)
    status = call("update-key-description", { key_id = AES, key_description = "" })
    assert.are.equal(200, status)
    assert_error(400, "KMS.0204", call("update-key-description", { key_id = AES }))
    assert_error(400, "KMS.1103", call("update-key-description", { key_id = AES, key_description = ("d"):rep(256) }))
    assert_error(400, "KMS.0210", call("update-key-description", { key_id = PENDING_DELETION, key_description = "x" }))
  end)
end)

describe("huawei user-instances, user-quotas and versions", function()
  it("counts the project's keys that are not default keys, as integers", function()
    local _, r, res = call("user-instances", "", { method = "GET" })
    local _, all = call("list-keys", { key_spec = "ALL" })
    assert.are.equal(all.total - 1, r.instance_num)
    assert.matches('^{"instance_num":%d+}$', res.body)
    create {}
    local _, r2 = call("user-instances", "", { method = "GET" })
    assert.are.equal(r.instance_num + 1, r2.instance_num)
  end)

  it("reports the CMK and grant quotas", function()
    local _, r, raw = call("user-quotas", "", { method = "GET" })
    local res = r.quotas.resources
    assert.are.equal("CMK", res[1].type)
    assert.are.equal("grant_per_CMK", res[2].type)
    assert.matches('"used":%d+[,}]', raw.body)
    assert.matches('"quota":%d+[,}]', raw.body)
  end)

  it("answers GET / and GET /v1.0 without credentials", function()
    local res = kmsemu.handle { method = "GET", path = "/", query = "", headers = { host = "h:1" }, body = "" }
    assert.are.equal(200, res.status)
    local v = client.json(res).versions[1]
    assert.are.equal("v1.0", v.id)
    assert.are.equal("CURRENT", v.status)
    assert.are.same({ { href = "http://h:1/v1.0/", rel = "self" } }, v.links)
    res = kmsemu.handle { method = "GET", path = "/v1.0", query = "", headers = {}, body = "" }
    assert.are.equal("v1.0", client.json(res).version.id)
    res = kmsemu.handle { method = "GET", path = "/v9.9", query = "", headers = {}, body = "" }
    assert.are.equal(404, res.status)
  end)

  it("answers a known path with the wrong method as an unknown API", function()
    local status, body = call("user-quotas", "{}", { method = "POST" })
    assert.are.equal(404, status)
    assert.are.equal("APIGW.0101", body.error_code)
  end)
end)

describe("huawei project scoping", function()
  it("creates a key in the project of the path only", function()
    local other = "ffffffffffffffffffffffffffffffff"
    local _, r = call("create-key", { key_alias = "in-other" }, { project_id = other })
    local id = r.key_info.key_id
    assert_error(404, "KMS.0207", call("describe-key", { key_id = id }))
    local status = call("describe-key", { key_id = id }, { project_id = other })
    assert.are.equal(200, status)
    assert.is_nil(require("kmsemu").world().keys:get("huawei", P, id))
  end)
end)
