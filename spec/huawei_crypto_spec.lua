-- Huawei data operations beyond the data-key basics, with symmetric and
-- HMAC keys: re-encrypt, gen-random, the refusals of keys of the wrong
-- kind, rotation (old ciphertexts still open) and generate/verify-mac.
local client = require "support.client"
local huawei = require "support.huawei"
local core = require "kmsemu.core"
local kmsemu = require "kmsemu"

local AES = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
local SM4 = "5f3c2a10-6b7d-4e8f-9a01-23456789abcd"
local DISABLED = "7e1d2c3b-4a59-4687-9abc-def012345678"
local PENDING_IMPORT = "9b8a7c6d-5e4f-4321-8fed-cba987654321"
local DEFAULT_KEY = "c0000001-0000-4000-8000-000000000001"
local ROTATED = "d0000001-0000-4000-8000-000000000002"
local RSA_SIGN = "a0000001-0000-4000-8000-000000000001"
local HMAC = {
  HMAC_SHA_256 = { "b0000001-0000-4000-8000-000000000256", "sha256" },
  HMAC_SHA_384 = { "b0000001-0000-4000-8000-000000000384", "sha384" },
  HMAC_SHA_512 = { "b0000001-0000-4000-8000-000000000512", "sha512" },
  HMAC_SM3 = { "b0000001-0000-4000-8000-000000000003", "sm3" },
}

local function call(action, body, opts)
  return client.huawei_call(kmsemu, action, body, opts)
end

local assert_error = huawei.assert_error

local ok = huawei.ok

before_each(function()
  assert(kmsemu.start { scenario = "scenarios/huawei.lua" } == nil)
end)

describe("huawei re-encrypt", function()
  it("moves a data ciphertext to another key, in Base64", function()
    local c = ok(call("encrypt-data", { key_id = AES, plain_text = "secret", additional_authenticated_data = "a1" }))
    local r = ok(call("re-encrypt", { cipher_text = c.cipher_text, destination_key_id = SM4,
      source_additional_authenticated_data = "a1", destination_additional_authenticated_data = "a2" }))
    assert.are.equal(SM4, r.key_id)
    assert.are.equal(AES, r.source_key_id)
    assert.are.equal("SYMMETRIC_DEFAULT", r.source_encryption_algorithm)
    assert.are.equal("SYMMETRIC_DEFAULT", r.destination_encryption_algorithm)
    local d = ok(call("decrypt-data", { cipher_text = r.cipher_text, additional_authenticated_data = "a2" }))
    assert.are.same({ key_id = SM4, plain_text = "secret" }, d)
  end)

  it("moves a data-key ciphertext, in hex, checking datakey_cipher_length", function()
    local k = ok(call("create-datakey", { key_id = AES, datakey_length = "256" }))
    local r = ok(call("re-encrypt", { cipher_text = k.cipher_text, destination_key_id = SM4,
      datakey_cipher_length = "32" }))
    assert.matches("^[0-9A-F]+$", r.cipher_text)
    local d = ok(call("decrypt-datakey", { key_id = SM4, cipher_text = r.cipher_text, datakey_cipher_length = "32" }))
    assert.are.equal(k.plain_text, d.data_key)
    assert_error(400, "KMS.2204", call("re-encrypt", { cipher_text = k.cipher_text,
      destination_key_id = SM4, datakey_cipher_length = "16" }))
  end)

  it("refuses a wrong source key, a wrong AAD and an unusable destination", function()
    local c = ok(call("encrypt-data", { key_id = AES, plain_text = "x" }))
    assert_error(400, "KMS.2201", call("re-encrypt", { cipher_text = c.cipher_text, source_key_id = SM4,
      destination_key_id = SM4 }))
    assert_error(400, "KMS.2201", call("re-encrypt", { cipher_text = c.cipher_text, destination_key_id = SM4,
      source_additional_authenticated_data = "other" }))
    assert_error(400, "KMS.0209", call("re-encrypt", { cipher_text = c.cipher_text, destination_key_id = DISABLED }))
    assert_error(400, "KMS.0204", call("re-encrypt", { cipher_text = c.cipher_text }))
  end)
end)

