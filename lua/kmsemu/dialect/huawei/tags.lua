-- Tags on keys: create, batch create/delete, delete (all 204), show,
-- the project's tag list, and resource_instances filtering.
local errors = require "kmsemu.errors"
local util = require "kmsemu.util"
local context = require "kmsemu.dialect.huawei.context"
local p = require "kmsemu.dialect.huawei.params"
local shape = require "kmsemu.dialect.huawei.shape"

local M = {}

M.MAX_TAGS = 10

-- No control characters, and none of * < > \ = (reference §1.2).
local FORBIDDEN = "[%c%*<>\\=]"

local function check_key(k)
  if type(k) ~= "string" or k == "" or k:find(FORBIDDEN) then
    errors.vendor("KMS.0406")
  end
  if utf8.len(k) == nil or utf8.len(k) > 36 then
    errors.vendor("KMS.0411")
  end
  return k
end

local function check_value(v)
  v = v == nil and "" or v
  if type(v) ~= "string" or v:find(FORBIDDEN) then
    errors.vendor("KMS.0405")
  end
  if utf8.len(v) == nil or utf8.len(v) > 43 then
    errors.vendor("KMS.0410")
  end
  return v
end

local function count(t)
  local n = 0
  for _ in pairs(t) do
    n = n + 1
  end
  return n
end

local function put(key, k, v)
  if key.tags[k] == nil and count(key.tags) >= M.MAX_TAGS then
    errors.vendor("KMS.0409")
  end
  key.tags[k] = v
end

-- A TagItem list ([{key, value}]) as a key's tags, checked as tag
-- creation checks them.
function M.from_items(items)
  local out, n = {}, 0
  if items == nil or items == util.null then
    return out
  end
  if type(items) ~= "table" then
    errors.vendor("KMS.0414")
  end
  for _, item in ipairs(items) do
    if type(item) ~= "table" then
      errors.vendor("KMS.0414")
    end
    local k = check_key(item.key)
    if out[k] == nil then
      n = n + 1
      if n > M.MAX_TAGS then
        errors.vendor("KMS.0409")
      end
    end
    out[k] = check_value(item.value)
  end
  return out
end

local function tagged_key(ctx, params)
  if not p.is_key_id(params.key_id) then
    errors.raise("INVALID_KEY_ID", params.key_id)
  end
  return context.key(ctx, params.key_id)
end

-- The key of a request that changes its tags, marked as changed before
-- any tag is: a batch refused halfway keeps the tags it already set.
local function retagged_key(ctx, params)
  return ctx.keys:touch(tagged_key(ctx, params))
end

function M.create(ctx, b, params)
  local key = retagged_key(ctx, params)
  local tag = b.tag
  if type(tag) ~= "table" then
    errors.raise("MISSING_PARAMETER", "tag")
  end
  put(key, check_key(tag.key), check_value(tag.value))
end

function M.batch(ctx, b, params)
  local key = retagged_key(ctx, params)
  local action = p.enum(b, "action", { create = true, delete = true }, nil, "KMS.0404")
  if not action then
    errors.vendor("KMS.0404")
  end
  local list = b.tags
  if type(list) ~= "table" or #list == 0 then
    errors.vendor("KMS.0401")
  end
  for _, tag in ipairs(list) do
    if type(tag) ~= "table" then
      errors.vendor("KMS.0412")
    end
    local k = check_key(tag.key)
    if action == "create" then
      put(key, k, check_value(tag.value))
    else
      key.tags[k] = nil
    end
  end
end

function M.delete(ctx, _, params)
  local key = retagged_key(ctx, params)
  if key.tags[params.tag] == nil then
    errors.vendor("KMS.0416")
  end
  key.tags[params.tag] = nil
end

local function tag_list(key)
  local out = {}
  for i, k in ipairs(util.sorted_keys(key.tags)) do
    out[i] = { key = k, value = key.tags[k] }
  end
  return out
end

function M.show(ctx, _, params)
  local key = tagged_key(ctx, params)
  local list = tag_list(key)
  return { tags = shape.list(list), existTagsNum = #list }
end

function M.project(ctx)
  local values = {}
  for _, key in ipairs(context.list(ctx)) do
    for k, v in pairs(key.tags) do
      values[k] = values[k] or {}
      values[k][v] = true
    end
  end
  local out = {}
  for i, k in ipairs(util.sorted_keys(values)) do
    out[i] = { key = k, values = util.sorted_keys(values[k]) }
  end
  return { tags = shape.list(out) }
end

-- tags: every listed key must be present, with one of its values (any
-- value when the list is empty). matches: resource_name contains value.
local function filters(b)
  local tags, matches = b.tags or {}, b.matches or {}
  if type(tags) ~= "table" then
    errors.vendor("KMS.0414")
  end
  if type(matches) ~= "table" then
    errors.vendor("KMS.0415")
  end
  for _, t in ipairs(tags) do
    if type(t) ~= "table" or type(t.values or {}) ~= "table" then
      errors.vendor("KMS.0414")
    end
    check_key(t.key)
  end
  for _, m in ipairs(matches) do
    if type(m) ~= "table" or m.key ~= "resource_name" then
      errors.vendor("KMS.0403")
    end
    if type(m.value) ~= "string" or m.value == "" or #m.value > 255 then
      errors.vendor("KMS.0402")
    end
  end
  return tags, matches
end

local function selected(key, tags, matches)
  for _, t in ipairs(tags) do
    local v = key.tags[t.key]
    if v == nil then
      return false
    end
    local vals = t.values or {}
    local hit = #vals == 0
    for _, want in ipairs(vals) do
      hit = hit or want == v
    end
    if not hit then
      return false
    end
  end
  for _, m in ipairs(matches) do
    if not key.alias:find(m.value, 1, true) then
      return false
    end
  end
  return true
end

function M.resource_instances(ctx, b)
  local action = p.enum(b, "action", { filter = true, count = true }, nil, "KMS.0404")
  if not action then
    errors.vendor("KMS.0404")
  end
  local tags, matches = filters(b)
  local hits = {}
  for _, key in ipairs(context.list(ctx)) do
    if selected(key, tags, matches) then
      hits[#hits + 1] = key
    end
  end
  if action == "count" then
    return { total_count = #hits }
  end
  local limit = p.count(b, "limit", 1, 1000, "KMS.1601", false) or 10
  local offset = p.count(b, "offset", 0, math.maxinteger, "KMS.0417", false) or 0
  local out = {}
  for i = offset + 1, math.min(#hits, offset + limit) do
    local key = hits[i]
    out[#out + 1] = { resource_id = key.id, resource_name = key.alias,
      resource_detail = context.info(ctx, key), tags = shape.list(tag_list(key)) }
  end
  return { resources = shape.list(out), total_count = #hits }
end

return M
