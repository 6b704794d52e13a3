-- Tencent post-quantum keys (section 13.10): CreateKey with the Kyber_AES
-- and Dilithium usages, PostQuantumCryptoEncrypt/Decrypt and
-- Sign/Verify. The algorithms are emulated (no ML-KEM or ML-DSA in
-- OpenSSL 3.0); these specs hold them to what a caller can observe.
local core = require "kmsemu.core"
local tc = require "support.tencent"

local KYBER = "ASYMMETRIC_Encrypt_Decrypt_Kyber_AES"
local DILITHIUM = "ASYMMETRIC_SIGN_VERIFY_DILITHIUM"
local MSG = "c2lnbmVkIGJ5IGttc2VtdQ=="

local function create(alias, usage)
  return tc.ok("CreateKey", { Alias = alias, KeyUsage = usage }).KeyId
end

local function flip(b64, at)
  local raw = core.unb64(b64)
  local i = at or #raw // 2
  return core.b64(raw:sub(1, i - 1) .. string.char(raw:byte(i) ~ 1) .. raw:sub(i + 1))
end

describe("tencent post-quantum CMKs", function()
  before_each(function() tc.start() end)

  it("are created, described, listed and offered by ListAlgorithms", function()
    local kem, sig = create("pq-kem", KYBER), create("pq-sig", DILITHIUM)
    local m = tc.ok("DescribeKey", { KeyId = kem }).KeyMetadata
    assert.are.same({ KYBER, "Enabled", 2 }, { m.KeyUsage, m.KeyState, m.Type })
    assert.are.equal(DILITHIUM, tc.ok("DescribeKey", { KeyId = sig }).KeyMetadata.KeyUsage)
    local r = tc.ok("ListKeyDetail", { KeyUsage = DILITHIUM })
    assert.are.same({ 1, sig }, { r.TotalCount, r.KeyMetadatas[1].KeyId })
    local algs = tc.ok("ListAlgorithms", {})
    local seen = {}
    for _, list in ipairs { algs.AsymmetricAlgorithms, algs.AsymmetricSignVerifyAlgorithms } do
      for _, a in ipairs(list) do
        seen[a.KeyUsage] = a.Algorithm
      end
    end
    assert.are.same({ "Kyber_AES", "Dilithium" }, { seen[KYBER], seen[DILITHIUM] })
    assert.are.equal("UnsupportedOperation", tc.code("EnableKeyRotation", { KeyId = kem }))
    assert.are.equal("InvalidParameterValue.InvalidType", tc.code("CreateKey", { Alias = "pq-ext", KeyUsage = KYBER, Type = 2 }))
  end)

  it("do no classical cryptography", function()
    local kem, sig = create("pq-kem", KYBER), create("pq-sig", DILITHIUM)
    assert.are.equal("InvalidParameterValue.InvalidKeyUsage", tc.code("Encrypt", { KeyId = kem, Plaintext = "dGVzdA==" }))
    assert.are.equal("InvalidParameterValue.InvalidKeyUsage", tc.code("GetPublicKey", { KeyId = sig }))
    assert.are.equal("InvalidParameter", tc.code("SignByAsymmetricKey",
      { KeyId = sig, Algorithm = "SM2DSA", Message = MSG }))
  end)
end)

