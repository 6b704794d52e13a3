-- Tencent service information, cloud-resource binding and quotas
-- (sections 13.6, 13.7, 9): GetServiceStatus, GetRegions, ListAlgorithms,
-- BindCloudResource, UnbindCloudResource, the opt-in rate limits.
local tc = require "support.tencent"

local K = tc.K

describe("tencent service actions", function()
  before_each(function() tc.start() end)

  it("reports an enabled standard edition with the region's key count", function()
    local r, res = tc.call("GetServiceStatus", {})
    assert.is_true(r.ServiceEnabled)
    assert.are.equal(1, r.InvalidType)
    assert.are.equal(15, r.CmkUserCount)
    assert.are.equal(200, r.CmkLimit)
    assert.is_false(r.ExclusiveHSMEnabled)
    assert.matches('"ExclusiveHSMList":%[%]', res.body)
    assert.matches('"UserLevel":0[,}]', res.body)
    assert.are.equal("UnknownParameter", tc.code("GetServiceStatus", { Verbose = 1 }))
  end)

  it("lists the regions, the scenario's among them", function()
    local r = tc.ok("GetRegions", {}, { method = "GET" })
    local set = {}
    for _, region in ipairs(r.Regions) do
      set[region] = true
    end
    assert.is_true(set["ap-guangzhou"] and set["ap-singapore"] and set["ap-hongkong"])
  end)

  it("lists SM4 in an SM region and AES_256 in a FIPS one", function()
    local sm = tc.ok("ListAlgorithms", {})
    assert.are.same({ { KeyUsage = "ENCRYPT_DECRYPT", Algorithm = "SM4" } }, sm.SymmetricAlgorithms)
    local fips = tc.ok("ListAlgorithms", {}, { region = "ap-singapore" })
    assert.are.equal("AES_256", fips.SymmetricAlgorithms[1].Algorithm)
    local usages = {}
    for _, a in ipairs(sm.AsymmetricSignVerifyAlgorithms) do
      usages[a.KeyUsage] = a.Algorithm
    end
    assert.are.equal("ECC", usages.ASYMMETRIC_SIGN_VERIFY_ECC)
    assert.are.equal(3, #sm.AsymmetricAlgorithms)
  end)
end)

describe("tencent cloud-resource binding", function()
  before_each(function() tc.start() end)

  local BIND = { KeyId = K.sm4, ProductId = "ssm", ResourceId = "secret-1" }

  it("keeps a bound key from being disabled, archived or deleted until unbound", function()
    tc.ok("BindCloudResource", BIND)
    tc.ok("BindCloudResource", BIND)
    assert.are.equal("FailedOperation.CmkUsedByCloudProduct", tc.code("DisableKey", { KeyId = K.sm4 }))
    assert.are.equal("FailedOperation.CmkUsedByCloudProduct", tc.code("DisableKeys", { KeyIds = { K.sm4 } }))
    assert.are.equal("FailedOperation.CmkUsedByCloudProduct", tc.code("ArchiveKey", { KeyId = K.sm4 }))
    tc.ok("UnbindCloudResource", BIND)
    assert.are.equal("ResourceUnavailable.CloudResourceBindingNotFound", tc.code("UnbindCloudResource", BIND))
    tc.ok("DisableKey", { KeyId = K.sm4 })
    local other = { KeyId = K.disabled, ProductId = "cbs", ResourceId = "disk-1" }
    tc.ok("BindCloudResource", other)
    assert.are.equal("FailedOperation.CmkUsedByCloudProduct",
      tc.code("ScheduleKeyDeletion", { KeyId = K.disabled, PendingWindowInDays = 7 }))
  end)

  it("keeps an external key's material from being deleted, and cancels its expiry", function()
    local bind = { KeyId = K.ext_imported, ProductId = "cos", ResourceId = "bucket" }
    local world = tc.start()
    world.keys:get("tencent", "ap-guangzhou", K.ext_imported).valid_to = 2000000000
    tc.ok("BindCloudResource", bind)
    assert.are.equal(0, tc.ok("DescribeKey", { KeyId = K.ext_imported }).KeyMetadata.ValidTo)
    assert.are.equal("FailedOperation.CmkUsedByCloudProduct",
      tc.code("DeleteImportedKeyMaterial", { KeyId = K.ext_imported }))
  end)

  it("refuses keys pending deletion, unknown keys and missing fields", function()
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport",
      tc.code("BindCloudResource", { KeyId = K.pending_delete, ProductId = "a", ResourceId = "b" }))
    assert.are.equal("ResourceUnavailable.CmkNotFound",
      tc.code("BindCloudResource", { KeyId = K.absent, ProductId = "a", ResourceId = "b" }))
    assert.are.equal("MissingParameter", tc.code("BindCloudResource", { KeyId = K.sm4, ProductId = "a" }))
    assert.are.equal("ResourceUnavailable.CmkNotFound",
      tc.code("UnbindCloudResource", { KeyId = K.absent, ProductId = "a", ResourceId = "b" }))
  end)
end)

