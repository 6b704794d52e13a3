-- Key policies of a trusted keyspace (the SDK's key-policies): a JSON
-- document, sent as an escaped string, that says which access points and
-- data security zones may open a data-key capsule, and when. The document
-- is checked as the response models read it back.
local errors = require "kmsemu.errors"
local util = require "kmsemu.util"
local p = require "kmsemu.dialect.huawei.params"
local objects = require "kmsemu.dialect.huawei.objects"
local shape = require "kmsemu.dialect.huawei.shape"

local M = {}

local KIND = "policy"

local FIELDS = { version = true, validity_period = true, allowed_access_point = true,
                 allowed_data_security_zone = true }

local function strings(v)
  if v == nil or v == util.null then
    return {}
  end
  if type(v) ~= "table" or (next(v) ~= nil and #v == 0) then
    return nil
  end
  for _, s in ipairs(v) do
    if type(s) ~= "string" then
      return nil
    end
  end
  return v
end

local function instant(s)
  return type(s) == "string" and util.parse_instant(math.tointeger(tonumber(s)) or s) or nil
end

-- validity_period: start_time and end_time, each unix seconds or an
-- ISO 8601 instant, the end after the start (KMS.2801).
local function period(v)
  if v == nil or v == util.null then
    return nil
  end
  if type(v) ~= "table" then
    errors.vendor("KMS.0308", "validity_period")
  end
  for _, name in ipairs { "start_time", "end_time" } do
    if v[name] ~= nil and not instant(v[name]) then
      errors.vendor("KMS.0308", "validity_period." .. name)
    end
  end
  local from, to = instant(v.start_time), instant(v.end_time)
  if from and to and to <= from then
    errors.vendor("KMS.2801")
  end
  return { start_time = v.start_time, end_time = v.end_time }, from, to
end

-- The policy document of a request field, or KMS.0308.
function M.parse(text, name)
  local doc = type(text) == "string" and util.decode_object(text)
  if not doc then
    errors.vendor("KMS.0308", name)
  end
  for k in pairs(doc) do
    if not FIELDS[k] then
      errors.vendor("KMS.0308", name .. "." .. tostring(k))
    end
  end
  local version = doc.version
  if version ~= nil and type(version) ~= "string" then
    errors.vendor("KMS.0308", name .. ".version")
  end
  local aps, zones = strings(doc.allowed_access_point), strings(doc.allowed_data_security_zone)
  if not aps or not zones then
    errors.vendor("KMS.0308", name)
  end
  local validity, from, to = period(doc.validity_period)
  return { version = version or "1.0", validity_period = validity, allowed_access_point = aps,
           allowed_data_security_zone = zones, from = from, to = to }
end

-- Whether a policy lets this access point in now.
function M.allows(policy, access_point_id, now)
  if (policy.from and now < policy.from) or (policy.to and now > policy.to) then
    return false
  end
  local list = policy.allowed_access_point
  if #list == 0 then
    return true
  end
  for _, id in ipairs(list) do
    if id == access_point_id then
      return true
    end
  end
  return false
end

-- The document as the models read it; the list model spells two fields
-- in camelCase.
local function document(policy, camel)
  return {
    version = policy.version,
    [camel and "validityPeriod" or "validity_period"] = policy.validity_period,
    [camel and "allowedAccessPoint" or "allowed_access_point"] = shape.list(policy.allowed_access_point),
    allowed_data_security_zone = shape.list(policy.allowed_data_security_zone),
  }
end

local function view(r, camel)
  return {
    policy_id = r.id, policy_name = r.name, keyspace_id = r.keyspace_id, policy = document(r.policy, camel),
    description = r.description, created_by = r.created_by, create_time = shape.ms(r.created),
    last_modify_time = shape.ms(r.modified), last_access_time = shape.ms(r.accessed or r.modified),
  }
end

-- The policy by id; KMS.0308 when this project has none.
function M.get(ctx, id)
  return objects.must(ctx, KIND, id, "policy_id")
end

local function keyspace_of(s, name)
  if not p.is_uuid(s) then
    errors.vendor("KMS.0308", name)
  end
  return s:lower()
end

M.keyspace_of = keyspace_of

-- The optional description of a keyspace's record: 255 characters at most.
function M.description_of(b)
  local d = p.string(b, "description")
  if d and (utf8.len(d) or 256) > 255 then
    errors.vendor("KMS.0308", "description")
  end
  return d
end

-- The name of a new record of a keyspace (b[field]); KMS.0308 when it is
-- not a valid name.
function M.name_of(b, field)
  local name = p.string(b, field, true)
  if not p.is_name(name) then
    errors.vendor("KMS.0308", field)
  end
  return name
end

-- Saves a new record of kind in the keyspace fields.keyspace_id; names
-- are unique within a keyspace (KMS.0308 naming field).
function M.add(ctx, kind, field, fields)
  for _, other in ipairs(objects.list(ctx, kind)) do
    if other.keyspace_id == fields.keyspace_id and other.name == fields.name then
      errors.vendor("KMS.0308", field)
    end
  end
  fields.created_by = ctx.principal and ctx.principal.user_id or ctx.domain_id
  local r = objects.new(ctx, kind, util.uuid(), fields)
  r.modified = r.created
  objects.save(ctx, r)
  return r
end

function M.create(ctx, b)
  local keyspace = keyspace_of(p.string(b, "keyspace_id", true), "keyspace_id")
  local name = M.name_of(b, "policy_name")
  local policy = M.parse(p.string(b, "policy", true), "policy")
  local description = M.description_of(b) or ""
  local r = M.add(ctx, KIND, "policy_name",
    { name = name, keyspace_id = keyspace, policy = policy, description = description })
  return { policy_id = r.id }
end

-- limit / marker paging of the keyspace lists: page_info says the next
-- marker ("" on the last page) and how many this page holds.
function M.page(items, query)
  local q = p.query(query)
  local limit = p.query_integer(q, "limit", nil, 1, 1000, "KMS.1601")
  local marker = p.query_integer(q, "marker", 0, 0, math.maxinteger, "KMS.1602")
  local page, next_marker = p.paginate(items, limit, marker)
  return page, { next_marker = next_marker, current_count = #page }, q
end

-- A list call's page of the records of kind in the keyspace its query
-- names (keyspace_id, required), each as view(r) shows it: the list and
-- page_info.
function M.keyspace_page(ctx, kind, query, view_of)
  local s = p.query(query).keyspace_id
  if s == nil then
    errors.raise("MISSING_PARAMETER", "keyspace_id")
  end
  local keyspace = keyspace_of(s, "keyspace_id")
  local matching = {}
  for _, r in ipairs(objects.list(ctx, kind)) do
    if r.keyspace_id == keyspace then
      matching[#matching + 1] = r
    end
  end
  local page, info = M.page(matching, query)
  local out = {}
  for i, r in ipairs(page) do
    out[i] = view_of(r)
  end
  return shape.list(out), info
end

function M.list(ctx, _, _, query)
  local out, info = M.keyspace_page(ctx, KIND, query, function(r) return view(r, true) end)
  return { page_info = info, keyspace_policies = out }
end

function M.show(ctx, _, params)
  return view(M.get(ctx, params.policy_id))
end

function M.update(ctx, b, params)
  local r = M.get(ctx, params.policy_id)
  local policy = M.parse(p.string(b, "policy", true), "policy")
  local description = M.description_of(b)
  r.policy, r.description, r.modified = policy, description or r.description, ctx.now
  objects.save(ctx, r)
  return { policy_id = r.id, policy = document(r.policy), description = r.description,
           last_modify_time = shape.ms(r.modified) }
end

function M.delete(ctx, _, params)
  objects.delete(ctx, M.get(ctx, params.policy_id))
  return {}
end

return M
