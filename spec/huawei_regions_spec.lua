-- Huawei multi-region keys (/v2/{project_id}/kms/...): support-regions,
-- replicate-key, update-primary-region; huawei_region{} declarations; and
-- the new objects (keystores, policies, replicas) kept by --data-dir.
local client = require "support.client"
local huawei = require "support.huawei"
local kmsemu = require "kmsemu"
local fs = require "support.fs"
local scenario_file = require "support.scenario_file"

local P = client.HUAWEI.project_id
local EAST = "e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3"
local AES = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
local SM4 = "5f3c2a10-6b7d-4e8f-9a01-23456789abcd"
local DEFAULT_KEY = "c0000001-0000-4000-8000-000000000001"
local PENDING_DELETION = "8a9b0c1d-2e3f-4051-8617-28394a5b6c7d"

local assert_error, ok = huawei.assert_error, huawei.ok

local function v2(method, rest, body, project, query)
  return client.huawei_call(kmsemu, nil, body or "", {
    method = method, path = ("/v2/%s/kms/%s"):format(project or P, rest), project_id = project, query = query })
end

local function kms(action, body, project)
  return client.huawei_call(kmsemu, action, body, { project_id = project })
end

local function replicate(id, extra, project)
  local b = { key_id = id, replica_region = "cn-east-3", replica_project_id = EAST, key_alias = "rep/" .. id:sub(1, 8) }
  for k, v in pairs(extra or {}) do
    b[k] = v
  end
  return v2("POST", "keys/" .. id .. "/replicate", b, project)
end

before_each(function()
  assert(kmsemu.start { scenario = "scenarios/huawei.lua" } == nil)
end)

describe("huawei support-regions", function()
  it("lists the account's other regions, from either side", function()
    assert.are.same({ "cn-east-3" }, ok(v2("GET", "regions")).regions)
    assert.are.same({ "cn-north-4" }, ok(v2("GET", "regions", nil, EAST)).regions)
    local _, _, res = v2("GET", "regions", nil, nil, "offset=1")
    assert.matches('"regions":%[%]', res.body)
    assert_error(400, "KMS.1601", v2("GET", "regions", nil, nil, "limit=0"))
    assert_error(400, "KMS.0417", v2("GET", "regions", nil, nil, "offset=x"))
  end)
end)

describe("huawei replicate-key", function()
  it("makes a replica that opens the primary's ciphertexts and shows its own region", function()
    local r = ok(replicate(AES, { key_description = "copy", tags = { { key = "env", value = "dr" } } }))
    assert.are.same({ key_id = AES, domain_id = "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf", region = "cn-east-3" }, r)
    local ct = ok(kms("encrypt-data", { key_id = AES, plain_text = "across regions" })).cipher_text
    assert.are.equal("across regions", ok(kms("decrypt-data", { cipher_text = ct }, EAST)).plain_text)
    local back = ok(kms("encrypt-data", { key_id = AES, plain_text = "and back" }, EAST)).cipher_text
    assert.are.equal("and back", ok(kms("decrypt-data", { cipher_text = back })).plain_text)
    local info = ok(kms("describe-key", { key_id = AES }, EAST)).key_info
    assert.are.same({ "cn-east-3", "rep/0d0466b0", "copy" }, { info.realm, info.key_alias, info.key_description })
    assert.are.equal("cn-north-4", ok(kms("describe-key", { key_id = AES })).key_info.realm)
  end)

  it("refuses what cannot be replicated, or where", function()
    assert_error(400, "KMS.1102", replicate(AES, { replica_region = "cn-south-1" }))
    assert_error(400, "KMS.1102", replicate(AES, { replica_region = "cn-north-4" }))
    assert_error(400, "KMS.0308", replicate(AES, { replica_project_id = P }))
    assert_error(400, "KMS.0308", v2("POST", "keys/" .. SM4 .. "/replicate",
      { key_id = AES, replica_region = "cn-east-3", replica_project_id = EAST, key_alias = "x" }))
    assert_error(400, "KMS.0204", v2("POST", "keys/" .. AES .. "/replicate", { key_id = AES, replica_region = "cn-east-3" }))
    assert_error(400, "KMS.0205", v2("POST", "keys/x/replicate", { key_id = "x" }))
    assert_error(400, "KMS.1101", replicate(AES, { key_alias = "bad alias" }))
    assert_error(400, "KMS.0414", replicate(AES, { tags = { "env" } }))
    assert_error(400, "KMS.0211", replicate(DEFAULT_KEY))
    assert_error(400, "KMS.0210", replicate(PENDING_DELETION))
    assert_error(404, "KMS.0207", replicate("00000000-0000-4000-8000-000000000000"))
    ok(replicate(AES))
    assert_error(400, "KMS.0308", replicate(AES, { key_alias = "again" }))
    assert_error(400, "KMS.1104", replicate(SM4, { key_alias = "rep/0d0466b0" }))
    assert_error(400, "KMS.0106", replicate(AES, { replica_region = "cn-north-4", replica_project_id = P }, EAST))
  end)
end)

