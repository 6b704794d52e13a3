-- Key lifecycle: create, describe, list, enable/disable, scheduled
-- deletion, alias and description, and the account counters. State rules
-- come from the neutral model (keystore.LIFECYCLE); the codes are Huawei's.
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"
local p = require "kmsemu.dialect.huawei.params"
local context = require "kmsemu.dialect.huawei.context"
local grants = require "kmsemu.dialect.huawei.grants"
local keystores = require "kmsemu.dialect.huawei.keystores"
local shape = require "kmsemu.dialect.huawei.shape"

local M = {}

M.CMK_QUOTA = 100

-- key_spec -> the usages create-key accepts, the first being the default.
-- HMAC keys have a usage of their own, which the SDK's enum predates.
local USAGES = {
  AES_256 = { "ENCRYPT_DECRYPT" }, SM4 = { "ENCRYPT_DECRYPT" },
  RSA_2048 = { "SIGN_VERIFY", "ENCRYPT_DECRYPT" }, RSA_3072 = { "SIGN_VERIFY", "ENCRYPT_DECRYPT" },
  RSA_4096 = { "SIGN_VERIFY", "ENCRYPT_DECRYPT" }, SM2 = { "SIGN_VERIFY", "ENCRYPT_DECRYPT" },
  EC_P256 = { "SIGN_VERIFY" }, EC_P384 = { "SIGN_VERIFY" }, SECP256K1 = { "SIGN_VERIFY" },
  ED25519 = { "SIGN_VERIFY" },
  HMAC_256 = { "GENERATE_VERIFY_MAC" }, HMAC_384 = { "GENERATE_VERIFY_MAC" },
  HMAC_512 = { "GENERATE_VERIFY_MAC" }, HMAC_SM3 = { "GENERATE_VERIFY_MAC" },
}

-- Why a usage does not fit a spec, in the cloud's words.
local function usage_refusal(spec)
  local kind = keystore.SPECS[spec].kind
  if kind == "symmetric" then
    return "KMS.1115"
  elseif kind == "hmac" then
    return "KMS.0341"
  elseif kind == "ec" or kind == "ed25519" then
    return "KMS.1114"
  end
  return "KMS.0308"
end

local function usage_of(b, spec)
  local allowed = USAGES[spec]
  local usage = p.string(b, "key_usage") or allowed[1]
  for _, u in ipairs(allowed) do
    if u == usage then
      return usage
    end
  end
  if not keystore.USAGES[usage] then
    errors.vendor("KMS.0308", "key_usage")
  end
  errors.vendor(usage_refusal(spec), "key_usage")
end

-- The alias rule of create-key and update-key-alias; "<x>/default" is the
-- namespace of the services' default keys.
function M.alias_of(ctx, b, key)
  local alias = p.string(b, "key_alias", true)
  if not alias:find("^[%w:/_%-]+$") or #alias > 255 or alias:find("/default$") then
    errors.vendor("KMS.1101", alias)
  end
  for _, other in ipairs(context.each(ctx)) do
    if other.alias == alias and other ~= key then
      errors.vendor("KMS.1104", alias)
    end
  end
  return alias
end

function M.description_of(b, required)
  local d = p.string(b, "key_description", required)
  if d and utf8.len(d) and utf8.len(d) > 255 then
    errors.vendor("KMS.1103")
  end
  return d
end

function M.non_default_count(ctx)
  local n = 0
  for _, key in ipairs(context.each(ctx)) do
    if not shape.is_default(key) then
      n = n + 1
    end
  end
  return n
end

function M.create(ctx, b)
  local alias = M.alias_of(ctx, b)
  local spec = p.string(b, "key_spec") or "AES_256"
  if not USAGES[spec] then
    errors.vendor("KMS.0308", "key_spec")
  end
  local usage = usage_of(b, spec)
  local description = M.description_of(b) or ""
  local origin = p.enum(b, "origin", { kms = true, external = true }, "kms")
  local keystore_id = keystores.for_new_key(ctx, p.string(b, "keystore_id"), origin)
  if M.non_default_count(ctx) >= M.CMK_QUOTA then
    errors.vendor("KMS.1105")
  end
  local key = ctx.keys:add {
    dialect = "huawei", owner = ctx.project, spec = spec, usage = usage, alias = alias,
    description = description, origin = origin, created = ctx.now,
    state = origin == "external" and "pending_import" or "enabled",
    enterprise_project_id = p.string(b, "enterprise_project_id"),
    rotation = { enabled = false, interval_days = 365 }, keystore_id = keystore_id,
  }
  return { key_info = { key_id = key.id, domain_id = ctx.domain_id, region_id = ctx.region } }
