-- Tencent hosted data keys (section 13.8): GenerateDataKey with
-- IsHostedByKms 1, ImportDataKey, their states, names, descriptions,
-- listings, deletion schedule (driven by the fake clock), quota, the
-- plaintext with and without a public-key wrap, every documented code a
-- request can reach, and persistence in a data directory.
local core = require "kmsemu.core"
local kmsemu = require "kmsemu"
local tc = require "support.tencent"

local K = tc.K
local NOW = 1795000000 -- 2026-11-18T09:46:40Z
local DAY = 86400
local ABSENT = "00000000-aaaa-11e9-b129-000000000000"

local function hosted(name, extra)
  local p = { KeyId = K.sm4, NumberOfBytes = 32, IsHostedByKms = 1, DataKeyName = name }
  for k, v in pairs(extra or {}) do
    p[k] = v
  end
  return tc.ok("GenerateDataKey", p)
end

local function meta(id)
  return tc.ok("DescribeDataKey", { DataKeyId = id }).DataKeyMetadata
end

local function state(id)
  return meta(id).KeyState
end

describe("tencent GenerateDataKey with IsHostedByKms", function()
  before_each(function()
    tc.start()
    tc.clock(NOW)
  end)

  it("keeps the data key and describes it", function()
    local r = hosted("dk-one", { Description = "first", Tags = { { TagKey = "env", TagValue = "dev" } } })
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", r.DataKeyId)
    assert.are.same({ 0, "ok" }, { r.TagCode, r.TagMsg })
    local m = meta(r.DataKeyId)
    assert.are.same({ r.DataKeyId, K.sm4, "sym-enabled", "dk-one", 32, NOW, "first", "Enabled",
      700001224419, "user", 0, "TENCENT_KMS", "creatorUin/700001224419/" .. r.DataKeyId },
      { m.DataKeyId, m.KeyId, m.KeyName, m.DataKeyName, m.NumberOfBytes, m.CreateTime, m.Description,
        m.KeyState, m.CreatorUin, m.Owner, m.DeletionDate, m.Origin, m.ResourceId })
    assert.are.equal(r.Plaintext, tc.ok("GetDataKeyPlaintext", { DataKeyId = r.DataKeyId }).Plaintext)
    assert.are.equal(r.CiphertextBlob,
      tc.ok("GetDataKeyCiphertextBlob", { DataKeyId = r.DataKeyId }).CiphertextBlob)
    assert.are.equal(r.Plaintext, tc.ok("Decrypt", { CiphertextBlob = r.CiphertextBlob }).Plaintext)
    assert.is_nil(tc.ok("GenerateDataKey", { KeyId = K.sm4, KeySpec = "AES_128" }).DataKeyId)
    assert.is_nil(hosted("dk-untagged").TagCode)
  end)

  it("keeps the EncryptionContext of the blob it hosts", function()
    local r = hosted("dk-context", { EncryptionContext = '{"a":"1"}' })
    assert.are.equal(r.Plaintext, tc.ok("GetDataKeyPlaintext", { DataKeyId = r.DataKeyId }).Plaintext)
    assert.are.equal("InvalidParameterValue.InvalidCiphertext",
      tc.code("Decrypt", { CiphertextBlob = r.CiphertextBlob }))
  end)

  it("refuses bad names, a taken name, long descriptions, bad IsHostedByKms, clusters, duplicated tags",
    function()
      hosted("dk-taken")
      for _, name in ipairs { "", "-lead", "has space", ("n"):rep(61) } do
        assert.are.equal("InvalidParameterValue.InvalidDataKeyName", tc.code("GenerateDataKey",
          { KeyId = K.sm4, KeySpec = "AES_256", IsHostedByKms = 1, DataKeyName = name }), name)
      end
      assert.are.equal("InvalidParameterValue.InvalidDataKeyName", tc.code("GenerateDataKey",
        { KeyId = K.sm4, KeySpec = "AES_256", IsHostedByKms = 1 }))
      assert.are.equal("InvalidParameterValue.DataKeyNameAlreadyExists", tc.code("GenerateDataKey",
        { KeyId = K.sm4, KeySpec = "AES_256", IsHostedByKms = 1, DataKeyName = "dk-taken" }))
      assert.are.equal("InvalidParameter", tc.code("GenerateDataKey", { KeyId = K.sm4, KeySpec = "AES_256",
        IsHostedByKms = 1, DataKeyName = "dk-long", Description = ("d"):rep(101) }))
      assert.are.equal("InvalidParameterValue.InvalidType", tc.code("GenerateDataKey",
        { KeyId = K.sm4, KeySpec = "AES_256", IsHostedByKms = 2, DataKeyName = "dk-two" }))
      assert.are.equal("InvalidParameterValue.InvalidHsmClusterId", tc.code("GenerateDataKey",
        { KeyId = K.sm4, KeySpec = "AES_256", HsmClusterId = "cls-hsm-1" }))
      assert.are.equal("InvalidParameterValue.TagKeysDuplicated", tc.code("GenerateDataKey",
        { KeyId = K.sm4, KeySpec = "AES_256", IsHostedByKms = 1, DataKeyName = "dk-tags",
          Tags = { { TagKey = "a", TagValue = "1" }, { TagKey = "a", TagValue = "2" } } }))
      assert.is_table(hosted(("n"):rep(60)))
    end)

  it("refuses CMKs that cannot encrypt, as without hosting", function()
    local function code(id)
      return tc.code("GenerateDataKey", { KeyId = id, KeySpec = "AES_256", IsHostedByKms = 1, DataKeyName = "x" })
    end
    assert.are.equal("ResourceUnavailable.CmkDisabled", code(K.disabled))
    assert.are.equal("ResourceUnavailable.KeyPendingDelete", code(K.pending_delete))
    assert.are.equal("ResourceUnavailable.CmkNotFound", code(K.absent))
    assert.are.equal("InvalidParameterValue.InvalidKeyId", code("not-a-key"))
    assert.are.equal("InvalidParameterValue.InvalidKeyUsage", code(K.rsa_decrypt))
    assert.are.equal(0, tc.ok("ListDataKeys", {}).TotalCount)
  end)
end)

