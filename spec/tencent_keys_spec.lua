-- Tencent CMK lifecycle (section 13.2): CreateKey, DescribeKey(s),
-- ListKeys, ListKeyDetail, enabling and disabling, deletion, aliases,
-- descriptions and archiving, with the state rules of section 6.2.
local tc = require "support.tencent"

local K = tc.K
local NOW = 1795000000 -- 2026-11-18T09:46:40Z

local function describe_key(id, opts)
  return tc.ok("DescribeKey", { KeyId = id }, opts).KeyMetadata
end

describe("tencent CreateKey", function()
  before_each(function()
    tc.start()
    tc.clock(NOW)
  end)

  it("creates an enabled SM4 key in an SM region and AES-256 in a FIPS one", function()
    local r = tc.ok("CreateKey", { Alias = "created-1", Description = "d" })
    assert.are.same({ "created-1", "d", "Enabled", "ENCRYPT_DECRYPT", NOW },
      { r.Alias, r.Description, r.KeyState, r.KeyUsage, r.CreateTime })
    assert.is_nil(r.TagCode)
    local m = describe_key(r.KeyId)
    assert.are.equal(4, m.Type)
    assert.are.equal("TENCENT_KMS", m.Origin)
    assert.is_false(m.KeyRotationEnabled)
    local sg = tc.ok("CreateKey", { Alias = "created-sg" }, { region = "ap-singapore" })
    assert.are.equal(2, describe_key(sg.KeyId, { region = "ap-singapore" }).Type)
    local enc = tc.ok("Encrypt", { KeyId = r.KeyId, Plaintext = "aGk=" })
    assert.are.equal("aGk=", tc.ok("Decrypt", { CiphertextBlob = enc.CiphertextBlob }).Plaintext)
  end)

  it("maps every documented KeyUsage", function()
    for usage, t in pairs {
      ASYMMETRIC_DECRYPT_RSA_2048 = 2, ASYMMETRIC_DECRYPT_SM2 = 4, ASYMMETRIC_SIGN_VERIFY_SM2 = 4,
      ASYMMETRIC_SIGN_VERIFY_ECC = 2, ASYMMETRIC_SIGN_VERIFY_RSA_2048 = 2,
      ASYMMETRIC_SIGN_VERIFY_ECDSA384 = 2, ASYMMETRIC_SIGN_VERIFY_RSA_3072 = 2,
    } do
      local r = tc.ok("CreateKey", { Alias = "u-" .. usage:lower():gsub("_", "-"), KeyUsage = usage })
      local m = describe_key(r.KeyId)
      assert.are.equal(usage, m.KeyUsage)
      assert.are.equal(t, m.Type, usage)
    end
  end)

  it("makes Type 2 an EXTERNAL key awaiting its material", function()
    local r = tc.ok("CreateKey", { Alias = "byok", Type = 2 })
    assert.are.equal("PendingImport", r.KeyState)
    local m = describe_key(r.KeyId)
    assert.are.equal("EXTERNAL", m.Origin)
    assert.are.equal(0, m.ValidTo)
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport",
      tc.code("Encrypt", { KeyId = r.KeyId, Plaintext = "aGk=" }))
  end)

  it("answers tags with TagCode and TagMsg, and refuses a tag key twice", function()
    local r = tc.ok("CreateKey", { Alias = "tagged", Tags = { { TagKey = "env", TagValue = "qa" } } })
    assert.are.equal(0, r.TagCode)
    assert.are.equal("ok", r.TagMsg)
    assert.are.equal("InvalidParameterValue.TagKeysDuplicated", tc.code("CreateKey", { Alias = "t2",
      Tags = { { TagKey = "a", TagValue = "1" }, { TagKey = "a", TagValue = "2" } } }))
  end)

  it("refuses bad aliases, a taken alias, bad usages and types, clusters, long descriptions", function()
    for _, alias in ipairs { "-lead", "has space", ("a"):rep(61), "kms-reserved", "" } do
      assert.are.equal("InvalidParameterValue.InvalidAlias", tc.code("CreateKey", { Alias = alias }), alias)
    end
    assert.is_table(tc.ok("CreateKey", { Alias = ("a"):rep(60) }))
    assert.are.equal("InvalidParameterValue.AliasAlreadyExists", tc.code("CreateKey", { Alias = "sym-enabled" }))
    assert.are.equal("InvalidParameterValue.InvalidKeyUsage", tc.code("CreateKey", { Alias = "x", KeyUsage = "SIGN" }))
    assert.are.equal("InvalidParameterValue.InvalidType", tc.code("CreateKey", { Alias = "x", Type = 3 }))
    assert.are.equal("InvalidParameterValue.InvalidType",
      tc.code("CreateKey", { Alias = "x", Type = 2, KeyUsage = "ASYMMETRIC_DECRYPT_SM2" }))
    assert.are.equal("InvalidParameterValue.InvalidHsmClusterId",
      tc.code("CreateKey", { Alias = "x", HsmClusterId = "cls-hsm-1" }))
    assert.are.equal("InvalidParameter", tc.code("CreateKey", { Alias = "x", Description = ("d"):rep(1025) }))
    assert.are.equal("MissingParameter", tc.code("CreateKey", {}))
  end)

  it("holds 200 CMKs per region, not counting keys pending deletion or managed by products", function()
    local world = tc.start()
    world.tencent_limits = { cmks = 16 }
    -- 17 keys in ap-guangzhou: one pending deletion, one managed by cos.
    assert.are.equal(15, tc.ok("GetServiceStatus", {}).CmkUserCount)
    tc.ok("CreateKey", { Alias = "last-one" })
    assert.are.equal("LimitExceeded.CmkLimitExceeded", tc.code("CreateKey", { Alias = "one-too-many" }))
    assert.is_table(tc.ok("CreateKey", { Alias = "elsewhere" }, { region = "ap-singapore" }))
    world.tencent_limits = nil
    assert.are.equal(200, tc.ok("GetServiceStatus", {}).CmkLimit)
  end)