end

function M.describe(ctx, b)
  return { key_info = context.info(ctx, context.key(ctx, p.key_id(b, true))) }
end

local LIST_SPECS = { ALL = true }
for spec in pairs(USAGES) do
  LIST_SPECS[spec] = true
end

function M.list(ctx, b)
  local limit, marker = p.page(b)
  local spec = p.enum(b, "key_spec", LIST_SPECS, "AES_256")
  local state = p.string(b, "key_state")
  if state and not state:find("^[1-5]$") then
    errors.vendor("KMS.0308", "key_state")
  end
  local matching = {}
  for _, key in ipairs(context.list(ctx)) do
    if (spec == "ALL" or key.spec == spec) and (not state or shape.STATE_CODE[key.state] == state) then
      matching[#matching + 1] = key
    end
  end
  local page, next_marker, truncated = p.paginate(matching, limit, marker)
  local ids, details = {}, {}
  for i, key in ipairs(page) do
    ids[i], details[i] = key.id, context.info(ctx, key)
  end
  return { keys = shape.list(ids), key_details = shape.list(details),
           next_marker = next_marker, truncated = truncated, total = #matching }
end

local function status(key)
  return { key_info = { key_id = key.id, key_state = shape.STATE_CODE[key.state] } }
end

-- enable-key and disable-key: the neutral transition, or the code that
-- says the key was not in the state the transition starts from.
local function transition(ctx, b, name, refusal)
  local key = context.key(ctx, p.key_id(b, true))
  if not ctx.keys:transition(key, name) then
    errors.vendor(refusal)
  end
  return status(key)
end

function M.enable(ctx, b)
  return transition(ctx, b, "enable", "KMS.1201")
end

function M.disable(ctx, b)
  return transition(ctx, b, "disable", "KMS.1301")
end

-- pending_days runs from 7 to 1096; a key a scenario declares pending
-- deletion without a date gets the shortest window.
local MIN_DAYS, MAX_DAYS = 7, 1096

function M.default_deletion_date(now)
  return now + MIN_DAYS * 86400
end

function M.schedule_deletion(ctx, b)
  local key = context.key(ctx, p.key_id(b, true))
  local days = p.count(b, "pending_days", MIN_DAYS, MAX_DAYS, "KMS.1401")
  if shape.is_default(key) then
    errors.vendor("KMS.0211")
  end
  if not ctx.keys:transition(key, "schedule_deletion") then
    errors.vendor("KMS.1402")
  end
  key.deletion_date = ctx.now + days * 86400
  return { key_id = key.id, key_state = shape.STATE_CODE[key.state] }
end

function M.cancel_deletion(ctx, b)
  local key = context.key(ctx, p.key_id(b, true))
  if not ctx.keys:transition(key, "cancel_deletion") then
    errors.vendor("KMS.1501")
  end
  return { key_id = key.id, key_state = shape.STATE_CODE[key.state] }
end

-- Alias and description may change in any state but pending deletion.
local function changeable(ctx, b)
  local key = context.key(ctx, p.key_id(b, true))
  if key.state == "pending_deletion" then
    errors.raise("KEY_PENDING_DELETION", key.id)
  end
  return key
end

function M.update_alias(ctx, b)
  local key = changeable(ctx, b)
  if shape.is_default(key) then
    errors.vendor("KMS.0211")
  end
  key.alias = M.alias_of(ctx, b, ctx.keys:touch(key))
  return { key_info = { key_id = key.id, key_alias = key.alias } }
end

function M.update_description(ctx, b)
  local key = changeable(ctx, b)
  ctx.keys:touch(key).description = M.description_of(b, true)
  return { key_info = { key_id = key.id, key_description = key.description } }
end

function M.user_instances(ctx)
  return { instance_num = M.non_default_count(ctx) }
end

function M.user_quotas(ctx)
  -- grant_per_CMK is a per-key quota: "used" is the fullest key's count.
  local most = 0
  for _, key in ipairs(context.list(ctx)) do
    most = math.max(most, #(key.grants or {}))
  end
  return { quotas = { resources = {
    { type = "CMK", used = M.non_default_count(ctx), quota = M.CMK_QUOTA },
    { type = "grant_per_CMK", used = most, quota = grants.PER_KEY },
  } } }
end

return M