describe("tencent hosted data key quota", function()
  local world
  before_each(function()
    world = tc.start()
    tc.clock(NOW)
    world.tencent_limits = { data_keys = 2 }
  end)

  it("counts data keys not pending deletion, also when a deletion is cancelled", function()
    local a = hosted("q-a").DataKeyId
    hosted("q-b")
    assert.are.equal("LimitExceeded.DataKeyLimitExceeded", tc.code("GenerateDataKey",
      { KeyId = K.sm4, KeySpec = "AES_256", IsHostedByKms = 1, DataKeyName = "q-c" }))
    assert.are.equal("LimitExceeded.DataKeyLimitExceeded", tc.code("ImportDataKey",
      { DataKeyName = "q-c", ImportType = 2, KeyId = K.sm4, ImportKeyMaterial = "AAECAw==" }))
    local s = tc.ok("GetServiceStatus", {})
    assert.are.same({ true, 2, 2 }, { s.IsAllowedDataKeyHosted, s.DataKeyLimit, s.DataKeyUsedCount })
    tc.ok("ScheduleDataKeyDeletion", { DataKeyId = a, PendingWindowInDays = 7 })
    assert.are.equal(1, tc.ok("GetServiceStatus", {}).DataKeyUsedCount)
    hosted("q-c")
    assert.are.equal("LimitExceeded.DataKeyLimitExceeded", tc.code("CancelDataKeyDeletion", { DataKeyId = a }))
  end)
end)

