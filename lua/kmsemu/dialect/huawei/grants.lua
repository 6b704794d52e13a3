-- Grants: create, list, list-retirable, revoke, retire, and their
-- enforcement. A request made by a grantee principal (a scenario
-- huawei_user with grantee = true) may only name keys on which a grant to
-- that user (or to its domain) allows the action it calls.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local context = require "kmsemu.dialect.huawei.context"
local p = require "kmsemu.dialect.huawei.params"
local shape = require "kmsemu.dialect.huawei.shape"

local M = {}

M.PER_KEY = 100

M.OPERATIONS = {
  ["create-datakey"] = true, ["create-datakey-without-plaintext"] = true,
  ["encrypt-datakey"] = true, ["decrypt-datakey"] = true, ["describe-key"] = true,
  ["create-grant"] = true, ["retire-grant"] = true, ["encrypt-data"] = true,
  ["decrypt-data"] = true,
}

-- What a grantee may call at all: the grantable operations, plus listing
-- the grants it may retire.
M.GRANTEE_ACTIONS = setmetatable({ ["list-retirable-grants"] = true }, { __index = M.OPERATIONS })

local function covers(g, pr, action)
  local who = g.grantee_principal_type == "domain" and pr.domain_id or pr.user_id
  if g.grantee_principal ~= who then
    return false
  end
  for _, op in ipairs(g.operations) do
    if op == action then
      return true
    end
  end
  return false
end

-- Called for every key a grantee's request reaches.
function M.authorize(ctx, key)
  for _, g in ipairs(key.grants or {}) do
    if covers(g, ctx.principal, ctx.action) then
      return
    end
  end
  errors.vendor("KMS.0306")
end

local PRINCIPAL = "^[%w]+$"
local NAME = "^[%w:/_%-]+$"

local function principal_field(b, name, required)
  local v = p.string(b, name, required)
  if v and (#v > 64 or not v:find(PRINCIPAL)) then
    errors.vendor("KMS.2402", name)
  end
  return v
end

local function operations(b)
  local ops = p.strings(b, "operations", true)
  if #ops == 0 then
    errors.vendor("KMS.0308", "operations")
  end
  local other = false
  for _, op in ipairs(ops) do
    if not M.OPERATIONS[op] then
      errors.vendor("KMS.0308", "operations")
    end
    other = other or op ~= "create-grant"
  end
  if not other then
    errors.vendor("KMS.2401")
  end
  return ops
end

function M.create(ctx, b)
  local id = p.key_id(b, true)
  local grantee = principal_field(b, "grantee_principal", true)
  local ops = operations(b)
  local name = p.string(b, "name")
  if name and (#name > 255 or not name:find(NAME)) then
    errors.vendor("KMS.0308", "name")
  end
  local retiring = principal_field(b, "retiring_principal")
  local kind = p.enum(b, "grantee_principal_type", { user = true, domain = true }, "user")
  local key = context.key(ctx, id)
  if key.state == "pending_deletion" then
    errors.raise("KEY_PENDING_DELETION", key.id)
  end
  if shape.is_default(key) then
    errors.vendor("KMS.0211")
  end
  ctx.keys:touch(key).grants = key.grants or {}
  if #key.grants >= M.PER_KEY then
    errors.vendor("KMS.2404")
  end
  local grant = {
    key_id = key.id, grant_id = core.hex(core.random(32)), grantee_principal = grantee,
    grantee_principal_type = kind, operations = ops, issuing_principal = ctx.principal.user_id,
    creation_date = shape.ms(ctx.now), name = name or "", retiring_principal = retiring or "",
  }
  key.grants[#key.grants + 1] = grant
  return { grant_id = grant.grant_id }
end

local function page_of(b, list)
  local limit, marker = p.page(b)
  local page, next_marker, truncated = p.paginate(list, limit, marker)
  return { grants = shape.list(page), next_marker = next_marker, truncated = truncated, total = #list }
end

function M.list(ctx, b)
  local key = context.key(ctx, p.key_id(b, true))
  return page_of(b, key.grants or {})
end

-- Grants anywhere in the project that this principal may retire.
function M.list_retirable(ctx, b)
  local out = {}
  for _, key in ipairs(context.list(ctx)) do
    for _, g in ipairs(key.grants or {}) do
      if g.retiring_principal == ctx.principal.user_id then
        out[#out + 1] = g
      end
    end
  end
  return page_of(b, out)
end

-- The grant named by key_id and grant_id, and its index on the key.
local function find(ctx, b)
  local id = p.key_id(b, true)
  local grant_id = p.string(b, "grant_id", true)
  if #grant_id ~= 64 or not grant_id:find("^%x+$") then
    errors.vendor("KMS.2501")
  end
  local key = context.key(ctx, id, true)
  for i, g in ipairs(key.grants or {}) do
    if g.grant_id:lower() == grant_id:lower() then
      return key, i, g
    end
  end
  errors.vendor("KMS.2502")
end

function M.revoke(ctx, b)
  local key, i = find(ctx, b)
  table.remove(ctx.keys:touch(key).grants, i)
  return {}
end

-- The retiring principal may retire a grant, and so may its grantee when
-- the grant allows retire-grant; the key owner may as well.
function M.retire(ctx, b)
  local key, i, g = find(ctx, b)
  local pr = ctx.principal
  if pr.grantee and g.retiring_principal ~= pr.user_id and not covers(g, pr, "retire-grant") then
    errors.vendor("KMS.0306")
  end
  table.remove(ctx.keys:touch(key).grants, i)
  return {}
end

return M
