-- Rotation (section 13.3). A rotation adds a material version; blobs name
-- their version, so older ciphertexts still decrypt. Automatic rotation
-- happens when a key is next looked up after its NextRotateTime
-- (cmk.lua); RotateKey rotates now, at most once a day.
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"
local util = require "kmsemu.util"
local P = require "kmsemu.dialect.tencent.params"
local cmk = require "kmsemu.dialect.tencent.cmk"

local M = {}

local S, I, req, opt = P.S, P.I, P.req, P.opt
local DAY = 86400

local function rotatable_state(key)
  if key.state ~= "enabled" and key.state ~= "disabled" then
    cmk.state_error()
  end
end

local function enable_key_rotation(ctx, p)
  local days = p.RotateDays or 365
  if days < 7 or days > 365 then
    errors.vendor("InvalidParameterValue", "`RotateDays` must be from 7 to 365.")
  end
  local key = cmk.find(ctx, p.KeyId)
  if key.origin == "external" then
    errors.vendor("UnsupportedOperation.ExternalCmkCanNotRotate")
  end
  if not keystore.is_symmetric(key.spec) then
    errors.vendor("UnsupportedOperation", "Asymmetric CMKs cannot be rotated.")
  end
  rotatable_state(key)
  ctx.keys:touch(key).rotation.enabled = true
  key.rotation.interval_days = days
  return {}
end

local function disable_key_rotation(ctx, p)
  ctx.keys:touch(cmk.find(ctx, p.KeyId)).rotation.enabled = false
  return {}
end

local function get_key_rotation_status(ctx, p)
  return { KeyRotationEnabled = cmk.find(ctx, p.KeyId).rotation.enabled == true }
end

-- Only keys with rotation on, made by KMS and symmetric, rotate on demand.
local function rotate_key(ctx, p)
  local key = cmk.find(ctx, p.KeyId)
  rotatable_state(key)
  local r = key.rotation
  if not r.enabled or key.origin == "external" or not keystore.is_symmetric(key.spec) then
    errors.vendor("UnsupportedOperation.RotateNotSupported")
  end
  if r.manual and ctx.now - r.manual < DAY then
    errors.vendor("RequestLimitExceeded.RotateRateLimited")
  end
  ctx.keys:rotate(key)
  r.last, r.manual = ctx.now, ctx.now
  return { TaskId = util.uuid() }
end

local ID = { KeyId = req(S), MemberAccount = opt(P.MEMBER) }

M.ACTIONS = {
  EnableKeyRotation = { run = enable_key_rotation, params = {
    KeyId = req(S), RotateDays = opt(I), MemberAccount = opt(P.MEMBER) } },
  DisableKeyRotation = { run = disable_key_rotation, params = ID },
  GetKeyRotationStatus = { run = get_key_rotation_status, params = ID },
  RotateKey = { run = rotate_key, params = ID },
}

return M