describe("tencent PostQuantumCryptoEncrypt and PostQuantumCryptoDecrypt", function()
  local kem
  before_each(function()
    tc.start()
    kem = create("pq-kem", KYBER)
  end)

  it("round-trips up to 4 KB, each encryption fresh, tampering refused", function()
    local r = tc.ok("PostQuantumCryptoEncrypt", { KeyId = kem, PlainText = "dGVzdAo=" })
    assert.are.equal(kem, r.KeyId)
    assert.matches("^[%w+/=]+%-k%-[%w+/=]+%-k%-[%w+/=]+$", r.CiphertextBlob)
    local d = tc.ok("PostQuantumCryptoDecrypt", { CiphertextBlob = r.CiphertextBlob })
    assert.are.same({ kem, "dGVzdAo=" }, { d.KeyId, d.PlainText })
    assert.are_not.equal(r.CiphertextBlob,
      tc.ok("PostQuantumCryptoEncrypt", { KeyId = kem, PlainText = "dGVzdAo=" }).CiphertextBlob)
    local a, b, c = r.CiphertextBlob:match("^(.-)%-k%-(.-)%-k%-(.*)$")
    for _, bad in ipairs { a .. "-k-" .. flip(b, 1) .. "-k-" .. c, a .. "-k-" .. b .. "-k-" .. flip(c, 1) } do
      assert.are.equal("InvalidParameterValue.InvalidCiphertext", tc.code("PostQuantumCryptoDecrypt", { CiphertextBlob = bad }))
    end
    local big = core.b64(("p"):rep(4096))
    local g = tc.ok("PostQuantumCryptoEncrypt", { KeyId = kem, PlainText = big })
    assert.are.equal(big, tc.ok("PostQuantumCryptoDecrypt", { CiphertextBlob = g.CiphertextBlob }).PlainText)
  end)

  it("keeps its blobs and Encrypt's apart", function()
    local pq = tc.ok("PostQuantumCryptoEncrypt", { KeyId = kem, PlainText = "dGVzdA==" }).CiphertextBlob
    assert.are.equal("InvalidParameterValue.InvalidCiphertext", tc.code("Decrypt", { CiphertextBlob = pq }))
    local classic = tc.ok("Encrypt", { KeyId = tc.K.sm4, Plaintext = "dGVzdA==" }).CiphertextBlob
    assert.are.equal("InvalidParameterValue.InvalidCiphertext",
      tc.code("PostQuantumCryptoDecrypt", { CiphertextBlob = classic }))
    assert.are.equal("InvalidParameterValue.InvalidCiphertext",
      tc.code("PostQuantumCryptoDecrypt", { CiphertextBlob = "bm90IGEgYmxvYg==" }))
  end)

  it("wraps the plaintext for an EncryptionPublicKey", function()
    local pt = core.b64("pq secret")
    local ct = tc.ok("PostQuantumCryptoEncrypt", { KeyId = kem, PlainText = pt }).CiphertextBlob
    local pem = tc.ok("GetPublicKey", { KeyId = tc.K.rsa_decrypt }).PublicKeyPem
    local w = tc.ok("PostQuantumCryptoDecrypt", { CiphertextBlob = ct, EncryptionPublicKey = pem,
      EncryptionAlgorithm = "RSAES_OAEP_SHA_1" }).PlainText
    assert.are.equal(pt, tc.ok("AsymmetricRsaDecrypt",
      { KeyId = tc.K.rsa_decrypt, Ciphertext = w, Algorithm = "RSAES_OAEP_SHA_1" }).Plaintext)
    assert.are.equal("FailedOperation.EncryptionError", tc.code("PostQuantumCryptoDecrypt",
      { CiphertextBlob = ct, EncryptionPublicKey = "junk", EncryptionAlgorithm = "RSAES_OAEP_SHA_1" }))
    assert.are.equal("InvalidParameter", tc.code("PostQuantumCryptoDecrypt",
      { CiphertextBlob = ct, EncryptionAlgorithm = "RSA" }))
  end)

  it("answers the documented codes for states, kinds and plaintexts", function()
    local ct = tc.ok("PostQuantumCryptoEncrypt", { KeyId = kem, PlainText = "dGVzdA==" }).CiphertextBlob
    for _, bad in ipairs { "", "%%%", core.b64(("x"):rep(4097)) } do
      assert.are.equal("InvalidParameterValue.InvalidPlaintext",
        tc.code("PostQuantumCryptoEncrypt", { KeyId = kem, PlainText = bad }), bad)
    end
    assert.are.equal("InvalidParameter", tc.code("PostQuantumCryptoEncrypt", { KeyId = tc.K.sm4, PlainText = "dGVzdA==" }))
    assert.are.equal("InvalidParameterValue.InvalidKeyId", tc.code("PostQuantumCryptoEncrypt", { KeyId = "x", PlainText = "dGVzdA==" }))
    assert.are.equal("ResourceUnavailable.CmkNotFound",
      tc.code("PostQuantumCryptoEncrypt", { KeyId = tc.K.absent, PlainText = "dGVzdA==" }))
    tc.ok("DisableKey", { KeyId = kem })
    assert.are.equal("ResourceUnavailable.CmkDisabled", tc.code("PostQuantumCryptoEncrypt", { KeyId = kem, PlainText = "dGVzdA==" }))
    assert.are.equal("ResourceUnavailable.CmkDisabled", tc.code("PostQuantumCryptoDecrypt", { CiphertextBlob = ct }))
    tc.ok("EnableKey", { KeyId = kem })
    tc.ok("ArchiveKey", { KeyId = kem })
    assert.are.equal("ResourceUnavailable.CmkArchived", tc.code("PostQuantumCryptoEncrypt", { KeyId = kem, PlainText = "dGVzdA==" }))
    assert.are.equal("dGVzdA==", tc.ok("PostQuantumCryptoDecrypt", { CiphertextBlob = ct }).PlainText)
  end)
end)