describe("huawei gen-random", function()
  it("returns upper-case hex of the requested bits", function()
    for bits, n in pairs { ["8"] = 1, ["512"] = 64, ["8192"] = 1024 } do
      local r = ok(call("gen-random", { random_data_length = bits }))
      assert.matches("^[0-9A-F]+$", r.random_data)
      assert.are.equal(2 * n, #r.random_data)
    end
    local a = ok(call("gen-random", { random_data_length = "256" }))
    local b = ok(call("gen-random", { random_data_length = "256" }))
    assert.are_not.equal(a.random_data, b.random_data)
  end)

  it("refuses lengths out of range (KMS.1801) and not whole bytes (KMS.1802)", function()
    assert_error(400, "KMS.1801", call("gen-random", { random_data_length = "0" }))
    assert_error(400, "KMS.1801", call("gen-random", { random_data_length = "8200" }))
    assert_error(400, "KMS.1802", call("gen-random", { random_data_length = "12" }))
    assert_error(400, "KMS.0204", call("gen-random", {}))
    assert_error(400, "KMS.0308", call("gen-random", { random_data_length = 512 }))
  end)
end)

describe("huawei keys of the wrong kind", function()
  it("refuse data keys and data encryption with their own codes", function()
    local hmac = HMAC.HMAC_SHA_256[1]
    assert_error(400, "KMS.0341", call("create-datakey", { key_id = hmac }))
    assert_error(400, "KMS.0341", call("encrypt-data", { key_id = hmac, plain_text = "x" }))
    assert_error(400, "KMS.0325", call("create-datakey", { key_id = RSA_SIGN }))
    assert_error(400, "KMS.0335", call("encrypt-data", { key_id = RSA_SIGN, plain_text = "x",
      encryption_algorithm = "RSAES_OAEP_SHA_256" }))
    assert_error(400, "KMS.1114", call("encrypt-data", { key_id = "a0000001-0000-4000-8000-000000000005",
      plain_text = "x" }))
    assert_error(400, "KMS.2105", call("encrypt-data", { key_id = AES, plain_text = "x",
      encryption_algorithm = "SM2_ENCRYPT" }))
    assert_error(400, "KMS.0308", call("encrypt-data", { key_id = AES, plain_text = "x",
      encryption_algorithm = "ROT13" }))
  end)

  it("a key pending import refuses cryptography with KMS.0308", function()
    assert_error(400, "KMS.0308", call("encrypt-data", { key_id = PENDING_IMPORT, plain_text = "x" }))
  end)
end)

describe("huawei generate-mac and verify-mac", function()
  it("computes the HMAC of each spec over the decoded message", function()
    local keys = kmsemu.world().keys
    for alg, k in pairs(HMAC) do
      local msg = "message for " .. alg
      local r = ok(call("generate-mac", { key_id = k[1], mac_algorithm = alg, message = core.b64(msg) }))
      assert.are.equal(k[1], r.key_id)
      assert.are.equal(alg, r.mac_algorithm)
      local key = keys:get("huawei", client.HUAWEI.project_id, k[1])
      assert.are.equal(core.hmac(k[2], keys:material(key), msg), core.unb64(r.mac))
      local v = ok(call("verify-mac", { key_id = k[1], mac_algorithm = alg, message = core.b64(msg), mac = r.mac }))
      assert.is_true(v.mac_valid)
      v = ok(call("verify-mac", { key_id = k[1], mac_algorithm = alg, message = core.b64(msg .. "!"), mac = r.mac }))
      assert.is_false(v.mac_valid)
    end
  end)

  it("refuses a mismatched algorithm, a non-HMAC key, a bad message", function()
    local k = HMAC.HMAC_SHA_256[1]
    assert_error(400, "KMS.0308", call("generate-mac", { key_id = k, mac_algorithm = "HMAC_SHA_512", message = "eA==" }))
    assert_error(400, "KMS.0308", call("generate-mac", { key_id = AES, mac_algorithm = "HMAC_SHA_256", message = "eA==" }))
    assert_error(400, "KMS.0308", call("generate-mac", { key_id = k, mac_algorithm = "MD5", message = "eA==" }))
    assert_error(400, "KMS.0308", call("generate-mac", { key_id = k, mac_algorithm = "HMAC_SHA_256", message = "" }))
    assert_error(400, "KMS.0308", call("generate-mac", { key_id = k, mac_algorithm = "HMAC_SHA_256",
      message = core.b64(("x"):rep(4097)) }))
    assert_error(400, "KMS.0204", call("generate-mac", { key_id = k, message = "eA==" }))
  end)
end)

describe("huawei rotation", function()
  it("enables, reports and disables rotation with its codes", function()
    assert.are.same({}, ok(call("enable-key-rotation", { key_id = AES })))
    assert_error(400, "KMS.2901", call("enable-key-rotation", { key_id = AES }))
    local s, r, raw = call("get-key-rotation-status", { key_id = AES })
    assert.are.equal(200, s)
    assert.is_true(r.key_rotation_enabled)
    assert.are.equal(365, r.rotation_interval)
    assert.are.equal(0, r.number_of_rotations)
    assert.are.equal("", r.last_rotation_time)
    assert.matches('"key_rotation_enabled":true', raw.body)
    assert.matches('"rotation_interval":365[,}]', raw.body)
    local info = select(2, call("describe-key", { key_id = AES })).key_info
    assert.are.equal("true", info.key_rotation_enabled)
    assert.are.same({}, ok(call("disable-key-rotation", { key_id = AES })))
    assert_error(400, "KMS.0313", call("disable-key-rotation", { key_id = AES }))
  end)

  it("sets the interval within 30 to 365 days, as a JSON integer", function()
    assert.are.same({}, ok(call("update-key-rotation-interval", { key_id = AES, rotation_interval = 30 })))
    assert.are.equal(30, select(2, call("get-key-rotation-status", { key_id = AES })).rotation_interval)
    assert_error(400, "KMS.3001", call("update-key-rotation-interval", { key_id = AES, rotation_interval = 29 }))
    assert_error(400, "KMS.3001", call("update-key-rotation-interval", { key_id = AES, rotation_interval = 366 }))
    assert_error(400, "KMS.3001", call("update-key-rotation-interval", { key_id = AES, rotation_interval = "90" }))
    assert_error(400, "KMS.0204", call("update-key-rotation-interval", { key_id = AES }))
  end)

  it("refuses keys that cannot rotate, each with its code", function()
    assert_error(400, "KMS.0324", call("enable-key-rotation", { key_id = RSA_SIGN }))
    assert_error(400, "KMS.0325", call("enable-key-rotation", { key_id = "a0000001-0000-4000-8000-000000000005" }))
    assert_error(400, "KMS.0341", call("enable-key-rotation", { key_id = HMAC.HMAC_SHA_256[1] }))
    assert_error(400, "KMS.0211", call("enable-key-rotation", { key_id = DEFAULT_KEY }))
    assert_error(400, "KMS.0209", call("rotate-on-demand", { key_id = DISABLED }))
  end)

  it("keeps old ciphertexts readable after rotate-on-demand", function()
    local before = ok(call("encrypt-data", { key_id = SM4, plain_text = "old" }))
    local dk = ok(call("create-datakey", { key_id = SM4 }))
    assert.are.same({ key_id = SM4 }, ok(call("rotate-on-demand", { key_id = SM4 })))
    local after = ok(call("encrypt-data", { key_id = SM4, plain_text = "new" }))
    assert.are.equal("old", ok(call("decrypt-data", { cipher_text = before.cipher_text })).plain_text)
    assert.are.equal("new", ok(call("decrypt-data", { cipher_text = after.cipher_text })).plain_text)
    assert.are.equal(dk.plain_text, ok(call("decrypt-datakey", { key_id = SM4, cipher_text = dk.cipher_text,
      datakey_cipher_length = "32" })).data_key)
    -- The two ciphertexts carry different versions, so different material.
    assert.are_not.equal(core.unb64(before.cipher_text):sub(5, 8), core.unb64(after.cipher_text):sub(5, 8))
    local st = ok(call("get-key-rotation-status", { key_id = SM4 }))
    assert.are.equal(1, st.number_of_rotations)
    assert.matches("^%d+000$", st.last_rotation_time)
    assert.are.equal(2, #st.key_materials)
    assert.are.equal(2, st.key_materials[2].state)
  end)

  it("rotates an enabled key once per interval, lazily", function()
    local util = require "kmsemu.util"
    local st = ok(call("get-key-rotation-status", { key_id = ROTATED }))
    assert.are.equal(2, st.number_of_rotations)
    local c = ok(call("encrypt-data", { key_id = ROTATED, plain_text = "kept" }))
    local now = util.now
    util.now = function() return now() + 181 * 86400 end
    local pass, err = pcall(function()
      local later = ok(call("get-key-rotation-status", { key_id = ROTATED }))
      assert.are.equal(4, later.number_of_rotations)
      assert.are.equal("kept", ok(call("decrypt-data", { cipher_text = c.cipher_text })).plain_text)
    end)
    util.now = now
    assert(pass, err)
  end)
end)