describe("tencent rate limits and quota", function()
  after_each(function() tc.clock(nil) end)

  it("are off unless the scenario asks", function()
    tc.start()
    tc.clock(1795000000)
    for _ = 1, 400 do
      tc.ok("GenerateRandom", { NumberOfBytes = 1 })
    end
  end)

  it("answer RequestLimitExceeded past the per-second limit, per action and region", function()
    tc.start("spec/fixtures/scenarios/tencent_limits.lua")
    tc.clock(1795000000)
    for _ = 1, 3 do
      tc.ok("GenerateRandom", { NumberOfBytes = 1 })
    end
    assert.are.equal("RequestLimitExceeded", tc.code("GenerateRandom", { NumberOfBytes = 1 }))
    tc.ok("GenerateRandom", { NumberOfBytes = 1 }, { region = "ap-shanghai" })
    tc.ok("GetRegions", {})
    tc.advance(1)
    tc.ok("GenerateRandom", { NumberOfBytes = 1 })
  end)

  it("share the symmetric quota of 300 between Encrypt and Decrypt; RotateKey has 20", function()
    tc.start("spec/fixtures/scenarios/tencent_limits.lua")
    tc.clock(1795000000)
    local blob = tc.ok("Encrypt", { KeyId = K.sm4, Plaintext = "aGk=" }).CiphertextBlob
    for _ = 1, 299 do
      tc.ok("Decrypt", { CiphertextBlob = blob })
    end
    assert.are.equal("RequestLimitExceeded", tc.code("Encrypt", { KeyId = K.sm4, Plaintext = "aGk=" }))
    for _ = 1, 20 do
      assert.are_not.equal("RequestLimitExceeded", tc.code("RotateKey", { KeyId = K.sm4 }))
    end
    assert.are.equal("RequestLimitExceeded", tc.code("RotateKey", { KeyId = K.sm4 }))
  end)

  it("caps the CMKs a region holds at the scenario's number", function()
    tc.start("spec/fixtures/scenarios/tencent_limits.lua")
    tc.ok("CreateKey", { Alias = "second" })
    assert.are.equal("LimitExceeded.CmkLimitExceeded", tc.code("CreateKey", { Alias = "third" }))
    assert.are.equal(2, tc.ok("GetServiceStatus", {}).CmkLimit)
  end)
end)

describe("tencent_limits in a scenario", function()
  local scenario = require "kmsemu.scenario"

  local function load(text)
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(text)
    f:close()
    local w, err = scenario.load(path)
    os.remove(path)
    return w, err
  end

  it("is checked field by field", function()
    assert.are.same({ rate = true }, load("tencent_limits { rate = true }").tencent_limits)
    for _, bad in ipairs { "{ rate = 1 }", "{ cmks = -1 }", "{ cmks = 1.5 }", "{ per_second = { Encrypt = 'x' } }",
        "{ burst = 3 }" } do
      local w, err = load("tencent_limits " .. bad)
      assert.is_nil(w, bad)
      assert.matches("tencent_limits", err)
    end
  end)
end)

describe("tencent actions outside the API", function()
  before_each(function() tc.start() end)

  it("answer InvalidAction", function()
    assert.are.equal("InvalidAction", tc.code("CreateKeyPlease", {}))
  end)

  it("refuses Authorization: SKIP like any malformed header", function()
    local client = require "support.client"
    local req = client.tencent { action = "GetRegions", params = {} }
    req.headers.authorization = "SKIP"
    local r = client.json(require("kmsemu").handle(req)).Response
    assert.are.equal("AuthFailure.InvalidAuthorization", r.Error.Code)
  end)
end)