describe("tencent PostQuantumCryptoSign and PostQuantumCryptoVerify", function()
  local sig_key
  before_each(function()
    tc.start()
    sig_key = create("pq-sig", DILITHIUM)
  end)

  it("signs with Dilithium3-sized signatures that verify only for their key and message", function()
    local s = tc.ok("PostQuantumCryptoSign", { KeyId = sig_key, Message = MSG }).Signature
    assert.are.equal(3293, #core.unb64(s))
    assert.are_not.equal(s, tc.ok("PostQuantumCryptoSign", { KeyId = sig_key, Message = MSG }).Signature)
    local function valid(p)
      return tc.ok("PostQuantumCryptoVerify", p).SignatureValid
    end
    assert.is_true(valid { KeyId = sig_key, Message = MSG, SignatureValue = s })
    assert.is_false(valid { KeyId = sig_key, Message = "dGVzdA==", SignatureValue = s })
    assert.is_false(valid { KeyId = sig_key, Message = MSG, SignatureValue = flip(s, 1) })
    assert.is_false(valid { KeyId = sig_key, Message = MSG, SignatureValue = flip(s, 3000) })
    assert.is_false(valid { KeyId = sig_key, Message = MSG, SignatureValue = core.b64(core.unb64(s):sub(1, 100)) })
    local other = create("pq-sig-2", DILITHIUM)
    assert.is_false(valid { KeyId = other, Message = MSG, SignatureValue = s })
    local big = core.b64(("m"):rep(4096))
    local bs = tc.ok("PostQuantumCryptoSign", { KeyId = sig_key, Message = big }).Signature
    assert.is_true(valid { KeyId = sig_key, Message = big, SignatureValue = bs })
  end)

  it("answers the documented codes", function()
    local s = tc.ok("PostQuantumCryptoSign", { KeyId = sig_key, Message = MSG }).Signature
    assert.are.equal("MissingParameter", tc.code("PostQuantumCryptoSign", { KeyId = sig_key, Message = "" }))
    assert.are.equal("MissingParameter", tc.code("PostQuantumCryptoSign", { KeyId = sig_key }))
    assert.are.equal("InvalidParameter", tc.code("PostQuantumCryptoSign", { KeyId = sig_key, Message = "%%%" }))
    assert.are.equal("InvalidParameter",
      tc.code("PostQuantumCryptoSign", { KeyId = sig_key, Message = core.b64(("m"):rep(4097)) }))
    assert.are.equal("InvalidParameter", tc.code("PostQuantumCryptoSign", { KeyId = tc.K.ecc_sign, Message = MSG }))
    assert.are.equal("InvalidParameter",
      tc.code("PostQuantumCryptoVerify", { KeyId = tc.K.sm4, Message = MSG, SignatureValue = s }))
    assert.are.equal("InvalidParameterValue",
      tc.code("PostQuantumCryptoVerify", { KeyId = sig_key, Message = MSG, SignatureValue = "%%%" }))
    assert.are.equal("InvalidParameterValue.InvalidKeyId", tc.code("PostQuantumCryptoSign", { KeyId = "x", Message = MSG }))
    assert.are.equal("ResourceUnavailable.CmkNotFound", tc.code("PostQuantumCryptoSign", { KeyId = tc.K.absent, Message = MSG }))
    tc.ok("DisableKey", { KeyId = sig_key })
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport", tc.code("PostQuantumCryptoSign", { KeyId = sig_key, Message = MSG }))
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport",
      tc.code("PostQuantumCryptoVerify", { KeyId = sig_key, Message = MSG, SignatureValue = s }))
  end)
end)
