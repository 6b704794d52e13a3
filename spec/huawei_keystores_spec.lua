-- Huawei keystores (/v1.0/{project_id}/keystores...): the default one,
-- those scenarios/huawei.lua declares, those requests create; keys in a
-- dedicated keystore; PIN creation; each error path.
local client = require "support.client"
local huawei = require "support.huawei"
local kmsemu = require "kmsemu"
local scenario_file = require "support.scenario_file"

local P = client.HUAWEI.project_id
local DHSM = "f0000001-0000-4000-8000-000000000001"
local CDMS = "f0000001-0000-4000-8000-000000000002" -- declared disabled
local UNKNOWN = "f0000001-0000-4000-8000-0000000000ff"

local assert_error, ok = huawei.assert_error, huawei.ok

local function call(method, rest, body, query)
  local status, r, res = client.huawei_call(kmsemu, nil, body or "", {
    method = method, path = ("/v1.0/%s/%s"):format(P, rest), query = query })
  return status, r, res
end

local function kms(action, body)
  return client.huawei_call(kmsemu, action, body)
end

before_each(function()
  assert(kmsemu.start { scenario = "scenarios/huawei.lua" } == nil)
end)

describe("huawei keystores", function()
  it("lists the dedicated keystores the scenario declares, as KeystoreDetails", function()
    local r = ok(call("GET", "keystores"))
    assert.are.equal(2, r.total)
    assert.are.same({
      keystore_id = DHSM, domain_id = "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf", keystore_alias = "hw-dhsm",
      keystore_type = "DHSM", hsm_cluster_id = "a5f4e3d2-c1b0-4a9f-8e7d-6c5b4a392817",
      cluster_id = "a5f4e3d2-c1b0-4a9f-8e7d-6c5b4a392817", create_time = "0",
    }, r.keystores[1])
    assert.are.equal(CDMS, r.keystores[2].keystore_id)
    local page = ok(call("GET", "keystores", nil, "limit=1&offset=1"))
    assert.are.equal(2, page.total)
    assert.are.equal(1, #page.keystores)
    assert.are.equal(CDMS, page.keystores[1].keystore_id)
    local _, _, res = call("GET", "keystores", nil, "offset=5")
    assert.matches('"keystores":%[%]', res.body)
  end)

  it("refuses bad paging", function()
    assert_error(400, "KMS.1601", call("GET", "keystores", nil, "limit=0"))
    assert_error(400, "KMS.1601", call("GET", "keystores", nil, "limit=x"))
    assert_error(400, "KMS.0417", call("GET", "keystores", nil, "offset=-1"))
  end)

  it("shows the default keystore and a declared one", function()
    local d = ok(call("GET", "keystores/0")).keystore
    assert.are.equal("DEFAULT", d.keystore_type)
    assert.are.equal("0", d.cluster_id)
    assert.are.equal("hw-cdms", ok(call("GET", "keystores/" .. CDMS)).keystore.keystore_alias)
    assert_error(400, "KMS.0340", call("GET", "keystores/" .. UNKNOWN))
  end)

  it("creates a DHSM keystore and a CDMS one, then shows and lists them", function()
    local r = ok(call("POST", "keystores", { keystore_alias = "mine", hsm_cluster_id = "cluster-9",
                                             hsm_ca_cert = "-----BEGIN CERTIFICATE-----" }))
    local id = r.keystore.keystore_id
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", id)
    assert.are.equal("d0d1d2d3d4d5d6d7d8d9dadbdcdddedf", r.keystore.domain_id)
    local shown = ok(call("GET", "keystores/" .. id)).keystore
    assert.are.same({ "mine", "DHSM", "cluster-9", "cluster-9" },
      { shown.keystore_alias, shown.keystore_type, shown.hsm_cluster_id, shown.cluster_id })
    assert.matches("^%d+000$", shown.create_time)
    ok(call("POST", "keystores", { keystore_alias = "cards", keystore_type = "CDMS", cluster_id = "cdms-2" }))
    assert.are.equal(4, ok(call("GET", "keystores")).total)
  end)

  it("refuses a keystore create without what its type needs, or clashing", function()
    assert_error(400, "KMS.0204", call("POST", "keystores", { hsm_cluster_id = "c", hsm_ca_cert = "x" }))
    assert_error(400, "KMS.0308", call("POST", "keystores", { keystore_alias = "bad alias!",
                                                              hsm_cluster_id = "c", hsm_ca_cert = "x" }))
    assert_error(400, "KMS.0204", call("POST", "keystores", { keystore_alias = "a", hsm_ca_cert = "x" }))
    assert_error(400, "KMS.0204", call("POST", "keystores", { keystore_alias = "a", hsm_cluster_id = "c" }))
    assert_error(400, "KMS.0204", call("POST", "keystores", { keystore_alias = "a", keystore_type = "CDMS" }))
    assert_error(400, "KMS.0340", call("POST", "keystores", { keystore_alias = "a", keystore_type = "DEFAULT" }))
    assert_error(400, "KMS.0308", call("POST", "keystores", { keystore_alias = "a", keystore_type = "HSM" }))
    assert_error(400, "KMS.0308", call("POST", "keystores", { keystore_alias = "hw-dhsm",
                                                              hsm_cluster_id = "c", hsm_ca_cert = "x" }))
    assert_error(400, "KMS.0308", call("POST", "keystores", { keystore_alias = "again", hsm_ca_cert = "x",
                                         hsm_cluster_id = "a5f4e3d2-c1b0-4a9f-8e7d-6c5b4a392817" }))
    assert_error(400, "KMS.0202", call("POST", "keystores", "{"))
  end)

  it("enables and disables a dedicated keystore, never the default one", function()
    local r = ok(call("POST", "keystores/" .. CDMS .. "/enable", {}))
    assert.are.same({ keystore_id = CDMS, keystore_state = "2" }, r.keystore)
    assert.are.equal("3", ok(call("POST", "keystores/" .. DHSM .. "/disable", {})).keystore.keystore_state)
    assert_error(400, "KMS.0340", call("POST", "keystores/0/disable", {}))
    assert_error(400, "KMS.0340", call("POST", "keystores/" .. UNKNOWN .. "/enable", {}))
  end)

  it("deletes an empty dedicated keystore, a declared one for good", function()
    assert.are.same({}, ok(call("DELETE", "keystores/" .. CDMS)))
    assert_error(400, "KMS.0340", call("GET", "keystores/" .. CDMS))
    assert.are.equal(1, ok(call("GET", "keystores")).total)
    assert_error(400, "KMS.0340", call("DELETE", "keystores/" .. CDMS))
    assert_error(400, "KMS.0340", call("DELETE", "keystores/0"))
  end)

  it("answers an unknown keystore path or method with the gateway's 404", function()
    assert_error(404, "APIGW.0101", call("PUT", "keystores/" .. DHSM, {}))
    assert_error(404, "APIGW.0101", call("GET", "keystoresx"))
  end)
end)

describe("huawei keys in a dedicated keystore", function()
  it("creates a key there, which describe-key shows and which cannot rotate", function()
    local id = ok(kms("create-key", { key_alias = "in/dhsm", keystore_id = DHSM })).key_info.key_id
    assert.are.equal(DHSM, ok(kms("describe-key", { key_id = id })).key_info.keystore_id)
    assert_error(400, "KMS.0338", kms("enable-key-rotation", { key_id = id }))
    ok(kms("encrypt-data", { key_id = id, plain_text = "x" }))
    assert_error(400, "KMS.0308", call("DELETE", "keystores/" .. DHSM))
  end)

  it("keeps keystore 0 the default, and refuses other keystores", function()
    local id = ok(kms("create-key", { key_alias = "in/zero", keystore_id = "0" })).key_info.key_id
    assert.are.equal("0", ok(kms("describe-key", { key_id = id })).key_info.keystore_id)
    assert_error(400, "KMS.0340", kms("create-key", { key_alias = "x1", keystore_id = CDMS }))
    assert_error(400, "KMS.0340", kms("create-key", { key_alias = "x2", keystore_id = UNKNOWN }))
    assert_error(400, "KMS.0339", kms("create-key", { key_alias = "x3", keystore_id = DHSM, origin = "external" }))
  end)
end)

describe("huawei create-pin", function()
  it("makes a plain PIN of digits and a ciphertext one in a shared cluster", function()
    assert.matches("^%d%d%d%d%d%d%d%d$", ok(kms("create-pin", { pin_type = "PlainText" })).pin)
    assert.matches("^[%w+/]+=*$", ok(kms("create-pin", { keystore_id = "1" })).pin)
    assert.matches("^[%w+/]+=*$", ok(kms("create-pin", { pin_type = "CipherText", keystore_id = "2" })).pin)
  end)

  it("needs an enabled CDMS keystore for a ciphertext PIN outside the shared clusters", function()
    assert_error(400, "KMS.0204", kms("create-pin", {}))
    assert_error(400, "KMS.0340", kms("create-pin", { keystore_id = DHSM }))
    assert_error(400, "KMS.0340", kms("create-pin", { keystore_id = CDMS }))
    ok(call("POST", "keystores/" .. CDMS .. "/enable", {}))
    ok(kms("create-pin", { keystore_id = CDMS }))
    assert_error(400, "KMS.0308", kms("create-pin", { pin_type = "Hex" }))
  end)
end)

describe("huawei_keystore declarations", function()
  local refused = {
    { 'huawei_keystore { id = "0", alias = "a", type = "DHSM", hsm_cluster_id = "c" }', "must be a UUID" },
    { 'huawei_keystore { id = "' .. UNKNOWN .. '", alias = "a b", type = "DHSM", hsm_cluster_id = "c" }',
      "huawei_keystore.alias must be" },
    { 'huawei_keystore { id = "' .. UNKNOWN .. '", alias = "a", type = "DEFAULT" }', "huawei_keystore.type must be" },
    { 'huawei_keystore { id = "' .. UNKNOWN .. '", alias = "a", type = "DHSM" }',
      "huawei_keystore.hsm_cluster_id must be a non-empty string" },
    { 'huawei_keystore { id = "' .. UNKNOWN .. '", alias = "a", type = "CDMS", cluster_id = "c", state = "on" }',
      "huawei_keystore.state must be" },
    { 'huawei_keystore { id = "' .. UNKNOWN .. '", alias = "a", type = "CDMS", cluster_id = "c", zone = 1 }',
      "unknown field 'zone'" },
  }
  for _, r in ipairs(refused) do
    it("refuses " .. r[1], function() scenario_file.assert_refused(r[1], r[2]) end)
  end
end)
