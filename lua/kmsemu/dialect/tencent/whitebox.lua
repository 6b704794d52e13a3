-- White-box keys (section 13.9): up to 50 per region, Enabled or
-- Disabled, each with its device fingerprints. The real EncryptKey and
-- DecryptKey are obfuscated tables for Tencent's white-box library; here
-- both are the Base64 of the key itself (16 bytes SM4, 32 AES_256), and
-- EncryptByWhiteBox is SM4-CBC or AES-256-CBC with PKCS#7 padding under it
-- and the 16-byte InitializationVector, so that anyone holding the
-- DecryptKey can decrypt with a standard library.
--
-- A white-box key is a keystore key of owner "whitebox/<region>": its
-- material is derived like a CMK's and a data directory keeps it, while
-- no CMK lookup, listing or quota of the region sees it.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local util = require "kmsemu.util"
local P = require "kmsemu.dialect.tencent.params"
local keys = require "kmsemu.dialect.tencent.keys"
local listing = require "kmsemu.dialect.tencent.listing"

local M = {}

local S, I, req, opt = P.S, P.I, P.req, P.opt
local MAX_BATCH = 50
local MAX_DESCRIPTION = 1024
local MAX_PLAINTEXT = 4096
local MAX_FINGERPRINTS = 200
local IV_BYTES = 16
local ALGORITHMS = { AES_256 = "aes-256-cbc", SM4 = "sm4-cbc" }
local STATUS = { enabled = "Enabled", disabled = "Disabled" }
-- The documented ^[0-9a-f]{8}-[0-9a-f]{14}-[0-9a-f]{14}-[0-9a-f]{14}-[0-9a-f]{16}$
local function hex(n)
  return ("[0-9a-f]"):rep(n)
end
local FINGERPRINT = "^" .. hex(8) .. "%-" .. hex(14) .. "%-" .. hex(14) .. "%-" .. hex(14) .. "%-" .. hex(16) .. "$"

local function owner(ctx)
  return "whitebox/" .. ctx.region
end

local function bad_value(detail)
  errors.vendor("InvalidParameterValue", detail)
end

-- Every white-box action answers NotPurchased while the service is off.
local function purchased(ctx)
  if not ctx.whitebox then
    errors.vendor("ResourceUnavailable.NotPurchased")
  end
end

local function each(ctx)
  return ctx.keys:each("tencent", owner(ctx))
end

local function find(ctx, id)
  if not util.is_uuid(id) then
    errors.raise("INVALID_KEY_ID", id)
  end
  return ctx.keys:get("tencent", owner(ctx), id) or errors.vendor("ResourceNotFound", id)
end

-- The key an action's KeyId names, once the service is on.
local function target(ctx, p)
  purchased(ctx)
  return find(ctx, p.KeyId)
end

local function encoded_key(ctx, key)
  return core.b64(ctx.keys:material(key))
end

local function info(ctx, key)
  local k = encoded_key(ctx, key)
  return {
    KeyId = key.id, Alias = key.alias, CreatorUin = ctx.uin, Description = key.description,
    CreateTime = key.created, Status = STATUS[key.state] or "Disabled", OwnerUin = ctx.uin,
    Algorithm = key.spec, EncryptKey = k, DecryptKey = k,
    ResourceId = ("creatorUin/%d/%s"):format(ctx.uin, key.id),
    DeviceFingerprintBind = #key.fingerprints > 0,
  }
end

