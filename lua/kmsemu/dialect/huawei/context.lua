-- One request's view of the world: who asks (a principal), in which
-- project, and how it reaches keys. Every key lookup goes through here, so
-- the grant check for grantee principals and the lazy clock-driven changes
-- (automatic rotation, expiry of imported material) happen in one place.
local errors = require "kmsemu.errors"
local util = require "kmsemu.util"
local shape = require "kmsemu.dialect.huawei.shape"

local M = {}

local DIALECT = "huawei"

-- Dialect state that lives as long as the world: issued tokens, the
-- wrapping keys of imports. Weak keys: a reloaded world starts afresh.
local runtime = setmetatable({}, { __mode = "k" })

function M.runtime(world)
  local r = runtime[world]
  if not r then
    r = { tokens = {}, wrapping = {} }
    runtime[world] = r
  end
  return r
end

-- The account's regions, each with its project: the credentials' first,
-- then those the scenario declares (huawei_region{}).
function M.regions(world)
  local creds = world.credentials.huawei or {}
  local out = { { name = creds.region or shape.DEFAULT_REGION, project_id = creds.project_id } }
  for _, r in ipairs(world.huawei_regions or {}) do
    out[#out + 1] = { name = r.name, project_id = r.project_id }
  end
  return out
end

-- The region a project is in; any project no region declares is in the
-- credentials' region.
function M.region_of(world, project)
  local all = M.regions(world)
  for _, r in ipairs(all) do
    if r.project_id == project then
      return r.name
    end
  end
  return all[1].name
end

function M.new(world, project, principal, action)
  local creds = world.credentials.huawei or {}
  return {
    world = world, keys = world.keys, project = project, principal = principal,
    action = action, now = util.now(), runtime = M.runtime(world),
    domain_id = principal and principal.domain_id or creds.domain_id or "",
    region = M.region_of(world, project),
  }
end

-- Material imported with an expiration_time is gone once it passes: the
-- key awaits a new import.
local function expire_material(ctx, key)
  if key.material_expires and key.material_expires <= ctx.now then
    ctx.keys:set_material(key, nil)
    key.material_expires = nil
    if key.state == "enabled" or key.state == "disabled" then
      key.state = "pending_import"
    end
  end
end

-- The key, in whatever state; 404 KMS.0207 when this project has none by
-- that id. A grantee principal reaches only keys a grant lets it use for
-- this action, unless `unchecked` (the caller checks grants itself).
function M.key(ctx, id, unchecked)
  local key = ctx.keys:get(DIALECT, ctx.project, id)
  if not key then
    errors.raise("KEY_NOT_FOUND", id)
  end
  expire_material(ctx, key)
  ctx.keys:rotate_due(key, ctx.now)
  if not unchecked and ctx.principal and ctx.principal.grantee then
    require("kmsemu.dialect.huawei.grants").authorize(ctx, key)
  end
  return key
end

-- The key, refused with its state's code unless it is enabled.
function M.usable(ctx, id)
  local key = M.key(ctx, id)
  return ctx.keys:usable(DIALECT, ctx.project, key.id)
end

-- Keys of this project, oldest first.
function M.list(ctx)
  local out = ctx.keys:list(DIALECT, ctx.project)
  for _, key in ipairs(out) do
    expire_material(ctx, key)
    ctx.keys:rotate_due(key, ctx.now)
  end
  return out
end

-- The same keys in no order and not caught up on rotation, for a count
-- or a search by alias (a sort per call was most of a CreateKey's time
-- with 10 000 keys).
function M.each(ctx)
  return ctx.keys:each(DIALECT, ctx.project)
end

function M.info(ctx, key)
  return shape.key_info(key, ctx)
end

return M
