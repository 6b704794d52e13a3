-- Tencent white-box keys (section 13.9): creation and its quota of 50,
-- states, batches, deletion, device fingerprints, the service status, and
-- EncryptByWhiteBox, whose ciphertext the DecryptKey opens with a standard
-- AES-256-CBC or SM4-CBC decryption (the documented emulation).
local core = require "kmsemu.core"
local kmsemu = require "kmsemu"
local tc = require "support.tencent"

local NOW = 1795000000
local ABSENT = "00000000-aaaa-11e9-b129-000000000000"
local FP = "0177ebba-5ad6930a52d808-ce5e6fbba2b703-ddfd218bab945f-0c275b7f7d2c8c68"

local function create(alias, algorithm, extra)
  local p = { Alias = alias, Algorithm = algorithm or "SM4" }
  for k, v in pairs(extra or {}) do
    p[k] = v
  end
  return tc.ok("CreateWhiteBoxKey", p)
end

local function info(id)
  return tc.ok("DescribeWhiteBoxKey", { KeyId = id }).KeyInfo
end

describe("tencent CreateWhiteBoxKey and DescribeWhiteBoxKey", function()
  before_each(function()
    tc.start()
    tc.clock(NOW)
  end)

  it("creates enabled keys whose keys are the Base64 of an SM4 or AES-256 key", function()
    local r = create("wb-sm4", "SM4", { Description = "d", Tags = { { TagKey = "env", TagValue = "dev" } } })
    assert.are.same({ 0, "ok" }, { r.TagCode, r.TagMsg })
    assert.are.equal(16, #core.unb64(r.DecryptKey))
    assert.are.equal(r.DecryptKey, r.EncryptKey)
    local k = info(r.KeyId)
    assert.are.same({ r.KeyId, "wb-sm4", "d", NOW, "Enabled", "SM4", 700001224419, 700001224419, r.DecryptKey,
      "creatorUin/700001224419/" .. r.KeyId, false },
      { k.KeyId, k.Alias, k.Description, k.CreateTime, k.Status, k.Algorithm, k.CreatorUin, k.OwnerUin,
        k.EncryptKey, k.ResourceId, k.DeviceFingerprintBind })
    local aes = create("wb-aes", "AES_256")
    assert.is_nil(aes.TagCode)
    assert.are.equal(32, #core.unb64(aes.DecryptKey))
    assert.are.equal(aes.DecryptKey, tc.ok("DescribeWhiteBoxDecryptKey", { KeyId = aes.KeyId }).DecryptKey)
  end)

  it("is no CMK: no CMK action, listing or quota sees it", function()
    local r = create("wb-apart")
    assert.are.equal("ResourceUnavailable.CmkNotFound", tc.code("DescribeKey", { KeyId = r.KeyId }))
    assert.are.equal("ResourceUnavailable.CmkNotFound", tc.code("Encrypt", { KeyId = r.KeyId, Plaintext = "dGVzdA==" }))
    assert.are.equal(15, tc.ok("GetServiceStatus", {}).CmkUserCount)
    assert.is_table(tc.ok("CreateKey", { Alias = "wb-apart" }))
  end)

  it("refuses bad and taken aliases, algorithms, descriptions and tags", function()
    create("wb-taken")
    for _, alias in ipairs { "-x", "has space", ("a"):rep(61), "" } do
      assert.are.equal("InvalidParameterValue.InvalidAlias",
        tc.code("CreateWhiteBoxKey", { Alias = alias, Algorithm = "SM4" }), alias)
    end
    assert.are.equal("InvalidParameterValue.AliasAlreadyExists",
      tc.code("CreateWhiteBoxKey", { Alias = "wb-taken", Algorithm = "AES_256" }))
    assert.are.equal("InvalidParameterValue", tc.code("CreateWhiteBoxKey", { Alias = "x", Algorithm = "AES_128" }))
    assert.are.equal("InvalidParameterValue",
      tc.code("CreateWhiteBoxKey", { Alias = "x", Algorithm = "SM4", Description = ("d"):rep(1025) }))
    assert.are.equal("InvalidParameterValue.TagKeysDuplicated", tc.code("CreateWhiteBoxKey", { Alias = "x",
      Algorithm = "SM4", Tags = { { TagKey = "a", TagValue = "1" }, { TagKey = "a", TagValue = "2" } } }))
    assert.are.equal("MissingParameter", tc.code("CreateWhiteBoxKey", { Alias = "x" }))
  end)

  it("allows 50 keys per region", function()
    for i = 1, 50 do
      create("wb-" .. i)
    end
    assert.are.equal("LimitExceeded.KeyLimitExceeded", tc.code("CreateWhiteBoxKey", { Alias = "wb-51", Algorithm = "SM4" }))
    assert.is_table(tc.ok("CreateWhiteBoxKey", { Alias = "wb-51", Algorithm = "SM4" }, { region = "ap-singapore" }))
    local last = tc.ok("DescribeWhiteBoxKeyDetails", { Offset = 49, Limit = 1 }).KeyInfos[1].KeyId
    tc.ok("DisableWhiteBoxKey", { KeyId = last })
    tc.ok("DeleteWhiteBoxKey", { KeyId = last })
    assert.is_table(create("wb-51"))
  end)
end)

describe("tencent white-box key states", function()
  local a, b
  before_each(function()
    tc.start()
    tc.clock(NOW)
    a = create("st-a").KeyId
    tc.advance(1)
    b = create("st-b", "AES_256", { Tags = { { TagKey = "team", TagValue = "core" } } }).KeyId
  end)

  local function ids(r)
    local out = {}
    for i, k in ipairs(r.KeyInfos) do
      out[i] = k.KeyId
    end
    return out
  end

  it("disables, enables, deletes only when disabled", function()
    tc.ok("DisableWhiteBoxKey", { KeyId = a })
    assert.are.equal("Disabled", info(a).Status)
    tc.ok("DisableWhiteBoxKey", { KeyId = a })
    tc.ok("EnableWhiteBoxKey", { KeyId = a })
    assert.are.equal("Enabled", info(a).Status)
    assert.are.equal("FailedOperation", tc.code("DeleteWhiteBoxKey", { KeyId = a }))
    tc.ok("DisableWhiteBoxKeys", { KeyIds = { a, b } })
    assert.are.same({ "Disabled", "Disabled" }, { info(a).Status, info(b).Status })
    assert.are.equal("ResourceNotFound", tc.code("EnableWhiteBoxKeys", { KeyIds = { a, ABSENT } }))
    assert.are.equal("Disabled", info(a).Status)
    tc.ok("EnableWhiteBoxKeys", { KeyIds = { a, b } })
    assert.are.equal("Enabled", info(b).Status)
    assert.are.equal("InvalidParameterValue.DuplicatedKeyId", tc.code("DisableWhiteBoxKeys", { KeyIds = { a, a } }))
    assert.are.equal("InvalidParameter", tc.code("EnableWhiteBoxKeys", { KeyIds = {} }))
    local many = {}
    for i = 1, 51 do
      many[i] = ABSENT
    end
    assert.are.equal("InvalidParameter", tc.code("DisableWhiteBoxKeys", { KeyIds = many }))
    tc.ok("DisableWhiteBoxKey", { KeyId = a })
    tc.ok("DeleteWhiteBoxKey", { KeyId = a })
    assert.are.equal("ResourceNotFound", tc.code("DescribeWhiteBoxKey", { KeyId = a }))
  end)

  it("lists by status and tag, oldest first, unpaged by default", function()
    tc.ok("DisableWhiteBoxKey", { KeyId = a })
    local r = tc.ok("DescribeWhiteBoxKeyDetails", {})
    assert.are.same({ { a, b }, 2 }, { ids(r), r.TotalCount })
    assert.are.same({ a }, ids(tc.ok("DescribeWhiteBoxKeyDetails", { KeyStatus = 0 })))
    assert.are.same({ b }, ids(tc.ok("DescribeWhiteBoxKeyDetails", { KeyStatus = 1 })))
    assert.are.same({ b }, ids(tc.ok("DescribeWhiteBoxKeyDetails",
      { TagFilters = { { TagKey = "team", TagValue = { "core" } } } })))
    r = tc.ok("DescribeWhiteBoxKeyDetails", { Offset = 1, Limit = 5 })
    assert.are.same({ { b }, 2 }, { ids(r), r.TotalCount })
    assert.are.equal("InvalidParameterValue", tc.code("DescribeWhiteBoxKeyDetails", { KeyStatus = 2 }))
    assert.are.same({}, ids(tc.ok("DescribeWhiteBoxKeyDetails", {}, { region = "ap-singapore" })))
  end)

  it("answers every id action for malformed and unknown ids", function()
    for _, action in ipairs { "DeleteWhiteBoxKey", "DescribeWhiteBoxKey", "DescribeWhiteBoxDecryptKey",
        "DescribeWhiteBoxDeviceFingerprints", "OverwriteWhiteBoxDeviceFingerprints", "EnableWhiteBoxKey",
        "DisableWhiteBoxKey" } do
      assert.are.equal("InvalidParameterValue.InvalidKeyId", tc.code(action, { KeyId = "nope" }), action)
      assert.are.equal("ResourceNotFound", tc.code(action, { KeyId = ABSENT }), action)
    end
    assert.are.equal("ResourceNotFound", tc.code("EncryptByWhiteBox", { KeyId = ABSENT, PlainText = "dGVzdA==" }))
    assert.are.equal("InvalidParameterValue.InvalidKeyId", tc.code("EnableWhiteBoxKeys", { KeyIds = { "nope" } }))
  end)
end)

describe("tencent white-box device fingerprints", function()
  local id
  before_each(function()
    tc.start()
    id = create("fp").KeyId
  end)

  it("overwrites the list, empties it, and marks the key bound", function()
    assert.are.same({}, tc.ok("DescribeWhiteBoxDeviceFingerprints", { KeyId = id }).DeviceFingerprints)
    tc.ok("OverwriteWhiteBoxDeviceFingerprints", { KeyId = id,
      DeviceFingerprints = { { Identity = FP, Description = "laptop" }, { Identity = FP:gsub("^0", "1") } } })
    local list = tc.ok("DescribeWhiteBoxDeviceFingerprints", { KeyId = id }).DeviceFingerprints
    assert.are.same({ { Identity = FP, Description = "laptop" }, { Identity = (FP:gsub("^0", "1")), Description = "" } },
      list)
    assert.is_true(info(id).DeviceFingerprintBind)
    tc.ok("OverwriteWhiteBoxDeviceFingerprints", { KeyId = id, DeviceFingerprints = {} })
    assert.is_false(info(id).DeviceFingerprintBind)
    tc.ok("OverwriteWhiteBoxDeviceFingerprints", { KeyId = id, DeviceFingerprints = { { Identity = FP } } })
    tc.ok("OverwriteWhiteBoxDeviceFingerprints", { KeyId = id })
    assert.are.same({}, tc.ok("DescribeWhiteBoxDeviceFingerprints", { KeyId = id }).DeviceFingerprints)
  end)

  it("refuses malformed identities, long descriptions and more than 200 entries", function()
    for _, bad in ipairs { "0177ebba", FP:upper(), FP .. "0", (FP:gsub("%-", "_")) } do
      assert.are.equal("InvalidParameterValue", tc.code("OverwriteWhiteBoxDeviceFingerprints",
        { KeyId = id, DeviceFingerprints = { { Identity = bad } } }), bad)
    end
    assert.are.equal("InvalidParameterValue", tc.code("OverwriteWhiteBoxDeviceFingerprints",
      { KeyId = id, DeviceFingerprints = { { Identity = FP, Description = ("d"):rep(1025) } } }))
    local many = {}
    for i = 1, 201 do
      many[i] = { Identity = FP }
    end
    assert.are.equal("LimitExceeded.FingerprintsLimitExceeded",
      tc.code("OverwriteWhiteBoxDeviceFingerprints", { KeyId = id, DeviceFingerprints = many }))
    many[201] = nil
    tc.ok("OverwriteWhiteBoxDeviceFingerprints", { KeyId = id, DeviceFingerprints = many })
    assert.are.equal(200, #tc.ok("DescribeWhiteBoxDeviceFingerprints", { KeyId = id }).DeviceFingerprints)
  end)
end)

describe("tencent EncryptByWhiteBox", function()
  before_each(function() tc.start() end)

  local function decrypt(algorithm, key_b64, iv_b64, ct_b64)
    return core.cipher(algorithm, core.unb64(key_b64), core.unb64(iv_b64), core.unb64(ct_b64), false)
  end

  it("is CBC with PKCS#7 padding under the DecryptKey and the given IV", function()
    for alg, cipher in pairs { SM4 = "sm4-cbc", AES_256 = "aes-256-cbc" } do
      local k = create("enc-" .. alg:lower():gsub("_", "-"), alg)
      local iv = core.b64(("\1"):rep(16))
      local r = tc.ok("EncryptByWhiteBox", { KeyId = k.KeyId, PlainText = "dGVzdAo=", InitializationVector = iv })
      assert.are.equal(iv, r.InitializationVector)
      assert.are.equal(16, #core.unb64(r.CipherText))
      assert.are.equal("test\n", decrypt(cipher, k.DecryptKey, iv, r.CipherText))
      local again = tc.ok("EncryptByWhiteBox", { KeyId = k.KeyId, PlainText = "dGVzdAo=", InitializationVector = iv })
      assert.are.equal(r.CipherText, again.CipherText)
      local long = core.b64(("x"):rep(4096))
      local g = tc.ok("EncryptByWhiteBox", { KeyId = k.KeyId, PlainText = long })
      assert.are.equal(16, #core.unb64(g.InitializationVector))
      assert.are.equal(4112, #core.unb64(g.CipherText))
      assert.are.equal(("x"):rep(4096), decrypt(cipher, k.DecryptKey, g.InitializationVector, g.CipherText))
    end
  end)

  it("refuses a disabled key, bad text and bad IVs", function()
    local k = create("enc-refused")
    for _, bad in ipairs { { PlainText = "" }, { PlainText = "%%%" }, { PlainText = core.b64(("x"):rep(4097)) },
        { PlainText = "dGVzdA==", InitializationVector = core.b64(("\1"):rep(12)) },
        { PlainText = "dGVzdA==", InitializationVector = "***" } } do
      bad.KeyId = k.KeyId
      assert.are.equal("InvalidParameterValue", tc.code("EncryptByWhiteBox", bad))
    end
    tc.ok("DisableWhiteBoxKey", { KeyId = k.KeyId })
    assert.are.equal("ResourceUnavailable.KeyDisabled",
      tc.code("EncryptByWhiteBox", { KeyId = k.KeyId, PlainText = "dGVzdA==" }))
  end)
end)

describe("tencent white-box key service", function()
  it("is activated unless the scenario says tencent_limits { whitebox = false }", function()
    local world = tc.start()
    assert.is_true(tc.ok("DescribeWhiteBoxServiceStatus", {}).ServiceEnabled)
    local id = create("svc").KeyId
    world.tencent_limits = { whitebox = false }
    assert.is_false(tc.ok("DescribeWhiteBoxServiceStatus", {}).ServiceEnabled)
    for action, p in pairs {
      CreateWhiteBoxKey = { Alias = "x", Algorithm = "SM4" }, DeleteWhiteBoxKey = { KeyId = id },
      DescribeWhiteBoxKey = { KeyId = id }, DescribeWhiteBoxKeyDetails = {},
      DescribeWhiteBoxDecryptKey = { KeyId = id }, DescribeWhiteBoxDeviceFingerprints = { KeyId = id },
      OverwriteWhiteBoxDeviceFingerprints = { KeyId = id }, EnableWhiteBoxKey = { KeyId = id },
      DisableWhiteBoxKey = { KeyId = id }, EnableWhiteBoxKeys = { KeyIds = { id } },
      DisableWhiteBoxKeys = { KeyIds = { id } }, EncryptByWhiteBox = { KeyId = id, PlainText = "dGVzdA==" },
    } do
      assert.are.equal("ResourceUnavailable.NotPurchased", tc.code(action, p), action)
    end
  end)

  it("accepts only a boolean whitebox in tencent_limits", function()
    local scenario = require "kmsemu.scenario"
    assert.is_table(scenario.load_source("tencent_limits { whitebox = false, data_keys = 3 }", "s"))
    for _, bad in ipairs { "{ whitebox = 1 }", "{ data_keys = -1 }", "{ data_keys = 1.5 }" } do
      local w, err = scenario.load_source("tencent_limits " .. bad, "s")
      assert.is_nil(w, bad)
      assert.matches("tencent_limits", err)
    end
  end)
end)

describe("tencent white-box keys in a data directory #persist", function()
  it("survive a restart with their key, state and fingerprints", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    tc.clock(nil)
    assert.is_nil(kmsemu.start { scenario = "scenarios/tencent.lua", data_dir = dir .. "/data" })
    local k = create("kept", "AES_256")
    tc.ok("OverwriteWhiteBoxDeviceFingerprints", { KeyId = k.KeyId, DeviceFingerprints = { { Identity = FP } } })
    tc.ok("DisableWhiteBoxKey", { KeyId = k.KeyId })
    assert.is_nil(kmsemu.start { scenario = "scenarios/tencent.lua", data_dir = dir .. "/data" })
    local i = info(k.KeyId)
    assert.are.same({ "kept", "Disabled", k.DecryptKey, true }, { i.Alias, i.Status, i.DecryptKey, i.DeviceFingerprintBind })
    assert.is_nil(kmsemu.start { scenario = "scenarios/tencent.lua" })
    os.execute("rm -rf " .. dir)
  end)
end)
