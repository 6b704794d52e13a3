-- Tencent's view of a stored key: its KeyId shape, its KeyState and
-- KeyUsage names, and the lookups every action starts with. A lookup also
-- applies what time does to a key: imported material past its ValidTo is
-- gone, and a key with rotation on gains the versions that fell due.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"
local util = require "kmsemu.util"

local M = {}

local DAY = 86400

M.STATE = {
  enabled = "Enabled", disabled = "Disabled", pending_deletion = "PendingDelete",
  pending_import = "PendingImport", archived = "Archived",
}

-- KeyUsage -> neutral spec and usage. ENCRYPT_DECRYPT has no spec here:
-- the region decides (regions.symmetric_spec).
M.USAGES = {
  ENCRYPT_DECRYPT = { usage = "ENCRYPT_DECRYPT" },
  ASYMMETRIC_DECRYPT_RSA_2048 = { spec = "RSA_2048", usage = "ENCRYPT_DECRYPT" },
  ASYMMETRIC_DECRYPT_SM2 = { spec = "SM2", usage = "ENCRYPT_DECRYPT" },
  ASYMMETRIC_SIGN_VERIFY_SM2 = { spec = "SM2", usage = "SIGN_VERIFY" },
  ASYMMETRIC_SIGN_VERIFY_ECC = { spec = "EC_P256", usage = "SIGN_VERIFY" },
  ASYMMETRIC_SIGN_VERIFY_RSA_2048 = { spec = "RSA_2048", usage = "SIGN_VERIFY" },
  ASYMMETRIC_SIGN_VERIFY_ECDSA384 = { spec = "EC_P384", usage = "SIGN_VERIFY" },
  ASYMMETRIC_SIGN_VERIFY_RSA_3072 = { spec = "RSA_3072", usage = "SIGN_VERIFY" },
  -- Post-quantum (pqc.lua), spelt as ListAlgorithms' documentation does.
  ASYMMETRIC_SIGN_VERIFY_DILITHIUM = { spec = "DILITHIUM", usage = "SIGN_VERIFY" },
  ASYMMETRIC_Encrypt_Decrypt_Kyber_AES = { spec = "KYBER", usage = "ENCRYPT_DECRYPT" },
}

-- RSAES algorithm names (Decrypt's, the import wrapping's, an
-- EncryptionPublicKey's) -> kmsemu.core padding.
M.RSA_PADDING = {
  RSAES_PKCS1_V1_5 = "rsa-pkcs1",
  RSAES_OAEP_SHA_1 = "rsa-oaep-sha1",
  RSAES_OAEP_SHA_256 = "rsa-oaep-sha256",
}

function M.key_usage(key)
  if keystore.is_symmetric(key.spec) then
    return "ENCRYPT_DECRYPT"
  end
  for name, u in pairs(M.USAGES) do
    if u.spec == key.spec and u.usage == key.usage then
      return name
    end
  end
  -- A scenario may declare a spec Tencent does not offer (RSA_4096, ...).
  return (key.usage == "SIGN_VERIFY" and "ASYMMETRIC_SIGN_VERIFY_" or "ASYMMETRIC_DECRYPT_") .. key.spec
end

function M.check_id(id)
  if not util.is_uuid(id) then
    errors.raise("INVALID_KEY_ID", id)
  end
  return id
end

function M.rotate_days(key)
  return key.rotation.interval_days or 365
end

-- The examples show CreateTime + 365 days even with rotation off.
function M.next_rotation(key)
  return (key.rotation.last or key.created) + M.rotate_days(key) * DAY
end

local function expire_material(keys, key, now)
  local t = key.valid_to
  if t and t ~= 0 and t <= now and (key.state == "enabled" or key.state == "disabled") then
    -- Remembered: only the same material may come back.
    key.material_digest = key.material_digest or core.digest("sha256", keys:material(key))
    keys:set_material(key, nil)
    key.state = "pending_import"
    key.valid_to = 0
  end
end

local function refresh(ctx, key)
  expire_material(ctx.keys, key, ctx.now)
  if key.state ~= "pending_deletion" then
    ctx.keys:rotate_due(key, ctx.now)
  end
  return key
end

-- The key of this region, or CmkNotFound.
function M.find(ctx, id)
  local key = ctx.keys:get("tencent", ctx.region, M.check_id(id))
  if not key then
    errors.raise("KEY_NOT_FOUND", id)
  end
  return refresh(ctx, key)
end

-- The key if its state allows cryptography (allow: extra states, such as
-- archived for decryption), else the neutral state error.
function M.usable(ctx, id, allow)
  M.find(ctx, id)
  return ctx.keys:usable("tencent", ctx.region, id, allow)
end

-- Every key of the region in no order and not refreshed, for a count or
-- a search by alias.
function M.each(ctx)
  return ctx.keys:each("tencent", ctx.region)
end

-- Every key of the region, refreshed, oldest first.
function M.all(ctx)
  local out = ctx.keys:list("tencent", ctx.region)
  for _, key in ipairs(out) do
    refresh(ctx, key)
  end
  return out
end

-- A key a cloud product created for itself (Owner is the product).
function M.is_managed(key)
  return key.managed_by ~= nil
end

-- Keys that count against the region's quota: user keys not scheduled
-- for deletion.
function M.quota_used(ctx)
  local n = 0
  for _, key in ipairs(M.each(ctx)) do
    if key.state ~= "pending_deletion" and not M.is_managed(key) then
      n = n + 1
    end
  end
  return n
end

function M.state_error()
  errors.vendor("ResourceUnavailable.CmkStateNotSupport")
end

-- Refuses keys a cloud product has bound, for the operations that would
-- take the key away from it.
function M.not_bound(key)
  if key.bindings and next(key.bindings) then
    errors.vendor("FailedOperation.CmkUsedByCloudProduct")
  end
end

return M
