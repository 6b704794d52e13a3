-- Cloud-resource binding (section 13.7): a record that a product's
-- resource uses the key. While any binding exists the key cannot be
-- disabled, archived, scheduled for deletion or lose its imported
-- material (FailedOperation.CmkUsedByCloudProduct, cmk.not_bound).
local errors = require "kmsemu.errors"
local P = require "kmsemu.dialect.tencent.params"
local cmk = require "kmsemu.dialect.tencent.cmk"

local M = {}

local S, req = P.S, P.req

local function slot(p)
  return p.ProductId .. "\0" .. p.ResourceId
end

-- Binding again is a success. A key pending deletion cannot be bound; a
-- key whose imported material would expire is made not to, as the
-- documentation promises ("the setting will be canceled").
local function bind(ctx, p)
  local key = cmk.find(ctx, p.KeyId)
  if key.state == "pending_deletion" then
    cmk.state_error()
  end
  ctx.keys:touch(key).bindings = key.bindings or {}
  key.bindings[slot(p)] = true
  key.valid_to = key.valid_to and 0
  return {}
end

local function unbind(ctx, p)
  local key = cmk.find(ctx, p.KeyId)
  local s = slot(p)
  if not (key.bindings and key.bindings[s]) then
    errors.vendor("ResourceUnavailable.CloudResourceBindingNotFound")
  end
  ctx.keys:touch(key).bindings[s] = nil
  return {}
end

local PARAMS = { KeyId = req(S), ProductId = req(S), ResourceId = req(S) }

M.ACTIONS = {
  BindCloudResource = { run = bind, params = PARAMS },
  UnbindCloudResource = { run = unbind, params = PARAMS },
}

return M
