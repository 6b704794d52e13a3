-- Tencent asymmetric keys (section 13.4): GetPublicKey, RSA and SM2
-- decryption, signing and verification in every algorithm, RAW and
-- DIGEST, checked against kmsemu.core with the returned public key.
local core = require "kmsemu.core"
local tc = require "support.tencent"

local K = tc.K
local MSG = "message to sign"

local function public_pem(id)
  return tc.ok("GetPublicKey", { KeyId = id }).PublicKeyPem
end

describe("tencent GetPublicKey", function()
  before_each(function() tc.start() end)

  it("gives Base64 DER and the same key as a standard PEM, the same every run", function()
    local r = tc.ok("GetPublicKey", { KeyId = K.rsa_decrypt }, { method = "GET" })
    assert.are.equal(K.rsa_decrypt, r.KeyId)
    assert.matches("^MIIBIjANBgkqhkiG9w0BAQEF", r.PublicKey)
    assert.matches("^%-%-%-%-%-BEGIN PUBLIC KEY%-%-%-%-%-\n", r.PublicKeyPem)
    assert.are.equal(core.unb64(r.PublicKey), core.pkey_public_der(r.PublicKeyPem))
    tc.start()
    assert.are.equal(r.PublicKey, tc.ok("GetPublicKey", { KeyId = K.rsa_decrypt }).PublicKey)
  end)

  it("answers for enabled asymmetric keys only", function()
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport", tc.code("GetPublicKey", { KeyId = K.ecc_disabled }))
    assert.are.equal("InvalidParameterValue.InvalidKeyUsage", tc.code("GetPublicKey", { KeyId = K.sm4 }))
    assert.are.equal("ResourceUnavailable.CmkNotFound", tc.code("GetPublicKey", { KeyId = K.absent }))
    assert.are.equal("InvalidParameterValue.InvalidKeyId", tc.code("GetPublicKey", { KeyId = "x" }))
  end)
end)

describe("tencent AsymmetricRsaDecrypt and AsymmetricSm2Decrypt", function()
  before_each(function() tc.start() end)

  for alg, padding in pairs { RSAES_PKCS1_V1_5 = "rsa-pkcs1", RSAES_OAEP_SHA_1 = "rsa-oaep-sha1",
      RSAES_OAEP_SHA_256 = "rsa-oaep-sha256" } do
    it("decrypts " .. alg, function()
      local ct = core.pkey_encrypt(public_pem(K.rsa_decrypt), padding, "hello rsa")
      local r = tc.ok("AsymmetricRsaDecrypt", { KeyId = K.rsa_decrypt, Algorithm = alg, Ciphertext = core.b64(ct) })
      assert.are.equal("hello rsa", core.unb64(r.Plaintext))
      assert.are.equal(K.rsa_decrypt, r.KeyId)
    end)
  end

  it("refuses a wrong algorithm, garbage, and keys of another usage", function()
    local ct = core.b64(core.pkey_encrypt(public_pem(K.rsa_decrypt), "rsa-oaep-sha256", "x"))
    local p = { KeyId = K.rsa_decrypt, Algorithm = "RSAES_OAEP_SHA_1", Ciphertext = ct }
    assert.are.equal("FailedOperation.DecryptError", tc.code("AsymmetricRsaDecrypt", p))
    p.Algorithm = "RSA_RAW"
    assert.are.equal("InvalidParameter", tc.code("AsymmetricRsaDecrypt", p))
    p.Algorithm, p.Ciphertext = "RSAES_OAEP_SHA_256", "!!"
    assert.are.equal("InvalidParameter", tc.code("AsymmetricRsaDecrypt", p))
    p.Ciphertext, p.KeyId = ct, K.rsa2048_sign
    assert.are.equal("InvalidParameterValue.InvalidKeyUsage", tc.code("AsymmetricRsaDecrypt", p))
    p.KeyId = K.sm4
    assert.are.equal("InvalidParameterValue.InvalidKeyUsage", tc.code("AsymmetricRsaDecrypt", p))
  end)

  it("decrypts SM2 C1C3C2_ASN1 of at most 256 bytes", function()
    local pem = public_pem(K.sm2_decrypt)
    local ct = core.pkey_encrypt(pem, "sm2", "hello sm2")
    local r = tc.ok("AsymmetricSm2Decrypt", { KeyId = K.sm2_decrypt, Ciphertext = core.b64(ct) })
    assert.are.equal("hello sm2", core.unb64(r.Plaintext))
    local long = core.pkey_encrypt(pem, "sm2", ("x"):rep(200))
    assert.is_true(#long > 256)
    assert.are.equal("InvalidParameter", tc.code("AsymmetricSm2Decrypt", { KeyId = K.sm2_decrypt, Ciphertext = core.b64(long) }))
    local tampered = ct:sub(1, -2) .. string.char((ct:byte(-1) + 1) % 256)
    assert.are.equal("FailedOperation.DecryptError",
      tc.code("AsymmetricSm2Decrypt", { KeyId = K.sm2_decrypt, Ciphertext = core.b64(tampered) }))
    assert.are.equal("InvalidParameterValue.InvalidKeyUsage",
      tc.code("AsymmetricSm2Decrypt", { KeyId = K.sm2_sign, Ciphertext = core.b64(ct) }))
    tc.ok("DisableKey", { KeyId = K.sm2_decrypt })
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport",
      tc.code("AsymmetricSm2Decrypt", { KeyId = K.sm2_decrypt, Ciphertext = core.b64(ct) }))
  end)
end)

