-- Huawei records that are not keys: keystores, key policies, access
-- points. Those requests create or change live in the key store's objects
-- (so a data directory keeps them); those a scenario declares are read
-- from the world until first changed, then copied there. A declared one
-- that is deleted stays in the store marked deleted, hiding its
-- declaration.
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"

local M = {}

local DIALECT = "huawei"

-- kind -> function(world, project) returning { id = record } for the
-- records the scenario declares in that project.
M.DECLARED = {}

local function declared(ctx, kind)
  local build = M.DECLARED[kind]
  if not build then
    return {}
  end
  local cache = ctx.runtime.declared
  if not cache then
    cache = {}
    ctx.runtime.declared = cache
  end
  local slot = kind .. "\0" .. ctx.project
  cache[slot] = cache[slot] or build(ctx.world, ctx.project)
  return cache[slot]
end

-- A new record of `kind` in the request's project (not yet saved).
function M.new(ctx, kind, id, fields)
  fields.dialect, fields.kind, fields.owner, fields.id = DIALECT, kind, ctx.project, id
  fields.created = fields.created or ctx.now
  return fields
end

function M.get(ctx, kind, id)
  local o = ctx.keys:object(DIALECT, kind, ctx.project, id)
  if o then
    return not o.deleted and o or nil
  end
  return declared(ctx, kind)[id]
end

-- The record, or KMS.0308 naming field when the project has none.
function M.must(ctx, kind, id, field)
  return M.get(ctx, kind, id) or errors.vendor("KMS.0308", field)
end

-- The enable and disable handlers of a kind whose set_state(ctx, params,
-- state) changes a record and answers.
function M.switches(set_state)
  return function(ctx, _, params) return set_state(ctx, params, "enabled") end,
    function(ctx, _, params) return set_state(ctx, params, "disabled") end
end

-- Every live record of `kind` in the project, oldest first.
function M.list(ctx, kind)
  local out, seen = {}, {}
  for _, o in ipairs(ctx.keys:objects_of(DIALECT, kind, ctx.project)) do
    seen[o.id] = true
    if not o.deleted then
      out[#out + 1] = o
    end
  end
  for id, o in pairs(declared(ctx, kind)) do
    if not seen[id] then
      out[#out + 1] = o
    end
  end
  table.sort(out, keystore.older)
  return out
end

-- Records a change (or a new record).
function M.save(ctx, o)
  return ctx.keys:put(o)
end

function M.delete(ctx, o)
  if declared(ctx, o.kind)[o.id] then
    ctx.keys:put { dialect = DIALECT, kind = o.kind, owner = o.owner, id = o.id, created = o.created,
                   deleted = true }
  else
    ctx.keys:remove(o)
  end
end

return M