describe("huawei update-primary-region", function()
  local function move(to, project)
    return v2("PUT", "keys/" .. AES .. "/update-primary-region", { key_id = AES, primary_region = to }, project)
  end

  it("moves the primary to a replica's region, from the primary's region only", function()
    assert_error(400, "KMS.0308", move("cn-east-3"))
    ok(replicate(AES))
    assert_error(400, "KMS.1102", move("cn-south-1"))
    assert_error(400, "KMS.0106", move("cn-north-4", EAST))
    assert.are.same({ key_id = AES, primary_region = "cn-east-3" }, ok(move("cn-east-3")))
    assert_error(400, "KMS.0106", move("cn-north-4"))
    ok(move("cn-north-4", EAST))
    assert_error(400, "KMS.0204", v2("PUT", "keys/" .. AES .. "/update-primary-region", { key_id = AES }))
  end)
end)

describe("huawei_region declarations", function()
  local refused = {
    { 'huawei_region { name = "east", project_id = "' .. EAST .. '" }', "huawei_region.name must look like" },
    { 'huawei_region { name = "cn-east-3", project_id = "e3" }', "huawei_region.project_id must be 32 hex digits" },
    { 'huawei_region { name = "cn-east-3" }', "huawei_region.project_id must be a non-empty string" },
    { 'huawei_region { name = "cn-east-3", project_id = "' .. EAST .. '", zone = "a" }', "unknown field 'zone'" },
  }
  for _, r in ipairs(refused) do
    it("refuses " .. r[1], function() scenario_file.assert_refused(r[1], r[2]) end)
  end
end)

describe("huawei keystores, policies and replicas in a data directory #persist", function()
  it("survive a restart, and a deleted declared keystore stays deleted", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(kmsemu.start { scenario = "scenarios/huawei.lua", data_dir = dir } == nil)
    local base = ("/v1.0/%s/"):format(P)
    local ks = ok(client.huawei_call(kmsemu, nil, { keystore_alias = "kept", keystore_type = "CDMS", cluster_id = "c" },
      { path = base .. "keystores" })).keystore.keystore_id
    ok(client.huawei_call(kmsemu, nil, "", { method = "DELETE", path = base .. "keystores/f0000001-0000-4000-8000-000000000002" }))
    local pid = ok(client.huawei_call(kmsemu, nil, { keyspace_id = "11111111-2222-4333-8444-555555555555",
      policy_name = "kept", policy = "{}" }, { path = base .. "kms/key-policies" })).policy_id
    ok(replicate(AES))
    local ct = ok(kms("encrypt-data", { key_id = AES, plain_text = "kept" })).cipher_text
    assert(kmsemu.start { scenario = "scenarios/huawei.lua", data_dir = dir } == nil)
    local list = ok(client.huawei_call(kmsemu, nil, "", { method = "GET", path = base .. "keystores" }))
    local ids = {}
    for _, k in ipairs(list.keystores) do
      ids[#ids + 1] = k.keystore_id
    end
    assert.are.same({ "f0000001-0000-4000-8000-000000000001", ks }, ids)
    ok(client.huawei_call(kmsemu, nil, "", { method = "GET", path = base .. "kms/key-policies/" .. pid }))
    assert.are.equal("kept", ok(kms("decrypt-data", { cipher_text = ct }, EAST)).plain_text)
    kmsemu.start { scenario = "scenarios/huawei.lua" }
    fs.sh("rm -rf " .. dir)
  end)
end)