describe("tencent hosted data key states", function()
  local id
  before_each(function()
    tc.start()
    tc.clock(NOW)
    id = hosted("st").DataKeyId
  end)

  it("disables and enables one and many, checking every id first", function()
    local other = hosted("st-2").DataKeyId
    tc.ok("DisableDataKey", { DataKeyId = id })
    assert.are.equal("Disabled", state(id))
    assert.are.equal("ResourceUnavailable.DataKeyDisabled", tc.code("GetDataKeyPlaintext", { DataKeyId = id }))
    tc.ok("DisableDataKey", { DataKeyId = id })
    tc.ok("EnableDataKey", { DataKeyId = id })
    assert.are.equal("Enabled", state(id))
    tc.ok("DisableDataKeys", { DataKeyIds = { id, other } })
    assert.are.same({ "Disabled", "Disabled" }, { state(id), state(other) })
    assert.are.equal("ResourceUnavailable.DataKeyNotFound", tc.code("EnableDataKeys", { DataKeyIds = { id, ABSENT } }))
    assert.are.equal("Disabled", state(id))
    tc.ok("EnableDataKeys", { DataKeyIds = { id, other } })
    assert.are.same({ "Enabled", "Enabled" }, { state(id), state(other) })
    assert.are.equal("InvalidParameterValue.DuplicatedDataKeyId",
      tc.code("DisableDataKeys", { DataKeyIds = { id, id } }))
    assert.are.equal("InvalidParameterValue", tc.code("EnableDataKeys", { DataKeyIds = {} }))
    local ids = {}
    for i = 1, 101 do
      ids[i] = ABSENT
    end
    assert.are.equal("InvalidParameterValue", tc.code("DisableDataKeys", { DataKeyIds = ids }))
  end)

  it("schedules deletion at the end of a Beijing day, cancels it to Disabled, forgets it when due", function()
    assert.are.equal("InvalidParameter.InvalidPendingWindowInDays",
      tc.code("ScheduleDataKeyDeletion", { DataKeyId = id, PendingWindowInDays = 6 }))
    assert.are.equal("InvalidParameter.InvalidPendingWindowInDays",
      tc.code("ScheduleDataKeyDeletion", { DataKeyId = id, PendingWindowInDays = 31 }))
    assert.are.equal("ResourceUnavailable.DataKeyNotPendingDelete",
      tc.code("CancelDataKeyDeletion", { DataKeyId = id }))
    local r = tc.ok("ScheduleDataKeyDeletion", { DataKeyId = id, PendingWindowInDays = 7 })
    local due = ((NOW + 7 * DAY + 8 * 3600) // DAY + 1) * DAY - 1 - 8 * 3600
    assert.are.same({ id, due }, { r.DataKeyId, r.DeletionDate })
    local m = meta(id)
    assert.are.same({ "PendingDelete", due }, { m.KeyState, m.DeletionDate })
    for _, action in ipairs { "DisableDataKey", "EnableDataKey", "GetDataKeyCiphertextBlob" } do
      assert.are.equal("ResourceUnavailable.DataKeyStateNotSupport", tc.code(action, { DataKeyId = id }), action)
    end
    assert.are.equal("ResourceUnavailable.DataKeyStateNotSupport",
      tc.code("ScheduleDataKeyDeletion", { DataKeyId = id, PendingWindowInDays = 7 }))
    assert.are.equal("ResourceUnavailable.DataKeyPendingDelete", tc.code("GetDataKeyPlaintext", { DataKeyId = id }))
    assert.are.equal(id, tc.ok("ListDataKeyDetail", { KeyState = 3 }).DataKeyMetadatas[1].DataKeyId)
    assert.are.equal(id, tc.ok("CancelDataKeyDeletion", { DataKeyId = id }).DataKeyId)
    assert.are.same({ "Disabled", 0 }, { state(id), meta(id).DeletionDate })
    tc.ok("ScheduleDataKeyDeletion", { DataKeyId = id, PendingWindowInDays = 30 })
    tc.clock(NOW + 29 * DAY)
    assert.are.equal("PendingDelete", state(id))
    tc.clock(NOW + 31 * DAY)
    assert.are.equal("ResourceUnavailable.DataKeyNotFound", tc.code("DescribeDataKey", { DataKeyId = id }))
    assert.are.equal(0, tc.ok("ListDataKeyDetail", {}).TotalCount)
  end)

  it("answers for the CMK when it cannot serve the data key", function()
    tc.ok("DisableKey", { KeyId = K.sm4 })
    assert.are.equal("ResourceUnavailable.CmkDisabled", tc.code("GetDataKeyPlaintext", { DataKeyId = id }))
    tc.ok("ScheduleKeyDeletion", { KeyId = K.sm4, PendingWindowInDays = 7 })
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport", tc.code("GetDataKeyPlaintext", { DataKeyId = id }))
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport", tc.code("EnableDataKey", { DataKeyId = id }))
    tc.ok("ScheduleDataKeyDeletion", { DataKeyId = id, PendingWindowInDays = 7 })
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport", tc.code("CancelDataKeyDeletion", { DataKeyId = id }))
    tc.clock(NOW + 8 * DAY)
    assert.are.equal("ResourceUnavailable.DataKeyNotFound", tc.code("DescribeDataKey", { DataKeyId = id }))
  end)

  it("renames and redescribes in any state, within the rules", function()
    tc.ok("UpdateDataKeyName", { DataKeyId = id, DataKeyName = "renamed" })
    tc.ok("UpdateDataKeyDescription", { DataKeyId = id, Description = "about" })
    local m = meta(id)
    assert.are.same({ "renamed", "about" }, { m.DataKeyName, m.Description })
    hosted("other-name")
    assert.are.equal("InvalidParameterValue", tc.code("UpdateDataKeyName", { DataKeyId = id, DataKeyName = "other-name" }))
    assert.are.equal("InvalidParameterValue", tc.code("UpdateDataKeyName", { DataKeyId = id, DataKeyName = "bad name" }))
    assert.are.equal("InvalidParameterValue.InvalidDataKeyName",
      tc.code("UpdateDataKeyDescription", { DataKeyId = id, Description = ("d"):rep(101) }))
    tc.ok("ScheduleDataKeyDeletion", { DataKeyId = id, PendingWindowInDays = 7 })
    tc.ok("UpdateDataKeyName", { DataKeyId = id, DataKeyName = "renamed-again" })
  end)

  it("refuses malformed and unknown ids and member accounts on every action", function()
    for _, action in ipairs { "DescribeDataKey", "EnableDataKey", "DisableDataKey", "CancelDataKeyDeletion",
        "GetDataKeyPlaintext", "GetDataKeyCiphertextBlob" } do
      assert.are.equal("InvalidParameterValue.InvalidDataKeyId", tc.code(action, { DataKeyId = "nope" }), action)
      assert.are.equal("ResourceUnavailable.DataKeyNotFound", tc.code(action, { DataKeyId = ABSENT }), action)
    end
    assert.are.equal("InvalidParameterValue.InvalidDataKeyId",
      tc.code("ScheduleDataKeyDeletion", { DataKeyId = "nope", PendingWindowInDays = 7 }))
    assert.are.equal("ResourceUnavailable.DataKeyNotFound",
      tc.code("UpdateDataKeyName", { DataKeyId = ABSENT, DataKeyName = "n" }))
    assert.are.equal("InvalidParameterValue.InvalidDataKeyId",
      tc.code("UpdateDataKeyDescription", { DataKeyId = "nope", Description = "d" }))
    assert.are.equal("InvalidParameterValue.InvalidDataKeyId", tc.code("DescribeDataKeys", { DataKeyIds = { "x" } }))
    assert.are.equal("UnsupportedOperation.NotRoleOperation",
      tc.code("DescribeDataKey", { DataKeyId = id, MemberAccount = { MemberUin = 1 } }))
    assert.are.equal("UnsupportedOperation.NotRoleOperation",
      tc.code("ListDataKeyDetail", { MemberAccounts = { { MemberUin = 1 } } }))
    assert.are.equal("MissingParameter", tc.code("DescribeDataKey", {}))
    assert.are.equal("UnknownParameter", tc.code("DescribeDataKey", { DataKeyId = id, KeyId = K.sm4 }))
  end)
end)

describe("tencent GetDataKeyPlaintext with EncryptionPublicKey", function()
  before_each(function() tc.start() end)

  it("wraps the data key for an SM2 or RSA public key, with its own codes", function()
    local r = hosted("wrapped")
    local sm2_pem = tc.ok("GetPublicKey", { KeyId = K.sm2_decrypt }).PublicKeyPem
    local w = tc.ok("GetDataKeyPlaintext", { DataKeyId = r.DataKeyId, EncryptionPublicKey = sm2_pem,
      EncryptionAlgorithm = "SM2_C1C3C2_ASN1" }).Plaintext
    assert.are.equal(r.Plaintext, tc.ok("AsymmetricSm2Decrypt", { KeyId = K.sm2_decrypt, Ciphertext = w }).Plaintext)
    local rsa_pem = tc.ok("GetPublicKey", { KeyId = K.rsa_decrypt }).PublicKeyPem
    w = tc.ok("GetDataKeyPlaintext", { DataKeyId = r.DataKeyId, EncryptionPublicKey = rsa_pem,
      EncryptionAlgorithm = "RSAES_OAEP_SHA_256" }).Plaintext
    assert.are.equal(r.Plaintext, tc.ok("AsymmetricRsaDecrypt",
      { KeyId = K.rsa_decrypt, Ciphertext = w, Algorithm = "RSAES_OAEP_SHA_256" }).Plaintext)
    assert.are.equal("InvalidParameterValue.InvalidType", tc.code("GetDataKeyPlaintext",
      { DataKeyId = r.DataKeyId, EncryptionPublicKey = rsa_pem, EncryptionAlgorithm = "RSA" }))
    assert.are.equal("FailedOperation.EncryptionError", tc.code("GetDataKeyPlaintext",
      { DataKeyId = r.DataKeyId, EncryptionPublicKey = "not a key", EncryptionAlgorithm = "RSAES_OAEP_SHA_1" }))
  end)
end)

describe("tencent ImportDataKey", function()
  before_each(function()
    tc.start()
    tc.clock(NOW)
  end)

  it("imports a KMS ciphertext (TENCENT_KMS) and a plaintext (EXTERNAL)", function()
    local g = tc.ok("GenerateDataKey", { KeyId = K.sm4, NumberOfBytes = 24 })
    local r = tc.ok("ImportDataKey", { DataKeyName = "from-blob", ImportType = 1, ImportKeyMaterial = g.CiphertextBlob,
      KeyId = K.sm4, Description = "blob", Tags = { { TagKey = "env", TagValue = "dev" } } })
    assert.are.same({ K.sm4, 0, "ok" }, { r.KeyId, r.TagCode, r.TagMsg })
    local m = meta(r.DataKeyId)
    assert.are.same({ "TENCENT_KMS", 24, "blob" }, { m.Origin, m.NumberOfBytes, m.Description })
    assert.are.equal(g.Plaintext, tc.ok("GetDataKeyPlaintext", { DataKeyId = r.DataKeyId }).Plaintext)
    assert.are.equal(g.CiphertextBlob, tc.ok("GetDataKeyCiphertextBlob", { DataKeyId = r.DataKeyId }).CiphertextBlob)
    local p = tc.ok("ImportDataKey", { DataKeyName = "from-plain", ImportType = 2, KeyId = K.aes,
      ImportKeyMaterial = "AAECAwQFBgc=" })
    assert.are.equal(K.aes, p.KeyId)
    assert.is_nil(p.TagCode)
    m = meta(p.DataKeyId)
    assert.are.same({ "EXTERNAL", 8, "sym-aes" }, { m.Origin, m.NumberOfBytes, m.KeyName })
    assert.are.equal("AAECAwQFBgc=", tc.ok("GetDataKeyPlaintext", { DataKeyId = p.DataKeyId }).Plaintext)
    local blob = tc.ok("GetDataKeyCiphertextBlob", { DataKeyId = p.DataKeyId }).CiphertextBlob
    assert.are.equal("AAECAwQFBgc=", tc.ok("Decrypt", { CiphertextBlob = blob }).Plaintext)
  end)

  it("refuses what it cannot import, with the documented codes", function()
    local g = tc.ok("GenerateDataKey", { KeyId = K.sm4, NumberOfBytes = 16 })
    local function code(p)
      return tc.code("ImportDataKey", p)
    end
    assert.are.equal("InvalidParameterValue.InvalidType",
      code { DataKeyName = "i", ImportType = 3, ImportKeyMaterial = "AAEC", KeyId = K.sm4 })
    assert.are.equal("InvalidParameterValue.InvalidImportKeyMaterial",
      code { DataKeyName = "i", ImportType = 1, ImportKeyMaterial = "bm90IGEgYmxvYg==" })
    local ctx = tc.ok("GenerateDataKey", { KeyId = K.sm4, NumberOfBytes = 16, EncryptionContext = '{"a":"b"}' })
    assert.are.equal("InvalidParameterValue.InvalidImportKeyMaterial",
      code { DataKeyName = "i", ImportType = 1, ImportKeyMaterial = ctx.CiphertextBlob })
    assert.are.equal("InvalidParameterValue.InvalidKeyId",
      code { DataKeyName = "i", ImportType = 1, ImportKeyMaterial = g.CiphertextBlob, KeyId = K.aes })
    assert.are.equal("InvalidParameterValue.InvalidKeyId",
      code { DataKeyName = "i", ImportType = 2, ImportKeyMaterial = "AAEC" })
    for _, bad in ipairs { "%%%", "", core.b64(("x"):rep(1025)) } do
      assert.are.equal("InvalidParameterValue.InvalidPlaintext",
        code { DataKeyName = "i", ImportType = 2, ImportKeyMaterial = bad, KeyId = K.sm4 }, bad)
    end
    assert.are.equal("InvalidParameterValue.InvalidDataKeyName",
      code { DataKeyName = "bad name", ImportType = 2, ImportKeyMaterial = "AAEC", KeyId = K.sm4 })
    hosted("i-taken")
    assert.are.equal("InvalidParameterValue.InvalidDataKeyName",
      code { DataKeyName = "i-taken", ImportType = 2, ImportKeyMaterial = "AAEC", KeyId = K.sm4 })
    for _, cmk in ipairs {
      { K.disabled, "ResourceUnavailable.CmkDisabled" }, { K.archived, "ResourceUnavailable.CmkArchived" },
      { K.pending_delete, "ResourceUnavailable.KeyPendingDelete" },
      { K.ext_pending, "ResourceUnavailable.CmkStateNotSupport" },
      { K.absent, "ResourceUnavailable.CmkNotFound" }, { K.sm2_sign, "InvalidParameterValue.InvalidKeyUsage" },
    } do
      assert.are.equal(cmk[2], code { DataKeyName = "i", ImportType = 2, ImportKeyMaterial = "AAEC", KeyId = cmk[1] },
        cmk[1])
    end
    assert.are.equal("InvalidParameterValue.TagKeysDuplicated", code { DataKeyName = "i", ImportType = 2,
      ImportKeyMaterial = "AAEC", KeyId = K.sm4,
      Tags = { { TagKey = "a", TagValue = "1" }, { TagKey = "a", TagValue = "2" } } })
    assert.are.equal("InvalidParameterValue.InvalidHsmClusterId", code { DataKeyName = "i", ImportType = 2,
      ImportKeyMaterial = "AAEC", KeyId = K.sm4, HsmClusterId = "cls-hsm-1" })
    assert.are.equal("InvalidParameter", code { DataKeyName = "i", ImportType = 2,
      ImportKeyMaterial = "AAEC", KeyId = K.sm4, Description = ("d"):rep(101) })
  end)
end)

describe("tencent ListDataKeys, ListDataKeyDetail, DescribeDataKeys", function()
  local a, b, c
  before_each(function()
    tc.start()
    tc.clock(NOW)
    a = hosted("list-a", { Tags = { { TagKey = "team", TagValue = "core" } } }).DataKeyId
    tc.advance(1)
    b = tc.ok("ImportDataKey", { DataKeyName = "list-b", ImportType = 2, KeyId = K.aes,
      ImportKeyMaterial = "AAECAwQFBgcICQoLDA0ODw==" }).DataKeyId
    tc.advance(1)
    c = hosted("other-c").DataKeyId
    tc.ok("DisableDataKey", { DataKeyId = b })
    tc.ok("ScheduleDataKeyDeletion", { DataKeyId = c, PendingWindowInDays = 7 })
  end)

  local function ids(list, field)
    local out = {}
    for i, x in ipairs(list) do
      out[i] = x[field or "DataKeyId"]
    end
    return out
  end

  it("lists Enabled and Disabled data keys newest first, paged", function()
    local r = tc.ok("ListDataKeys", {})
    assert.are.same({ b, a }, ids(r.DataKeys))
    assert.are.equal(2, r.TotalCount)
    r = tc.ok("ListDataKeys", { Offset = 1, Limit = 1 })
    assert.are.same({ a }, ids(r.DataKeys))
    assert.are.equal(0, tc.ok("ListDataKeys", { Role = 1 }).TotalCount)
    assert.are.equal("InvalidParameterValue", tc.code("ListDataKeys", { Limit = 201 }))
    assert.are.equal("InvalidParameterValue", tc.code("ListDataKeys", { Role = 2 }))
    assert.are.equal("InvalidParameterValue.InvalidHsmClusterId", tc.code("ListDataKeys", { HsmClusterId = "x" }))
    assert.are.equal(0, tc.ok("ListDataKeys", {}, { region = "ap-singapore" }).TotalCount)
  end)

  it("filters the details by state, origin, CMK, length, name, tags, and orders them", function()
    assert.are.same({ c, b, a }, ids(tc.ok("ListDataKeyDetail", {}).DataKeyMetadatas))
    assert.are.same({ a, b, c }, ids(tc.ok("ListDataKeyDetail", { OrderType = 1 }).DataKeyMetadatas))
    for st, want in pairs { [1] = { a }, [2] = { b }, [3] = { c } } do
      assert.are.same(want, ids(tc.ok("ListDataKeyDetail", { KeyState = st }).DataKeyMetadatas), st)
    end
    assert.are.same({ b }, ids(tc.ok("ListDataKeyDetail", { Origin = "EXTERNAL" }).DataKeyMetadatas))
    assert.are.same({ c, a }, ids(tc.ok("ListDataKeyDetail", { Origin = "TENCENT_KMS" }).DataKeyMetadatas))
    assert.are.same({ b }, ids(tc.ok("ListDataKeyDetail", { KeyId = K.aes }).DataKeyMetadatas))
    assert.are.same({ b }, ids(tc.ok("ListDataKeyDetail", { DataKeyLen = 16 }).DataKeyMetadatas))
    assert.are.same({ b, a }, ids(tc.ok("ListDataKeyDetail", { SearchKeyAlias = "LIST" }).DataKeyMetadatas))
    assert.are.same({ a }, ids(tc.ok("ListDataKeyDetail", { SearchKeyAlias = a:sub(1, 8) }).DataKeyMetadatas))
    assert.are.same({ a }, ids(tc.ok("ListDataKeyDetail",
      { TagFilters = { { TagKey = "team", TagValue = { "core" } } } }).DataKeyMetadatas))
    local r = tc.ok("ListDataKeyDetail", { Limit = 1, Offset = 1 })
    assert.are.same({ { b }, 3 }, { ids(r.DataKeyMetadatas), r.TotalCount })
    assert.are.equal("InvalidParameterValue.InvalidKeyId", tc.code("ListDataKeyDetail", { KeyId = "x" }))
    assert.are.equal("ResourceUnavailable.CmkNotFound", tc.code("ListDataKeyDetail", { KeyId = K.absent }))
    for _, bad in ipairs { { KeyState = 4 }, { OrderType = 2 }, { Origin = "all" }, { Limit = 201 }, { Role = 3 } } do
      assert.are.equal("InvalidParameter", tc.code("ListDataKeyDetail", bad))
    end
    assert.are.equal("InvalidParameterValue.InvalidHsmClusterId",
      tc.code("ListDataKeyDetail", { HsmClusterId = "x" }))
  end)

  it("describes several in the order asked", function()
    local r = tc.ok("DescribeDataKeys", { DataKeyIds = { c, a } })
    assert.are.same({ c, a }, ids(r.DataKeyMetadatas))
    assert.are.same({ "PendingDelete", "Enabled" }, ids(r.DataKeyMetadatas, "KeyState"))
    assert.are.equal("InvalidParameterValue.DuplicatedDataKeyId", tc.code("DescribeDataKeys", { DataKeyIds = { a, a } }))
    assert.are.equal("ResourceUnavailable.DataKeyNotFound", tc.code("DescribeDataKeys", { DataKeyIds = { a, ABSENT } }))
    assert.are.equal("InvalidParameterValue", tc.code("DescribeDataKeys", { DataKeyIds = {} }))
  end)
end)

describe("tencent hosted data keys in a data directory #persist", function()
  it("survive a restart with their state, name and plaintext", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    tc.clock(nil)
    assert.is_nil(kmsemu.start { scenario = "scenarios/tencent.lua", data_dir = dir .. "/data" })
    local r = hosted("kept")
    tc.ok("UpdateDataKeyDescription", { DataKeyId = r.DataKeyId, Description = "kept across" })
    tc.ok("DisableDataKey", { DataKeyId = r.DataKeyId })
    assert.is_nil(kmsemu.start { scenario = "scenarios/tencent.lua", data_dir = dir .. "/data" })
    local m = meta(r.DataKeyId)
    assert.are.same({ "kept", "kept across", "Disabled" }, { m.DataKeyName, m.Description, m.KeyState })
    tc.ok("EnableDataKey", { DataKeyId = r.DataKeyId })
    assert.are.equal(r.Plaintext, tc.ok("GetDataKeyPlaintext", { DataKeyId = r.DataKeyId }).Plaintext)
    assert.is_nil(kmsemu.start { scenario = "scenarios/tencent.lua" })
    os.execute("rm -rf " .. dir)
  end)
end)