-- Aliases follow CMK aliases' rule (without the reserved "kms-" prefix)
-- and are unique among the region's white-box keys.
local function create_white_box_key(ctx, p)
  purchased(ctx)
  if #p.Alias > 60 or not p.Alias:find("^[%w][%w_%-]*$") then
    errors.vendor("InvalidParameterValue.InvalidAlias")
  end
  if not ALGORITHMS[p.Algorithm] then
    bad_value("`Algorithm` must be AES_256 or SM4.")
  end
  if p.Description and #p.Description > MAX_DESCRIPTION then
    bad_value(("`Description` is longer than %d bytes."):format(MAX_DESCRIPTION))
  end
  local tags = keys.tags(p.Tags)
  local all = each(ctx)
  for _, key in ipairs(all) do
    if key.alias == p.Alias then
      errors.vendor("InvalidParameterValue.AliasAlreadyExists")
    end
  end
  if #all >= ctx.whitebox_limit then
    errors.vendor("LimitExceeded.KeyLimitExceeded")
  end
  local key = ctx.keys:add {
    dialect = "tencent", owner = owner(ctx), spec = p.Algorithm, usage = "ENCRYPT_DECRYPT",
    alias = p.Alias, description = p.Description, tags = tags, created = ctx.now,
    fingerprints = {},
  }
  local k = encoded_key(ctx, key)
  local out = { KeyId = key.id, EncryptKey = k, DecryptKey = k }
  if p.Tags then
    out.TagCode, out.TagMsg = 0, "ok"
  end
  return out
end

-- Only a disabled key may be deleted.
local function delete_white_box_key(ctx, p)
  local key = target(ctx, p)
  if key.state == "enabled" then
    errors.vendor("FailedOperation", "Disable the white-box key before deleting it.")
  end
  ctx.keys:remove(key)
  return {}
end

local function describe_white_box_key(ctx, p)
  return { KeyInfo = info(ctx, target(ctx, p)) }
end

