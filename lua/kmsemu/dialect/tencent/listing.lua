-- ListKeys and ListKeyDetail: filters, ordering and paging (section 6.2,
-- "Listing"). Both page like SQL: Offset skips, Limit (default 10, at
-- most 200) caps.
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"
local util = require "kmsemu.util"
local P = require "kmsemu.dialect.tencent.params"
local cmk = require "kmsemu.dialect.tencent.cmk"
local keys = require "kmsemu.dialect.tencent.keys"
local metadata = require "kmsemu.dialect.tencent.metadata"

local M = {}

local S, I, opt = P.S, P.I, P.opt
local MAX_LIMIT = 200

local invalid = P.invalid

-- KeyState filter codes of ListKeyDetail; 0 is every state.
local STATE_CODES = { "enabled", "disabled", "pending_deletion", "pending_import", "archived" }

-- ListKeys names only these states.
local LISTED = { enabled = true, disabled = true, pending_import = true }

local function role_filter(role)
  if role ~= 0 and role ~= 1 then
    invalid("`Role` must be 0 or 1.")
  end
  return function(key)
    return cmk.is_managed(key) == (role == 1)
  end
end

local function newer(a, b)
  return keystore.older(b, a)
end

-- list sorted in place, oldest or newest first.
function M.sorted(list, ascending)
  table.sort(list, ascending and keystore.older or newer)
  return list
end

-- A page of list. code: the vendor code of a bad Offset or Limit where an
-- action documents its own, else InvalidParameter.
function M.page(list, p, code)
  local offset, limit = p.Offset or 0, p.Limit or 10
  if offset < 0 or limit < 0 or limit > MAX_LIMIT then
    local detail = ("`Offset` must be 0 or more and `Limit` from 0 to %d."):format(MAX_LIMIT)
    if code then
      errors.vendor(code, detail)
    end
    invalid("%s", detail)
  end
  return table.move(list, offset + 1, math.min(#list, offset + limit), 1, {})
end

local function matching(ctx, tests)
  local out = {}
  for _, key in ipairs(cmk.all(ctx)) do
    local ok = true
    for _, test in ipairs(tests) do
      ok = ok and test(key)
    end
    if ok then
      out[#out + 1] = key
    end
  end
  return out
end

local function list_keys(ctx, p)
  keys.no_hsm_cluster(p)
  local found = M.sorted(matching(ctx, {
    role_filter(p.Role or 0),
    function(key) return LISTED[key.state] end,
  }), false)
  local ids = {}
  for i, key in ipairs(M.page(found, p)) do
    ids[i] = { KeyId = key.id }
  end
  return { Keys = util.array(ids), TotalCount = #found }
end

local function state_filter(code)
  if code == 0 then
    return function() return true end
  end
  local state = STATE_CODES[code]
  if not state then
    invalid("`KeyState` must be from 0 to 5.")
  end
  return function(key) return key.state == state end
end

local ORIGINS = { TENCENT_KMS = "kms", EXTERNAL = "external" }

local function origin_filter(origin)
  if origin == nil or origin == "" or origin == "ALL" then
    return function() return true end
  end
  local want = ORIGINS[origin]
  if not want then
    invalid("`Origin` must be TENCENT_KMS, EXTERNAL or ALL.")
  end
  return function(key) return key.origin == want end
end

-- Empty means ENCRYPT_DECRYPT, not every usage (the CN documentation).
local function usage_filter(usage)
  if usage == "ALL" then
    return function() return true end
  end
  usage = (usage == nil or usage == "") and "ENCRYPT_DECRYPT" or usage
  if not cmk.USAGES[usage] then
    invalid("`KeyUsage` is not a CMK usage.")
  end
  return function(key) return cmk.key_usage(key) == usage end
end

-- A fuzzy match on KeyId or Alias: a case-insensitive substring.
local function search_filter(text)
  if text == nil or text == "" then
    return function() return true end
  end
  text = text:lower()
  return function(key)
    return key.id:lower():find(text, 1, true) ~= nil
      or key.alias:lower():find(text, 1, true) ~= nil
  end
end

-- Every filter must hold: the key has the tag, and one of the listed
-- values when values are given.
local function tag_filter(filters)
  return function(key)
    for _, f in ipairs(filters or {}) do
      local v = key.tags[f.TagKey]
      if v == nil then
        return false
      end
      if f.TagValue and #f.TagValue > 0 then
        local any = false
        for _, want in ipairs(f.TagValue) do
          any = any or want == v
        end
        if not any then
          return false
        end
      end
    end
    return true
  end
end

local function list_key_detail(ctx, p)
  keys.no_hsm_cluster(p)
  local order = p.OrderType or 0
  if order ~= 0 and order ~= 1 then
    invalid("`OrderType` must be 0 or 1.")
  end
  local found = M.sorted(matching(ctx, {
    role_filter(p.Role or 0), state_filter(p.KeyState or 0), origin_filter(p.Origin),
    usage_filter(p.KeyUsage), search_filter(p.SearchKeyAlias), tag_filter(p.TagFilters),
  }), order == 1)
  local list = {}
  for i, key in ipairs(M.page(found, p)) do
    list[i] = metadata.of(ctx, key)
  end
  return { KeyMetadatas = util.array(list), TotalCount = #found }
end

M.tag_filter = tag_filter

M.ACTIONS = {
  ListKeys = { run = list_keys, params = {
    Offset = opt(I), Limit = opt(I), Role = opt(I), HsmClusterId = opt(S) } },
  ListKeyDetail = { run = list_key_detail, params = {
    Offset = opt(I), Limit = opt(I), Role = opt(I), OrderType = opt(I), KeyState = opt(I),
    SearchKeyAlias = opt(S), Origin = opt(S), KeyUsage = opt(S),
    TagFilters = opt(P.list(P.TAG_FILTER)), HsmClusterId = opt(S),
    MemberAccounts = opt(P.list(P.MEMBER)) } },
}

return M
