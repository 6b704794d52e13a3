-- Multi-region keys (API v2): the regions a key may be replicated to, the
-- replication itself, and moving the primary. A region is a project: the
-- credentials' region holds credentials.huawei.project_id, and a scenario
-- declares the others with huawei_region{}. A replica has the primary's
-- id and material, so it opens the primary's ciphertexts.
local errors = require "kmsemu.errors"
local p = require "kmsemu.dialect.huawei.params"
local context = require "kmsemu.dialect.huawei.context"
local keys = require "kmsemu.dialect.huawei.keys"
local shape = require "kmsemu.dialect.huawei.shape"
local tags = require "kmsemu.dialect.huawei.tags"

local M = {}

-- Every region but the request's own: those a replica may go to.
function M.list(ctx, _, _, query)
  local q = p.query(query)
  local limit = p.query_integer(q, "limit", nil, 1, 1000, "KMS.1601")
  local offset = p.query_integer(q, "offset", 0, 0, math.maxinteger, "KMS.0417")
  local names = {}
  for _, r in ipairs(context.regions(ctx.world)) do
    if r.name ~= ctx.region then
      names[#names + 1] = r.name
    end
  end
  local out = {}
  for i = offset + 1, limit and math.min(#names, offset + limit) or #names do
    out[#out + 1] = names[i]
  end
  return { regions = shape.list(out) }
end

local function region(ctx, name)
  for _, r in ipairs(context.regions(ctx.world)) do
    if r.name == name then
      return r
    end
  end
end

-- The body's key_id, which must be the path's.
local function key_of(ctx, b, params)
  local id = p.key_id(b, true)
  if id ~= params.key_id then
    errors.vendor("KMS.0308", "key_id")
  end
  local key = context.key(ctx, id)
  if key.state == "pending_deletion" then
    errors.raise("KEY_PENDING_DELETION", id)
  end
  return key
end

-- The copies of a key, one per region that holds it.
local function copies(ctx, id)
  local out = {}
  for _, r in ipairs(context.regions(ctx.world)) do
    local key = r.project_id and ctx.keys:get("huawei", r.project_id, id)
    if key then
      out[#out + 1] = key
    end
  end
  return out
end

-- The target region's checks: declared, not the key's own, reached
-- through its own project, and without a copy of the key yet.
local function target(ctx, b, key)
  local name = p.string(b, "replica_region", true)
  local project = p.string(b, "replica_project_id", true)
  local r = region(ctx, name)
  if not r or name == ctx.region then
    errors.vendor("KMS.1102", name)
  end
  if project ~= r.project_id then
    errors.vendor("KMS.0308", "replica_project_id")
  end
  if ctx.keys:get("huawei", project, key.id) then
    errors.vendor("KMS.0308", "replica_region")
  end
  return r
end

function M.replicate(ctx, b, params)
  local key = key_of(ctx, b, params)
  if shape.is_default(key) then
    errors.vendor("KMS.0211")
  elseif key.keystore_id then
    errors.vendor("KMS.0340")
  elseif key.replica then
    errors.vendor("KMS.0106")
  end
  local r = target(ctx, b, key)
  local there = context.new(ctx.world, r.project_id, ctx.principal, ctx.action)
  local alias = keys.alias_of(there, b)
  local description = keys.description_of(b) or ""
  local key_tags = tags.from_items(b.tags)
  if keys.non_default_count(there) >= keys.CMK_QUOTA then
    errors.vendor("KMS.1105")
  end
  local state = key.state == "pending_import" and "pending_import" or "enabled"
  local replica = ctx.keys:add {
    id = key.id, dialect = "huawei", owner = r.project_id, spec = key.spec, usage = key.usage,
    alias = alias, description = description, origin = key.origin, created = ctx.now, state = state,
    tags = key_tags, enterprise_project_id = p.string(b, "enterprise_project_id"),
    rotation = { enabled = false, interval_days = 365 }, replica = true,
    primary_region = key.primary_region or ctx.region, material_expires = key.material_expires,
  }
  for v = 1, key.version do
    replica.materials[v] = key.state ~= "pending_import" and ctx.keys:material(key, v) or nil
  end
  replica.version = key.version
  ctx.keys:touch(key).primary_region = replica.primary_region
  return { key_id = key.id, domain_id = ctx.domain_id, region = r.name }
end

-- Only from the primary's region; the new primary must hold a replica.
-- The old primary becomes a replica and the new one the original.
function M.update_primary(ctx, b, params)
  local key = key_of(ctx, b, params)
  local name = p.string(b, "primary_region", true)
  if not key.primary_region then
    errors.vendor("KMS.0308", "key_id")
  elseif key.primary_region ~= ctx.region then
    errors.vendor("KMS.0106")
  end
  local r = region(ctx, name)
  local new = r and r.project_id and ctx.keys:get("huawei", r.project_id, key.id)
  if not new then
    errors.vendor("KMS.1102", name)
  end
  for _, copy in ipairs(copies(ctx, key.id)) do
    ctx.keys:touch(copy).primary_region = name
    copy.replica = copy ~= new or nil
  end
  return { key_id = key.id, primary_region = name }
end

return M