describe("tencent SignByAsymmetricKey and VerifyByAsymmetricKey", function()
  before_each(function() tc.start() end)

  local CASES = {
    { K.sm2_sign, "SM2DSA", "sm2-sm3" },
    { K.ecc_sign, "ECC_P256_R1", "ecdsa-sha256", "sha256" },
    { K.ecdsa384_sign, "ECC_P384_R1", "ecdsa-sha384", "sha384" },
    { K.ecdsa384_sign, "ECDSA384_SHA384", "ecdsa-sha384", "sha384" },
  }
  for _, key in ipairs { K.rsa2048_sign, K.rsa3072_sign } do
    for _, bits in ipairs { 256, 384, 512 } do
      CASES[#CASES + 1] = { key, "RSA_PSS_SHA_" .. bits, "rsa-pss-sha" .. bits, "sha" .. bits }
      CASES[#CASES + 1] = { key, "RSA_PKCS1_SHA_" .. bits, "rsa-pkcs1-sha" .. bits, "sha" .. bits }
    end
  end

  for _, c in ipairs(CASES) do
    local id, alg, core_alg, hash = c[1], c[2], c[3], c[4]
    it(("signs %s RAW and DIGEST with %s"):format(alg, id:sub(1, 8)), function()
      local pem = public_pem(id)
      local digest = hash and core.digest(hash, MSG) or require("support.sm2").e(pem, MSG)
      for kind, message in pairs { RAW = MSG, DIGEST = digest } do
        local p = { KeyId = id, Algorithm = alg, Message = core.b64(message), MessageType = kind }
        local sig = tc.ok("SignByAsymmetricKey", p).Signature
        assert.is_true(core.verify(pem, core_alg, MSG, false, core.unb64(sig)), kind)
        p.SignatureValue = sig
        assert.is_true(tc.ok("VerifyByAsymmetricKey", p).SignatureValid)
        p.Message = core.b64(kind == "RAW" and MSG .. "!" or ("\0"):rep(#digest))
        assert.is_false(tc.ok("VerifyByAsymmetricKey", p).SignatureValid)
      end
    end)
  end

  it("takes RAW by default, and GET requests", function()
    local p = { KeyId = K.ecc_sign, Algorithm = "ECC_P256_R1", Message = core.b64(MSG) }
    p.SignatureValue = tc.ok("SignByAsymmetricKey", p, { method = "GET" }).Signature
    assert.is_true(tc.ok("VerifyByAsymmetricKey", p, { method = "GET" }).SignatureValid)
  end)

  it("refuses wrong algorithms, message sizes, usages and states", function()
    local function code(p, action)
      p.KeyId = p.KeyId or K.ecc_sign
      p.Algorithm = p.Algorithm or "ECC_P256_R1"
      p.Message = p.Message or core.b64(MSG)
      return tc.code(action or "SignByAsymmetricKey", p)
    end
    assert.are.equal("InvalidParameter", code { Algorithm = "SM2DSA" })
    assert.are.equal("InvalidParameter", code { Algorithm = "ECDSA_P521" })
    assert.are.equal("InvalidParameter", code { MessageType = "HASH" })
    assert.are.equal("InvalidParameter", code { MessageType = "DIGEST" })
    assert.are.equal("InvalidParameter", code { Message = core.b64(("x"):rep(4097)) })
    assert.are.equal("InvalidParameter", code { Message = "" })
    assert.are.equal("InvalidParameter", code { KeyId = K.rsa_decrypt, Algorithm = "RSA_PSS_SHA_256" })
    assert.are.equal("InvalidParameter", code { KeyId = K.sm4 })
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport", code { KeyId = K.ecc_disabled })
    assert.are.equal("ResourceUnavailable.CmkNotFound", code { KeyId = K.absent })
    assert.are.equal("MissingParameter", tc.code("SignByAsymmetricKey", { KeyId = K.ecc_sign, Message = "aGk=" }))
    assert.are.equal("InvalidParameter", code({ SignatureValue = "!!" }, "VerifyByAsymmetricKey"))
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport",
      code({ KeyId = K.ecc_disabled, SignatureValue = "AAAA" }, "VerifyByAsymmetricKey"))
  end)
end)
