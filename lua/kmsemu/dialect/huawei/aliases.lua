-- Aliases, the newer API beside a key's single key_alias: a key may have
-- several, each unique in the project, named "alias/<name>".
local errors = require "kmsemu.errors"
local util = require "kmsemu.util"
local context = require "kmsemu.dialect.huawei.context"
local p = require "kmsemu.dialect.huawei.params"
local shape = require "kmsemu.dialect.huawei.shape"

local M = {}

local function check_name(alias)
  if #alias > 255 or not alias:find("^alias/[%w:/_%-]+$") then
    errors.vendor("KMS.1101", alias)
  end
  return alias
end

-- The key holding `alias` in this project, and the entry.
local function holder(ctx, alias)
  for _, key in ipairs(context.each(ctx)) do
    for i, a in ipairs(key.aliases or {}) do
      if a.alias == alias then
        return key, i, a
      end
    end
  end
end

local function entity(ctx, key, a)
  return {
    domain_id = ctx.domain_id, key_id = key.id, alias = a.alias,
    alias_urn = ("kms:%s:%s:%s"):format(ctx.region, ctx.domain_id, a.alias:gsub("^alias/", "alias:")),
    create_time = shape.ms(a.created), update_time = shape.ms(a.updated),
  }
end

function M.create(ctx, b)
  local id = p.key_id(b, true)
  local alias = check_name(p.string(b, "alias", true))
  local key = context.key(ctx, id)
  if key.state == "pending_deletion" then
    errors.raise("KEY_PENDING_DELETION", key.id)
  end
  if holder(ctx, alias) then
    errors.vendor("KMS.1104", alias)
  end
  local a = { alias = alias, created = ctx.now, updated = ctx.now }
  ctx.keys:touch(key).aliases = key.aliases or {}
  key.aliases[#key.aliases + 1] = a
  return entity(ctx, key, a)
end

function M.delete(ctx, b)
  local id = p.key_id(b, true)
  local names = p.strings(b, "aliases", true)
  local key = ctx.keys:touch(context.key(ctx, id))
  for _, name in ipairs(names) do
    local owner, i = holder(ctx, name)
    if owner ~= key then
      errors.vendor("KMS.0308", "aliases")
    end
    table.remove(key.aliases, i)
  end
  return {}
end

-- The models type this response as a list of pages: the body is a JSON
-- array holding one {aliases, page_info}.
function M.list(ctx, _, _, query)
  local q = {}
  for _, kv in ipairs(util.parse_query(query or "")) do
    q[kv[1]] = kv[2]
  end
  local limit, marker = p.page(q)
  local id = p.key_id(q, false)
  local all = {}
  for _, key in ipairs(id and { context.key(ctx, id) } or context.list(ctx)) do
    for _, a in ipairs(key.aliases or {}) do
      all[#all + 1] = entity(ctx, key, a)
    end
  end
  local page, next_marker = p.paginate(all, limit, marker)
  return { { aliases = shape.list(page), page_info = { next_marker = next_marker, current_count = #page } } }
end

function M.associate(ctx, b)
  local alias = check_name(p.string(b, "alias", true))
  local target = context.key(ctx, p.key_id(b, true, "target_key_id"))
  local key, i, a = holder(ctx, alias)
  if not key then
    errors.vendor("KMS.0308", "alias")
  end
  if target.state == "pending_deletion" then
    errors.raise("KEY_PENDING_DELETION", target.id)
  end
  ctx.keys:touch(key)
  ctx.keys:touch(target)
  table.remove(key.aliases, i)
  a.updated = ctx.now
  target.aliases = target.aliases or {}
  target.aliases[#target.aliases + 1] = a
  return entity(ctx, target, a)
end

return M
