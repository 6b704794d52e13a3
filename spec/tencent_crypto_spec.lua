-- Tencent ReEncrypt, GenerateRandom and rotation (sections 13.1, 13.3):
-- ReEncrypted semantics, rotated keys still decrypting old ciphertexts,
-- RotateKey's once-a-day rule.
local core = require "kmsemu.core"
local tc = require "support.tencent"

local K = tc.K
local NOW = 1795000000
local DAY = 86400

local function encrypt(id, text, context)
  return tc.ok("Encrypt", { KeyId = id, Plaintext = core.b64(text), EncryptionContext = context }).CiphertextBlob
end

local function decrypt(blob, context)
  return core.unb64(tc.ok("Decrypt", { CiphertextBlob = blob, EncryptionContext = context }).Plaintext)
end

describe("tencent ReEncrypt", function()
  before_each(function()
    tc.start()
    tc.clock(NOW)
  end)

  it("returns the ciphertext unchanged for the same key, unrotated, same context", function()
    local blob = encrypt(K.sm4, "secret")
    local r = tc.ok("ReEncrypt", { CiphertextBlob = blob })
    assert.is_false(r.ReEncrypted)
    assert.are.equal(blob, r.CiphertextBlob)
    assert.are.equal(K.sm4, r.KeyId)
    assert.are.equal(K.sm4, r.SourceKeyId)
  end)

  it("re-encrypts under another key and another context", function()
    local blob = encrypt(K.sm4, "secret", '{"a":"1"}')
    local r = tc.ok("ReEncrypt", { CiphertextBlob = blob, DestinationKeyId = K.aes,
      SourceEncryptionContext = '{"a":"1"}', DestinationEncryptionContext = '{"b":"2"}' })
    assert.is_true(r.ReEncrypted)
    assert.are.equal(K.aes, r.KeyId)
    assert.are.equal(K.sm4, r.SourceKeyId)
    assert.are.equal("secret", decrypt(r.CiphertextBlob, '{"b":"2"}'))
    assert.are.equal("InvalidParameterValue.InvalidCiphertext",
      tc.code("Decrypt", { CiphertextBlob = r.CiphertextBlob }))
    -- the same key with a new context is a real re-encryption too
    local same = tc.ok("ReEncrypt", { CiphertextBlob = blob, SourceEncryptionContext = '{"a":"1"}' })
    assert.is_true(same.ReEncrypted)
    assert.are.equal("secret", decrypt(same.CiphertextBlob))
  end)

  it("re-encrypts after a rotation, and the old ciphertext still decrypts", function()
    local blob = encrypt(K.rotating, "before")
    tc.ok("RotateKey", { KeyId = K.rotating })
    local r = tc.ok("ReEncrypt", { CiphertextBlob = blob })
    assert.is_true(r.ReEncrypted)
    assert.are_not.equal(blob, r.CiphertextBlob)
    assert.are.equal("before", decrypt(r.CiphertextBlob))
    assert.are.equal("before", decrypt(blob))
  end)

  it("refuses bad blobs, a wrong source context, disabled and unknown keys", function()
    local blob = encrypt(K.sm4, "x", '{"a":"1"}')
    assert.are.equal("InvalidParameterValue.InvalidCiphertext", tc.code("ReEncrypt", { CiphertextBlob = "junk" }))
    assert.are.equal("InvalidParameterValue.InvalidCiphertext", tc.code("ReEncrypt", { CiphertextBlob = blob }))
    local ok = { CiphertextBlob = blob, SourceEncryptionContext = '{"a":"1"}' }
    ok.DestinationKeyId = K.disabled
    assert.are.equal("ResourceUnavailable.CmkDisabled", tc.code("ReEncrypt", ok))
    ok.DestinationKeyId = K.absent
    assert.are.equal("ResourceUnavailable.CmkNotFound", tc.code("ReEncrypt", ok))
    ok.DestinationKeyId = "bad"
    assert.are.equal("InvalidParameterValue.InvalidKeyId", tc.code("ReEncrypt", ok))
    ok.DestinationKeyId = K.rsa_decrypt
    assert.are.equal("InvalidParameterValue.InvalidKeyUsage", tc.code("ReEncrypt", ok))
    tc.ok("DisableKey", { KeyId = K.sm4 })
    assert.are.equal("ResourceUnavailable.CmkDisabled",
      tc.code("ReEncrypt", { CiphertextBlob = blob, SourceEncryptionContext = '{"a":"1"}' }))
  end)

  it("re-encrypts from an archived key, not to it", function()
    local blob = encrypt(K.sm4, "old")
    tc.ok("ArchiveKey", { KeyId = K.sm4 })
    local r = tc.ok("ReEncrypt", { CiphertextBlob = blob, DestinationKeyId = K.aes })
    assert.are.equal("old", decrypt(r.CiphertextBlob))
    assert.are.equal("ResourceUnavailable.CmkArchived", tc.code("ReEncrypt", { CiphertextBlob = blob }))
  end)
end)