end)

describe("tencent DescribeKey and DescribeKeys", function()
  before_each(function() tc.start() end)

  it("gives KeyMetadata with every field in its JSON type", function()
    local r, res = tc.call("DescribeKey", { KeyId = K.sm4 })
    local m = r.KeyMetadata
    local types = {
      KeyId = "string", Alias = "string", CreateTime = "integer", Description = "string",
      KeyState = "string", KeyUsage = "string", Type = "integer", CreatorUin = "integer",
      KeyRotationEnabled = "boolean", Owner = "string", NextRotateTime = "integer",
      DeletionDate = "integer", Origin = "string", ValidTo = "integer", ResourceId = "string",
      RotateDays = "integer", LastRotateTime = "integer", IsSyncReplica = "integer",
      CreatorUinString = "string",
    }
    for field, t in pairs(types) do
      -- cjson decodes every number as a float: read integers off the text.
      local v = t == "integer" and res.body:match('"' .. field .. '":(%-?%d+)[,}]') or m[field]
      assert.are.equal(t == "integer" and "string" or t, type(v), field)
    end
    assert.are.equal("creatorUin/700001224419/" .. K.sm4, m.ResourceId)
    assert.are.equal(m.CreateTime + 365 * 86400, m.NextRotateTime)
    assert.are.equal("user", m.Owner)
    assert.are.equal("cos", describe_key(K.managed).Owner)
  end)

  it("names every state", function()
    for id, state in pairs { [K.sm4] = "Enabled", [K.disabled] = "Disabled",
        [K.pending_delete] = "PendingDelete", [K.ext_pending] = "PendingImport",
        [K.archived] = "Archived" } do
      assert.are.equal(state, describe_key(id).KeyState)
    end
    assert.are.equal(4102444800, describe_key(K.pending_delete).DeletionDate)
  end)

  it("refuses malformed and unknown ids, and keys of another region", function()
    assert.are.equal("InvalidParameterValue.InvalidKeyId", tc.code("DescribeKey", { KeyId = "nope" }))
    assert.are.equal("ResourceUnavailable.CmkNotFound", tc.code("DescribeKey", { KeyId = K.absent }))
    assert.are.equal("ResourceUnavailable.CmkNotFound", tc.code("DescribeKey", { KeyId = K.singapore }))
  end)

  for _, method in ipairs { "POST", "GET" } do
    it("describes keys in the order asked, through " .. method, function()
      local r = tc.ok("DescribeKeys", { KeyIds = { K.disabled, K.sm4 } }, { method = method })
      assert.are.equal(2, #r.KeyMetadatas)
      assert.are.equal(K.disabled, r.KeyMetadatas[1].KeyId)
      assert.are.equal(K.sm4, r.KeyMetadatas[2].KeyId)
    end)
  end

  it("refuses duplicates, more than 100 ids, none, and unknown ones", function()
    assert.are.equal("InvalidParameterValue.DuplicatedKeyId",
      tc.code("DescribeKeys", { KeyIds = { K.sm4, K.sm4 } }))
    local many = {}
    for i = 1, 101 do
      many[i] = ("%08x-1e38-11e9-b129-5cb9019b4b01"):format(i)
    end
    assert.are.equal("InvalidParameter", tc.code("DescribeKeys", { KeyIds = many }))
    assert.are.equal("InvalidParameter", tc.code("DescribeKeys", { KeyIds = {} }, { body = '{"KeyIds":[]}' }))
    assert.are.equal("ResourceUnavailable.CmkNotFound", tc.code("DescribeKeys", { KeyIds = { K.sm4, K.absent } }))
    assert.are.equal("InvalidParameter", tc.code("DescribeKeys", { KeyIds = "x" }))
  end)
end)

describe("tencent ListKeys and ListKeyDetail", function()
  before_each(function() tc.start() end)

  local function ids(list)
    local out = {}
    for i, k in ipairs(list) do
      out[i] = k.KeyId
    end
    return out
  end

  it("lists Enabled, Disabled and PendingImport user keys, newest first, 10 by default", function()
    local r = tc.ok("ListKeys", {})
    assert.are.equal(14, r.TotalCount) -- 16 user keys less PendingDelete and Archived
    assert.are.equal(10, #r.Keys)
    assert.are.equal(K.ecc_disabled, r.Keys[1].KeyId)
    local all = ids(tc.ok("ListKeys", { Limit = 200 }).Keys)
    assert.are.equal(14, #all)
    for _, id in ipairs(all) do
      assert.are_not.equal(K.pending_delete, id)
      assert.are_not.equal(K.archived, id)
      assert.are_not.equal(K.managed, id)
    end
    assert.are.same({ K.managed }, ids(tc.ok("ListKeys", { Role = 1 }).Keys))
  end)

  it("pages with Offset and Limit, and answers [] past the end", function()
    local r = tc.ok("ListKeys", { Offset = 12, Limit = 5 })
    assert.are.equal(2, #r.Keys)
    local _, res = tc.call("ListKeys", { Offset = 100 })
    assert.matches('"Keys":%[%]', res.body)
    assert.are.equal("InvalidParameter", tc.code("ListKeys", { Limit = 201 }))
    assert.are.equal("InvalidParameter", tc.code("ListKeys", { Role = 2 }))
    assert.are.equal("InvalidParameterValue.InvalidHsmClusterId", tc.code("ListKeys", { HsmClusterId = "c" }))
  end)

  it("filters ListKeyDetail by state, origin, usage, alias and tags, and orders it", function()
    local function count(p) return tc.ok("ListKeyDetail", p).TotalCount end
    assert.are.equal(8, count {}) -- ENCRYPT_DECRYPT when KeyUsage is empty
    assert.are.equal(16, count { KeyUsage = "ALL" })
    assert.are.equal(1, count { KeyUsage = "ASYMMETRIC_SIGN_VERIFY_ECDSA384" })
    assert.are.equal(2, count { KeyUsage = "ALL", KeyState = 2 })
    assert.are.equal(1, count { KeyState = 3 })
    assert.are.equal(1, count { KeyState = 4 })
    assert.are.equal(1, count { KeyState = 5 })
    assert.are.equal(2, count { Origin = "EXTERNAL" })
    assert.are.equal(6, count { Origin = "TENCENT_KMS" })
    assert.are.equal(2, count { SearchKeyAlias = "EXT-" })
    assert.are.equal(1, count { SearchKeyAlias = K.sm4:sub(1, 8) })
    assert.are.equal(2, count { TagFilters = { { TagKey = "env" } } })
    assert.are.equal(1, count { TagFilters = { { TagKey = "env", TagValue = { "prod", "x" } } } })
    assert.are.equal(1, count { TagFilters = { { TagKey = "env" }, { TagKey = "team" } } })
    local asc = tc.ok("ListKeyDetail", { OrderType = 1, Limit = 1 }).KeyMetadatas[1]
    assert.are.equal(K.sm4, asc.KeyId)
    local desc = tc.ok("ListKeyDetail", { Limit = 1 }).KeyMetadatas[1]
    assert.are.equal(K.ext_imported, desc.KeyId)
    for _, p in ipairs { { KeyState = 6 }, { OrderType = 2 }, { Origin = "all" }, { KeyUsage = "X" } } do
      assert.are.equal("InvalidParameter", tc.code("ListKeyDetail", p))
    end
  end)

  it("takes TagFilters flattened in a GET query", function()
    local r = tc.ok("ListKeyDetail", { TagFilters = { { TagKey = "env", TagValue = { "dev" } } } },
      { method = "GET" })
    assert.are.equal(1, r.TotalCount)
    assert.are.equal(K.sm4, r.KeyMetadatas[1].KeyId)
  end)
end)

describe("tencent key states", function()
  before_each(function()
    tc.start()
    tc.clock(NOW)
  end)

  it("disables and enables, idempotently, and refuses other states", function()
    tc.ok("DisableKey", { KeyId = K.sm4 })
    assert.are.equal("ResourceUnavailable.CmkDisabled", tc.code("Encrypt", { KeyId = K.sm4, Plaintext = "aGk=" }))
    tc.ok("DisableKey", { KeyId = K.sm4 })
    tc.ok("EnableKey", { KeyId = K.sm4 })
    tc.ok("EnableKey", { KeyId = K.sm4 })
    assert.is_table(tc.ok("Encrypt", { KeyId = K.sm4, Plaintext = "aGk=" }))
    for _, id in ipairs { K.pending_delete, K.archived, K.ext_pending } do
      assert.are.equal("ResourceUnavailable.CmkStateNotSupport", tc.code("EnableKey", { KeyId = id }))
      assert.are.equal("ResourceUnavailable.CmkStateNotSupport", tc.code("DisableKey", { KeyId = id }))
    end
  end)

  it("changes batches all or nothing", function()
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport",
      tc.code("DisableKeys", { KeyIds = { K.sm4, K.archived } }))
    assert.are.equal("Enabled", describe_key(K.sm4).KeyState)
    tc.ok("DisableKeys", { KeyIds = { K.sm4, K.aes } }, { method = "GET" })
    assert.are.equal("Disabled", describe_key(K.aes).KeyState)
    tc.ok("EnableKeys", { KeyIds = { K.sm4, K.aes, K.disabled } })
    assert.are.equal("Enabled", describe_key(K.disabled).KeyState)
    assert.are.equal("InvalidParameterValue.DuplicatedKeyId", tc.code("EnableKeys", { KeyIds = { K.aes, K.aes } }))
    assert.are.equal("ResourceUnavailable.CmkNotFound", tc.code("EnableKeys", { KeyIds = { K.absent } }))
  end)

  it("schedules deletion of a disabled key only, 7 to 30 days, at the end of a Beijing day", function()
    assert.are.equal("ResourceUnavailable.CmkShouldBeDisabled",
      tc.code("ScheduleKeyDeletion", { KeyId = K.sm4, PendingWindowInDays = 7 }))
    for _, days in ipairs { 6, 31 } do
      assert.are.equal("InvalidParameter.InvalidPendingWindowInDays",
        tc.code("ScheduleKeyDeletion", { KeyId = K.disabled, PendingWindowInDays = days }))
    end
    local r = tc.ok("ScheduleKeyDeletion", { KeyId = K.disabled, PendingWindowInDays = "7" })
    -- NOW + 7 days = 2026-11-25 19:06:40 Beijing; that day ends 15:59:59Z.
    assert.are.equal(1795622399, r.DeletionDate)
    assert.are.equal((r.DeletionDate + 8 * 3600 + 1) % 86400, 0)
    assert.are.equal("PendingDelete", describe_key(K.disabled).KeyState)
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport",
      tc.code("ScheduleKeyDeletion", { KeyId = K.disabled, PendingWindowInDays = 7 }))
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport",
      tc.code("ScheduleKeyDeletion", { KeyId = K.archived, PendingWindowInDays = 7 }))
  end)

  it("cancels a deletion back to Disabled, or PendingImport for a key never imported", function()
    assert.are.equal("ResourceUnavailable.CmkNotPendingDelete", tc.code("CancelKeyDeletion", { KeyId = K.sm4 }))
    tc.ok("ScheduleKeyDeletion", { KeyId = K.disabled, PendingWindowInDays = 10 })
    assert.are.equal(K.disabled, tc.ok("CancelKeyDeletion", { KeyId = K.disabled }).KeyId)
    local m = describe_key(K.disabled)
    assert.are.equal("Disabled", m.KeyState)
    assert.are.equal(0, m.DeletionDate)
    tc.ok("ScheduleKeyDeletion", { KeyId = K.ext_pending, PendingWindowInDays = 10 })
    tc.ok("CancelKeyDeletion", { KeyId = K.ext_pending })
    assert.are.equal("PendingImport", describe_key(K.ext_pending).KeyState)
  end)

  it("deletes a key once its date has passed", function()
    tc.ok("ScheduleKeyDeletion", { KeyId = K.disabled, PendingWindowInDays = 7 })
    tc.advance(8 * 86400)
    assert.are.equal("ResourceUnavailable.CmkNotFound", tc.code("DescribeKey", { KeyId = K.disabled }))
  end)

  it("updates aliases and descriptions, except of keys pending deletion", function()
    tc.ok("UpdateAlias", { KeyId = K.sm4, Alias = "renamed" }, { method = "GET" })
    assert.are.equal("renamed", describe_key(K.sm4).Alias)
    tc.ok("UpdateAlias", { KeyId = K.sm4, Alias = "renamed" })
    assert.are.equal("InvalidParameterValue.AliasAlreadyExists", tc.code("UpdateAlias", { KeyId = K.aes, Alias = "renamed" }))
    assert.are.equal("InvalidParameterValue.InvalidAlias", tc.code("UpdateAlias", { KeyId = K.aes, Alias = "a b" }))
    tc.ok("UpdateKeyDescription", { KeyId = K.sm4, Description = "new words" })
    assert.are.equal("new words", describe_key(K.sm4).Description)
    assert.are.equal("InvalidParameter",
      tc.code("UpdateKeyDescription", { KeyId = K.sm4, Description = ("x"):rep(1025) }))
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport",
      tc.code("UpdateAlias", { KeyId = K.pending_delete, Alias = "zz" }))
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport",
      tc.code("UpdateKeyDescription", { KeyId = K.pending_delete, Description = "zz" }))
  end)

  it("archives: decrypts but does not encrypt; unarchiving enables", function()
    local ct = tc.ok("Encrypt", { KeyId = K.sm4, Plaintext = "aGk=" }).CiphertextBlob
    tc.ok("ArchiveKey", { KeyId = K.sm4 })
    tc.ok("ArchiveKey", { KeyId = K.sm4 })
    assert.are.equal("Archived", describe_key(K.sm4).KeyState)
    assert.are.equal("ResourceUnavailable.CmkArchived", tc.code("Encrypt", { KeyId = K.sm4, Plaintext = "aGk=" }))
    assert.are.equal("ResourceUnavailable.CmkArchived",
      tc.code("GenerateDataKey", { KeyId = K.sm4, NumberOfBytes = 16 }))
    assert.are.equal("aGk=", tc.ok("Decrypt", { CiphertextBlob = ct }).Plaintext)
    tc.ok("CancelKeyArchive", { KeyId = K.sm4 })
    assert.are.equal("Enabled", describe_key(K.sm4).KeyState)
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport", tc.code("CancelKeyArchive", { KeyId = K.sm4 }))
    assert.are.equal("ResourceUnavailable.CmkStateNotSupport", tc.code("ArchiveKey", { KeyId = K.disabled }))
    assert.are.equal("UnsupportedOperation.NotUserCreatedCmk", tc.code("ArchiveKey", { KeyId = K.managed }))
    assert.are.equal("UnsupportedOperation.NotUserCreatedCmk", tc.code("CancelKeyArchive", { KeyId = K.managed }))
  end)
end)

describe("tencent listing order", function()
  it("is total even when keys share a creation time", function()
    tc.start()
    tc.clock(NOW)
    local made = {}
    for i = 1, 40 do
      made[i] = tc.ok("CreateKey", { Alias = "same-second-" .. i }).KeyId
    end
    table.sort(made)
    local r = tc.ok("ListKeys", { Limit = 40 })
    for i = 1, 40 do
      assert.are.equal(made[41 - i], r.Keys[i].KeyId)
    end
    r = tc.ok("ListKeyDetail", { OrderType = 1, Limit = 200 })
    assert.are.equal(made[40], r.KeyMetadatas[#r.KeyMetadatas].KeyId)
  end)
end)