-- KeyStatus 0 lists disabled keys, 1 enabled ones; oldest first. Limit 0
-- (the default) is no paging.
local function describe_white_box_key_details(ctx, p)
  purchased(ctx)
  local want
  if p.KeyStatus ~= nil then
    want = ({ [0] = "disabled", [1] = "enabled" })[p.KeyStatus] or bad_value("`KeyStatus` must be 0 or 1.")
  end
  local offset, limit = p.Offset or 0, p.Limit or 0
  if offset < 0 or limit < 0 then
    bad_value("`Offset` and `Limit` must be 0 or more.")
  end
  local tagged = listing.tag_filter(p.TagFilters)
  local found = {}
  for _, key in ipairs(ctx.keys:list("tencent", owner(ctx))) do
    if (want == nil or key.state == want) and tagged(key) then
      found[#found + 1] = key
    end
  end
  local last = limit == 0 and #found or math.min(#found, offset + limit)
  local out = {}
  for i = offset + 1, last do
    out[#out + 1] = info(ctx, found[i])
  end
  return { KeyInfos = util.array(out), TotalCount = #found }
end

local function describe_white_box_decrypt_key(ctx, p)
  return { DecryptKey = encoded_key(ctx, target(ctx, p)) }
end

local function describe_white_box_device_fingerprints(ctx, p)
  local list = {}
  for i, f in ipairs(target(ctx, p).fingerprints) do
    list[i] = { Identity = f.identity, Description = f.description }
  end
  return { DeviceFingerprints = util.array(list) }
end

-- Replaces the whole list; an empty or absent one removes every entry.
local function overwrite_white_box_device_fingerprints(ctx, p)
  purchased(ctx)
  local given = p.DeviceFingerprints or {}
  local key = find(ctx, p.KeyId)
  if #given > MAX_FINGERPRINTS then
    errors.vendor("LimitExceeded.FingerprintsLimitExceeded")
  end
  local list = {}
  for i, f in ipairs(given) do
    if not f.Identity:find(FINGERPRINT) then
      bad_value(("`DeviceFingerprints.%d.Identity` is not a device fingerprint."):format(i - 1))
    end
    if f.Description and #f.Description > MAX_DESCRIPTION then
      bad_value(("`DeviceFingerprints.%d.Description` is longer than %d bytes."):format(i - 1, MAX_DESCRIPTION))
    end
    list[i] = { identity = f.Identity, description = f.Description or "" }
  end
  ctx.keys:touch(key).fingerprints = list
  return {}
end

local function describe_white_box_service_status(ctx)
  return { ServiceEnabled = ctx.whitebox }
end

local function set_status(ctx, list, state)
  for _, key in ipairs(list) do
    ctx.keys:touch(key).state = state
  end
  return {}
end

local function one(state)
  return function(ctx, p)
    return set_status(ctx, { target(ctx, p) }, state)
  end
end

-- 1 to 50 ids, no id twice, every one present, before any changes.
local function many(state)
  return function(ctx, p)
    purchased(ctx)
    if #p.KeyIds == 0 or #p.KeyIds > MAX_BATCH then
      errors.raise("INVALID_PARAMETER", ("`KeyIds` takes 1 to %d ids."):format(MAX_BATCH))
    end
    local seen, list = {}, {}
    for i, id in ipairs(p.KeyIds) do
      if seen[id] then
        errors.vendor("InvalidParameterValue.DuplicatedKeyId", id)
      end
      seen[id] = true
      list[i] = find(ctx, id)
    end
    return set_status(ctx, list, state)
  end
end

local function encrypt_by_white_box(ctx, p)
  purchased(ctx)
  local plaintext = core.unb64(p.PlainText)
  if not plaintext or #plaintext == 0 or #plaintext > MAX_PLAINTEXT then
    bad_value("`PlainText` must be Base64 of 1 to 4096 bytes.")
  end
  local iv_text = p.InitializationVector
  local iv
  if iv_text == nil or iv_text == "" then
    iv = core.random(IV_BYTES)
    iv_text = core.b64(iv)
  else
    iv = core.unb64(iv_text)
    if not iv or #iv ~= IV_BYTES then
      bad_value("`InitializationVector` must be Base64 of 16 bytes.")
    end
  end
  local key = find(ctx, p.KeyId)
  if key.state ~= "enabled" then
    errors.vendor("ResourceUnavailable.KeyDisabled")
  end
  local ct = assert(core.cipher(ALGORITHMS[key.spec], ctx.keys:material(key), iv, plaintext, true))
  return { InitializationVector = iv_text, CipherText = core.b64(ct) }
end

local ID = { KeyId = req(S) }
local IDS = { KeyIds = req(P.list(S)) }

M.ACTIONS = {
  CreateWhiteBoxKey = { run = create_white_box_key, params = {
    Alias = req(S), Algorithm = req(S), Description = opt(S), Tags = opt(P.list(P.TAG)) } },
  DeleteWhiteBoxKey = { run = delete_white_box_key, params = ID },
  DescribeWhiteBoxKey = { run = describe_white_box_key, params = ID },
  DescribeWhiteBoxKeyDetails = { run = describe_white_box_key_details, params = {
    KeyStatus = opt(I), Offset = opt(I), Limit = opt(I), TagFilters = opt(P.list(P.TAG_FILTER)) } },
  DescribeWhiteBoxDecryptKey = { run = describe_white_box_decrypt_key, params = ID },
  DescribeWhiteBoxDeviceFingerprints = { run = describe_white_box_device_fingerprints, params = ID },
  OverwriteWhiteBoxDeviceFingerprints = { run = overwrite_white_box_device_fingerprints, params = {
    KeyId = req(S), DeviceFingerprints = opt(P.list(P.object {
      Identity = req(S), Description = opt(S) })) } },
  DescribeWhiteBoxServiceStatus = { run = describe_white_box_service_status, params = {} },
  EnableWhiteBoxKey = { run = one("enabled"), params = ID },
  DisableWhiteBoxKey = { run = one("disabled"), params = ID },
  EnableWhiteBoxKeys = { run = many("enabled"), params = IDS },
  DisableWhiteBoxKeys = { run = many("disabled"), params = IDS },
  EncryptByWhiteBox = { run = encrypt_by_white_box, params = {
    KeyId = req(S), PlainText = req(S), InitializationVector = opt(S) } },
}

return M