describe("tencent GenerateRandom", function()
  before_each(function() tc.start() end)

  it("gives 1 to 1024 random bytes", function()
    for _, n in ipairs { 1, 16, 1024 } do
      for _, method in ipairs { "POST", "GET" } do
        local r = tc.ok("GenerateRandom", { NumberOfBytes = n }, { method = method })
        assert.are.equal(n, #core.unb64(r.Plaintext))
      end
    end
    local a = tc.ok("GenerateRandom", { NumberOfBytes = 32 }).Plaintext
    assert.are_not.equal(a, tc.ok("GenerateRandom", { NumberOfBytes = 32 }).Plaintext)
    for _, n in ipairs { 0, 1025, -1 } do
      assert.are.equal("InvalidParameter", tc.code("GenerateRandom", { NumberOfBytes = n }))
    end
    assert.are.equal("MissingParameter", tc.code("GenerateRandom", {}))
    assert.are.equal("InvalidParameter", tc.code("GenerateRandom", { NumberOfBytes = "ten" }))
  end)
end)

describe("tencent rotation", function()
  before_each(function()
    tc.start()
    tc.clock(NOW)
  end)

  local function metadata(id)
    return tc.ok("DescribeKey", { KeyId = id }).KeyMetadata
  end

  it("turns rotation on with RotateDays and off again", function()
    assert.is_false(tc.ok("GetKeyRotationStatus", { KeyId = K.sm4 }).KeyRotationEnabled)
    tc.ok("EnableKeyRotation", { KeyId = K.sm4, RotateDays = 30 })
    assert.is_true(tc.ok("GetKeyRotationStatus", { KeyId = K.sm4 }, { method = "GET" }).KeyRotationEnabled)
    local m = metadata(K.sm4)
    assert.is_true(m.KeyRotationEnabled)
    assert.are.equal(30, m.RotateDays)
    tc.ok("EnableKeyRotation", { KeyId = K.sm4 })
    assert.are.equal(365, metadata(K.sm4).RotateDays)
    tc.ok("DisableKeyRotation", { KeyId = K.sm4 })
    assert.is_false(tc.ok("GetKeyRotationStatus", { KeyId = K.sm4 }).KeyRotationEnabled)
  end)

  it("refuses RotateDays out of range, external, asymmetric and unusable keys", function()
    for _, d in ipairs { 6, 366 } do
      assert.are.equal("InvalidParameterValue", tc.code("EnableKeyRotation", { KeyId = K.sm4, RotateDays = d }))
    end
    assert.are.equal("UnsupportedOperation.ExternalCmkCanNotRotate",
      tc.code("EnableKeyRotation", { KeyId = K.ext_imported }))
    assert.are.equal("UnsupportedOperation", tc.code("EnableKeyRotation", { KeyId = K.rsa_decrypt }))
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport",
      tc.code("EnableKeyRotation", { KeyId = K.pending_delete }))
    assert.are.equal("ResourceUnavailable.CmkNotFound", tc.code("GetKeyRotationStatus", { KeyId = K.absent }))
    assert.are.equal("ResourceUnavailable.CmkNotFound", tc.code("DisableKeyRotation", { KeyId = K.absent }))
  end)

  it("rotates on demand once a day, only with rotation on, and old ciphertexts decrypt", function()
    assert.are.equal("UnsupportedOperation.RotateNotSupported", tc.code("RotateKey", { KeyId = K.sm4 }))
    assert.are.equal("UnsupportedOperation.RotateNotSupported", tc.code("RotateKey", { KeyId = K.ext_imported }))
    local blob = encrypt(K.rotating, "v-old")
    local r = tc.ok("RotateKey", { KeyId = K.rotating })
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", r.TaskId)
    local m = metadata(K.rotating)
    assert.are.equal(NOW, m.LastRotateTime)
    assert.are.equal(NOW + 30 * DAY, m.NextRotateTime)
    assert.are.equal("RequestLimitExceeded.RotateRateLimited", tc.code("RotateKey", { KeyId = K.rotating }))
    tc.advance(DAY)
    tc.ok("RotateKey", { KeyId = K.rotating })
    local fresh = encrypt(K.rotating, "v-new")
    assert.are_not.equal(blob:match("^[^-]+"), fresh:match("^[^-]+"), "the header names the new version")
    assert.are.equal("v-old", decrypt(blob))
    assert.are.equal("v-new", decrypt(fresh))
    tc.ok("ArchiveKey", { KeyId = K.aes })
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport", tc.code("EnableKeyRotation", { KeyId = K.aes }))
  end)

  it("rotates by itself when NextRotateTime passes", function()
    local blob = encrypt(K.rotating, "early")
    local due = metadata(K.rotating).NextRotateTime
    tc.clock(due + 1)
    local m = metadata(K.rotating)
    assert.are.equal(due, m.LastRotateTime)
    assert.are.equal(due + 30 * DAY, m.NextRotateTime)
    local r = tc.ok("ReEncrypt", { CiphertextBlob = blob })
    assert.is_true(r.ReEncrypted)
    assert.are.equal("early", decrypt(blob))
  end)
end)
