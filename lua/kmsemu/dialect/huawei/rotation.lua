-- Key rotation. Only symmetric keys whose material KMS made rotate; a new
-- version seals new ciphertexts and every older one still opens the
-- ciphertexts it made, since the frame carries its version.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"
local context = require "kmsemu.dialect.huawei.context"
local p = require "kmsemu.dialect.huawei.params"
local shape = require "kmsemu.dialect.huawei.shape"

local M = {}

-- A key that may rotate, usable now; otherwise the code saying why not.
local function rotatable(ctx, b)
  local key = context.usable(ctx, p.key_id(b, true))
  local kind = keystore.SPECS[key.spec].kind
  if shape.is_default(key) then
    errors.vendor("KMS.0211")
  elseif key.keystore_id then
    errors.vendor("KMS.0338")
  elseif key.origin == "external" then
    errors.vendor("KMS.0312")
  elseif kind == "rsa" then
    errors.vendor("KMS.0324")
  elseif kind == "hmac" then
    errors.vendor("KMS.0341")
  elseif kind ~= "symmetric" then
    errors.vendor("KMS.0325")
  end
  return key
end

function M.enable(ctx, b)
  local key = rotatable(ctx, b)
  if key.rotation.enabled then
    errors.vendor("KMS.2901")
  end
  ctx.keys:touch(key).rotation.enabled = true
  key.rotation.interval_days = key.rotation.interval_days or 365
  -- The interval counts from now, not from the key's creation.
  key.rotation.last = key.rotation.last or ctx.now
  return {}
end

function M.disable(ctx, b)
  local key = rotatable(ctx, b)
  if not key.rotation.enabled then
    errors.vendor("KMS.0313")
  end
  ctx.keys:touch(key).rotation.enabled = false
  return {}
end

function M.update_interval(ctx, b)
  local interval = p.integer(b, "rotation_interval", true, "KMS.3001")
  if interval < 30 or interval > 365 then
    errors.vendor("KMS.3001")
  end
  local key = rotatable(ctx, b)
  ctx.keys:touch(key).rotation.interval_days = interval
  return {}
end

function M.rotate_on_demand(ctx, b)
  local key = rotatable(ctx, b)
  ctx.keys:rotate(key)
  key.rotation.created = key.rotation.created or {}
  key.rotation.created[key.version] = ctx.now
  return { key_id = key.id }
end

-- One entry per material version; every one still decrypts.
local function materials(key)
  local out = {}
  local created = key.rotation.created or {}
  for v = 1, key.version do
    out[v] = {
      material_id = core.hex(core.digest("sha256", key.id .. "/" .. v)):sub(1, 32),
      charge_id = "",
      create_time = shape.ms(created[v] or (v == key.version and key.rotation.last) or key.created),
      expiration_time = "",
      state = 2,
    }
  end
  return out
end

function M.status(ctx, b)
  local key = context.key(ctx, p.key_id(b, true))
  local r = key.rotation
  return {
    key_rotation_enabled = r.enabled == true,
    rotation_interval = r.interval_days or 365,
    last_rotation_time = (r.count or 0) > 0 and shape.ms(r.last) or "",
    number_of_rotations = r.count or 0,
    key_materials = materials(key),
  }
end

return M
