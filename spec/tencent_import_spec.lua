-- Tencent key material import (section 13.5): wrapping parameters, the
-- 24-hour token, ValidTo, identical re-import and deleting material.
local core = require "kmsemu.core"
local tc = require "support.tencent"

local K = tc.K
local NOW = 1795000000
local MATERIAL = ("\42"):rep(16) -- SM4 material: ap-guangzhou is an SM region

local function params(id, alg)
  return tc.ok("GetParametersForImport", { KeyId = id, WrappingAlgorithm = alg or "RSAES_OAEP_SHA_256",
    WrappingKeySpec = "RSA_2048" })
end

local function wrap(p, material, padding)
  local der = core.unb64(p.PublicKey)
  local pem = "-----BEGIN PUBLIC KEY-----\n" .. core.b64(der):gsub(("."):rep(64), "%0\n")
    .. "\n-----END PUBLIC KEY-----\n"
  return core.b64(assert(core.pkey_encrypt(pem, padding or "rsa-oaep-sha256", material)))
end

local function import(id, material, extra)
  local p = params(id)
  local req = { KeyId = id, ImportToken = p.ImportToken, EncryptedKeyMaterial = wrap(p, material) }
  for k, v in pairs(extra or {}) do
    req[k] = v
  end
  return tc.call("ImportKeyMaterial", req)
end

local function state(id)
  return tc.ok("DescribeKey", { KeyId = id }).KeyMetadata
end

describe("tencent key import", function()
  before_each(function()
    tc.start()
    tc.clock(NOW)
  end)

  it("hands out an RSA-2048 key and a token valid for 24 hours", function()
    for _, alg in ipairs { "RSAES_PKCS1_V1_5", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256" } do
      local p = params(K.ext_pending, alg)
      assert.are.equal(K.ext_pending, p.KeyId)
      assert.matches("^MIIBIjANBgkqhkiG9w0BAQEF", p.PublicKey)
      assert.are.equal(NOW + 86400, p.ParametersValidTo)
      assert.is_true(#p.ImportToken > 32)
    end
    local bad = { KeyId = K.ext_pending, WrappingAlgorithm = "RSA_RAW", WrappingKeySpec = "RSA_2048" }
    assert.are.equal("InvalidParameter", tc.code("GetParametersForImport", bad))
    bad.WrappingAlgorithm, bad.WrappingKeySpec = "RSAES_OAEP_SHA_1", "RSA_4096"
    assert.are.equal("InvalidParameter", tc.code("GetParametersForImport", bad))
    bad.WrappingKeySpec, bad.KeyId = "RSA_2048", K.sm4
    assert.are.equal("UnsupportedOperation.NotExternalCmk", tc.code("GetParametersForImport", bad))
  end)

  it("imports material in every wrapping, and the key encrypts with it", function()
    for alg, padding in pairs { RSAES_PKCS1_V1_5 = "rsa-pkcs1", RSAES_OAEP_SHA_1 = "rsa-oaep-sha1" } do
      tc.start()
      local p = params(K.ext_pending, alg)
      tc.ok("ImportKeyMaterial", { KeyId = K.ext_pending, ImportToken = p.ImportToken,
        EncryptedKeyMaterial = wrap(p, MATERIAL, padding) })
      assert.are.equal("Enabled", state(K.ext_pending).KeyState)
    end
    local blob = tc.ok("Encrypt", { KeyId = K.ext_pending, Plaintext = "aGk=" }).CiphertextBlob
    assert.are.equal("aGk=", tc.ok("Decrypt", { CiphertextBlob = blob }).Plaintext)
  end)

  it("accepts only the same material again, even after deleting it", function()
    assert.is_nil(import(K.ext_pending, MATERIAL).Error)
    local blob = tc.ok("Encrypt", { KeyId = K.ext_pending, Plaintext = "aGk=" }).CiphertextBlob
    assert.is_nil(import(K.ext_pending, MATERIAL).Error)
    assert.are.equal("InvalidParameterValue.MaterialNotMatch", import(K.ext_pending, ("\1"):rep(16)).Error.Code)
    tc.ok("DeleteImportedKeyMaterial", { KeyId = K.ext_pending })
    assert.are.equal("PendingImport", state(K.ext_pending).KeyState)
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport", tc.code("Decrypt", { CiphertextBlob = blob }))
    assert.are.equal("InvalidParameterValue.MaterialNotMatch", import(K.ext_pending, ("\1"):rep(16)).Error.Code)
    assert.is_nil(import(K.ext_pending, MATERIAL).Error)
    assert.are.equal("aGk=", tc.ok("Decrypt", { CiphertextBlob = blob }).Plaintext)
    -- material a scenario gave counts as imported
    assert.are.equal("InvalidParameterValue.MaterialNotMatch", import(K.ext_imported, MATERIAL).Error.Code)
    local given = core.unhex("00112233445566778899aabbccddeeff")
    assert.is_nil(import(K.ext_imported, given).Error)
  end)

  it("expires material at ValidTo, and the key waits for the same material", function()
    assert.is_nil(import(K.ext_pending, MATERIAL, { ValidTo = NOW + 100 }).Error)
    assert.are.equal(NOW + 100, state(K.ext_pending).ValidTo)
    tc.advance(101)
    local m = state(K.ext_pending)
    assert.are.equal("PendingImport", m.KeyState)
    assert.are.equal(0, m.ValidTo)
    assert.are.equal("InvalidParameterValue.MaterialNotMatch", import(K.ext_pending, ("\2"):rep(16)).Error.Code)
    assert.is_nil(import(K.ext_pending, MATERIAL, { ValidTo = "0" }).Error)
  end)

  it("refuses bad ValidTo, tokens, wrappings, sizes, and keys in other states", function()
    for _, t in ipairs { NOW, 2147443201 } do
      assert.are.equal("InvalidParameter", import(K.ext_pending, MATERIAL, { ValidTo = t }).Error.Code)
    end
    assert.are.equal("InvalidParameter", import(K.ext_pending, MATERIAL, { ImportToken = "forged" }).Error.Code)
    assert.are.equal("InvalidParameter.DecryptMaterialError",
      import(K.ext_pending, MATERIAL, { EncryptedKeyMaterial = core.b64(("x"):rep(256)) }).Error.Code)
    assert.are.equal("InvalidParameter.DecryptMaterialError", import(K.ext_pending, ("\42"):rep(32)).Error.Code)
    local p = params(K.ext_pending)
    tc.advance(86401)
    assert.are.equal("ResourceUnavailable.TokenExpired", tc.code("ImportKeyMaterial", { KeyId = K.ext_pending,
      ImportToken = p.ImportToken, EncryptedKeyMaterial = wrap(p, MATERIAL) }))
    tc.ok("DisableKey", { KeyId = K.ext_imported })
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport", import(K.ext_imported, MATERIAL).Error.Code)
    assert.are.equal("UnsupportedOperation.NotExternalCmk",
      tc.code("DeleteImportedKeyMaterial", { KeyId = K.sm4 }))
    assert.are.equal("UnsupportedOperation.NotExternalCmk",
      tc.code("ImportKeyMaterial", { KeyId = K.sm4, ImportToken = "t", EncryptedKeyMaterial = "AAAA" }))
  end)
end)
