-- Tencent-only rules of Encrypt, Decrypt and GenerateDataKey: parameter
-- schemas, both request styles, data-key sizes, EncryptionPublicKey in
-- every algorithm, regions, and the common errors. Through the router.
local client = require "support.client"
local core = require "kmsemu.core"
local kmsemu = require "kmsemu"

assert(kmsemu.start { scenario = "scenarios/default.lua" } == nil)

local KEY = "23e80852-1e38-11e9-b129-5cb9019b4b01"
local PENDING_DELETE = "3a7c2b4d-1e38-11e9-b129-5cb9019b4b03"
local SHANGHAI_KEY = "5c5e4d6f-1e38-11e9-b129-5cb9019b4b05"

local function call(action, params, opts)
  opts = opts or {}
  opts.action, opts.params = action, params
  local res = kmsemu.handle(client.tencent(opts))
  assert.are.equal(200, res.status)
  local r = client.json(res).Response
  assert.matches("^%x+%-%x+%-4%x+%-%x+%-%x+$", r.RequestId)
  return r
end

local function assert_code(code, r)
  assert.is_table(r.Error, "expected error " .. code)
  assert.are.equal(code, r.Error.Code)
  assert.is_string(r.Error.Message)
end

describe("tencent GenerateDataKey", function()
  it("sizes the key by KeySpec or NumberOfBytes, NumberOfBytes winning", function()
    local cases = {
      { { KeySpec = "AES_128" }, 16 }, { { KeySpec = "AES_256" }, 32 },
      { { NumberOfBytes = 1 }, 1 }, { { NumberOfBytes = 1024 }, 1024 },
      { { KeySpec = "AES_128", NumberOfBytes = 48 }, 48 },
    }
    for _, method in ipairs { "POST", "GET" } do
      for _, c in ipairs(cases) do
        c[1].KeyId = KEY
        local r = call("GenerateDataKey", c[1], { method = method })
        assert.is_nil(r.Error, r.Error and r.Error.Code)
        assert.are.equal(KEY, r.KeyId)
        assert.are.equal(c[2], #core.unb64(r.Plaintext))
        local d = call("Decrypt", { CiphertextBlob = r.CiphertextBlob }, { method = method })
        assert.are.equal(r.Plaintext, d.Plaintext)
      end
    end
  end)

  it("refuses sizes out of range, a bad KeySpec, and neither", function()
    assert_code("InvalidParameter", call("GenerateDataKey", { KeyId = KEY, NumberOfBytes = 0 }))
    assert_code("InvalidParameter", call("GenerateDataKey", { KeyId = KEY, NumberOfBytes = 1025 }))
    assert_code("InvalidParameter", call("GenerateDataKey", { KeyId = KEY, KeySpec = "AES_512" }))
    assert_code("InvalidParameter", call("GenerateDataKey", { KeyId = KEY }))
    assert_code("InvalidParameter", call("GenerateDataKey", { KeyId = KEY, NumberOfBytes = 1.5 }))
  end)

  it("answers a key pending deletion with KeyPendingDelete, as documented for this action", function()
    assert_code("ResourceUnavailable.KeyPendingDelete",
      call("GenerateDataKey", { KeyId = PENDING_DELETE, KeySpec = "AES_256" }))
  end)

  it("shapes the blob as three Base64 segments joined by -k-", function()
    local r = call("GenerateDataKey", { KeyId = KEY, NumberOfBytes = 32 })
    local a, b, c = r.CiphertextBlob:match("^([%w+/=]+)%-k%-([%w+/=]+)%-k%-([%w+/=]+)$")
    assert.are.equal(64, #core.unb64(a))
    assert.are.equal(16, #core.unb64(b))
    assert.is_true(#core.unb64(c) > 32)
  end)
end)

describe("tencent EncryptionPublicKey", function()
  local rsa_private, rsa_public = core.pkey_generate("rsa2048")
  local sm2_private, sm2_public = core.pkey_generate("sm2")
  local cases = {
    { "RSAES_PKCS1_V1_5", rsa_private, rsa_public, "rsa-pkcs1" },
    { "RSAES_OAEP_SHA_1", rsa_private, rsa_public, "rsa-oaep-sha1" },
    { "RSAES_OAEP_SHA_256", rsa_private, rsa_public, "rsa-oaep-sha256" },
    { "SM2_C1C3C2_ASN1", sm2_private, sm2_public, "sm2" },
    { "SM2", sm2_private, sm2_public, "sm2", true },
    { nil, sm2_private, sm2_public, "sm2", true }, -- SM2 is the default
  }

  for _, c in ipairs(cases) do
    it("wraps the data key for " .. tostring(c[1]), function()
      local r = call("GenerateDataKey", { KeyId = KEY, KeySpec = "AES_256",
        EncryptionPublicKey = c[3], EncryptionAlgorithm = c[1] })
      assert.is_nil(r.Error, r.Error and r.Error.Message)
      local wrapped = core.unb64(r.Plaintext)
      if c[5] then -- raw C1C3C2: 0x04 || X || Y || C3 || C2
        assert.are.equal(4, wrapped:byte(1))
        assert.are.equal(1 + 64 + 32 + 32, #wrapped)
        wrapped = require("support.sm2").raw_to_der(wrapped)
      end
      local dek = assert(core.pkey_decrypt(c[2], c[4], wrapped))
      assert.are.equal(32, #dek)
      local plain = call("Decrypt", { CiphertextBlob = r.CiphertextBlob })
      assert.are.equal(core.b64(dek), plain.Plaintext)
      local rewrapped = call("Decrypt", { CiphertextBlob = r.CiphertextBlob,
        EncryptionPublicKey = c[3], EncryptionAlgorithm = c[1] })
      assert.are_not.equal(plain.Plaintext, rewrapped.Plaintext)
    end)
  end

  it("refuses an unknown algorithm, a key that does not fit it, and a bad PEM", function()
    assert_code("InvalidParameter", call("GenerateDataKey", { KeyId = KEY, KeySpec = "AES_256",
      EncryptionPublicKey = rsa_public, EncryptionAlgorithm = "RSA_PLAIN" }))
    assert_code("InvalidParameter", call("GenerateDataKey", { KeyId = KEY, KeySpec = "AES_256",
      EncryptionPublicKey = rsa_public, EncryptionAlgorithm = "SM2" }))
    assert_code("InvalidParameter", call("GenerateDataKey", { KeyId = KEY, KeySpec = "AES_256",
      EncryptionPublicKey = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n" }))
  end)

  it("refuses an unknown algorithm without a public key too, in GenerateDataKey and Decrypt", function()
    local r = call("GenerateDataKey", { KeyId = KEY, KeySpec = "AES_256", EncryptionAlgorithm = "RSA_PLAIN" })
    assert_code("InvalidParameter", r)
    local blob = call("GenerateDataKey", { KeyId = KEY, KeySpec = "AES_256" }).CiphertextBlob
    assert_code("InvalidParameter", call("Decrypt", { CiphertextBlob = blob, EncryptionAlgorithm = "sm2" }))
    assert.is_nil(call("Decrypt", { CiphertextBlob = blob, EncryptionAlgorithm = "RSAES_OAEP_SHA_256" }).Error)
  end)
end)

describe("tencent Encrypt and Decrypt", function()
  it("compares EncryptionContext as JSON, not as text", function()
    local r = call("Encrypt", { KeyId = KEY, Plaintext = core.b64("hi"),
      EncryptionContext = '{"a":"1","b":"2"}' })
    local d = call("Decrypt", { CiphertextBlob = r.CiphertextBlob,
      EncryptionContext = '{ "b" : "2", "a" : "1" }' })
    assert.are.equal(core.b64("hi"), d.Plaintext)
    assert_code("InvalidParameterValue.InvalidCiphertext",
      call("Decrypt", { CiphertextBlob = r.CiphertextBlob, EncryptionContext = '{"a":"1"}' }))
    assert_code("InvalidParameter", call("Encrypt", { KeyId = KEY, Plaintext = "aGk=",
      EncryptionContext = "not json" }))
  end)

  it("refuses Plaintext that is not Base64, empty, or over 4 KB", function()
    for _, p in ipairs { "!!!!", "", core.b64(("x"):rep(4097)) } do
      assert_code("InvalidParameterValue.InvalidPlaintext", call("Encrypt", { KeyId = KEY, Plaintext = p }))
    end
    assert.is_nil(call("Encrypt", { KeyId = KEY, Plaintext = core.b64(("x"):rep(4096)) }).Error)
  end)

  it("finds keys only in their own region", function()
    assert_code("ResourceUnavailable.CmkNotFound", call("Encrypt", { KeyId = SHANGHAI_KEY, Plaintext = "aGk=" }))
    local r = call("Encrypt", { KeyId = SHANGHAI_KEY, Plaintext = "aGk=" }, { region = "ap-shanghai" })
    assert.is_nil(r.Error)
    assert_code("ResourceUnavailable.CmkNotFound", call("Decrypt", { CiphertextBlob = r.CiphertextBlob }))
  end)
end)

describe("tencent common errors", function()
  it("names a missing parameter, an unknown one, and a wrong type", function()
    local r = call("Encrypt", { Plaintext = "aGk=" })
    assert_code("MissingParameter", r)
    assert.matches("KeyId", r.Error.Message)
    r = call("Encrypt", { KeyId = KEY, Plaintext = "aGk=", Colour = "blue" })
    assert_code("UnknownParameter", r)
    assert.matches("Colour", r.Error.Message)
    assert_code("InvalidParameter", call("Encrypt", { KeyId = KEY, Plaintext = 12 }))
  end)

  it("answers an unknown action, a wrong version and a non-JSON body", function()
    assert_code("InvalidAction", call("NoSuchAction", {}))
    assert_code("NoSuchVersion", call("Encrypt", { KeyId = KEY, Plaintext = "aGk=" }, { version = "2017-03-12" }))
    assert_code("InvalidParameter", call("Encrypt", nil, { body = "{oops" }))
  end)

  it("needs X-TC-Action and X-TC-Timestamp", function()
    for _, h in ipairs { "x-tc-action", "x-tc-timestamp", "x-tc-version" } do
      local req = client.tencent { action = "Encrypt", params = { KeyId = KEY, Plaintext = "aGk=" } }
      req.headers[h] = nil
      local r = client.json(kmsemu.handle(req)).Response
      assert_code("MissingParameter", r)
    end
  end)

  it("accepts the signature of an SDK that signs the host without its port", function()
    local req = client.tencent { action = "Encrypt", params = { KeyId = KEY, Plaintext = "aGk=" },
      host = "127.0.0.1", service = "127" }
    req.headers.host = "127.0.0.1:8080"
    assert.is_nil(client.json(kmsemu.handle(req)).Response.Error)
  end)
end)
