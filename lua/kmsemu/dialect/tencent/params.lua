-- Parameter schemas and coercion. A request's parameters arrive as a JSON
-- object (TC3 POST) or as flat form pairs (TC3 GET, v1 POST and GET),
-- where every value is a string, lists are flattened as Name.0, Name.1
-- and objects in lists as Name.0.Field. Both become the same Lua table,
-- checked against the action's schema: unknown names answer
-- UnknownParameter, absent required ones MissingParameter, wrong types
-- InvalidParameter, as the real gateway does.
local errors = require "kmsemu.errors"
local util = require "kmsemu.util"

local M = {}

M.S = { kind = "string" }
M.I = { kind = "integer" } -- uint64 and int64 alike
M.B = { kind = "boolean" }

function M.list(of)
  return { kind = "list", of = of }
end

-- fields: name -> M.req(type) / M.opt(type)
function M.object(fields)
  return { kind = "object", fields = fields }
end

function M.req(t)
  return { type = t, required = true }
end

function M.opt(t)
  return { type = t, required = false }
end

-- InvalidParameter with a formatted message.
function M.invalid(fmt, ...)
  errors.raise("INVALID_PARAMETER", fmt:format(...))
end

-- Shared shapes of section 14.
M.TAG = M.object { TagKey = M.req(M.S), TagValue = M.req(M.S) }
M.TAG_FILTER = M.object { TagKey = M.req(M.S), TagValue = M.opt(M.list(M.S)) }
M.MEMBER = M.object { MemberAppId = M.opt(M.I), MemberUin = M.opt(M.I) }

local function type_error(name)
  errors.raise("INVALID_PARAMETER", ("The parameter `%s` type error."):format(name))
end

-- Form encoding turns every scalar into a string, and the published
-- examples send integers as strings even in JSON ("PendingWindowInDays":
-- "7"), so a string of digits is an integer everywhere.
local function integer(name, v)
  local n
  if type(v) == "string" and v:find("^%-?%d+$") then
    n = math.tointeger(tonumber(v))
  elseif math.type(v) == "integer" then
    n = v
  elseif type(v) == "number" then
    n = math.tointeger(v)
  end
  if not n then
    type_error(name)
  end
  return n
end

local coerce

local function full(prefix, k)
  return prefix and (prefix .. "." .. k) or k
end

-- The names of a field table's required fields, listed once, in the
-- order pairs() gives them (the first one missing is the one named).
local required_of = setmetatable({}, { __mode = "k" })

local function required(fields)
  local r = required_of[fields]
  if not r then
    r = {}
    for k, f in pairs(fields) do
      if f.required then
        r[#r + 1] = k
      end
    end
    required_of[fields] = r
  end
  return r
end

-- Checks an object against its fields. prefix names it in messages
-- ("Tags.0"); the top level of a request has none.
local function object(prefix, fields, v)
  if type(v) ~= "table" or v[1] ~= nil then
    type_error(prefix)
  end
  local out = {}
  for k, fv in pairs(v) do
    local f = fields[k]
    if not f then
      errors.raise("UNKNOWN_PARAMETER", full(prefix, k))
    end
    if fv ~= util.null then
      out[k] = coerce(full(prefix, k), f.type, fv)
    end
  end
  for _, k in ipairs(required(fields)) do
    if out[k] == nil then
      errors.raise("MISSING_PARAMETER", full(prefix, k))
    end
  end
  return out
end

function coerce(name, t, v)
  local kind = t.kind
  if kind == "string" then
    if type(v) ~= "string" then
      type_error(name)
    end
    return v
  elseif kind == "integer" then
    return integer(name, v)
  elseif kind == "boolean" then
    if v == "true" or v == true then return true end
    if v == "false" or v == false then return false end
    type_error(name)
  elseif kind == "list" then
    if type(v) ~= "table" or (next(v) ~= nil and v[1] == nil) then
      type_error(name)
    end
    local out = {}
    for i, item in ipairs(v) do
      out[i] = coerce(("%s.%d"):format(name, i - 1), t.of, item)
    end
    return out
  end
  return object(name, t.fields, v)
end

-- Checks a request's raw parameters against its schema (name -> req/opt)
-- and returns them with their schema types.
function M.check(schema, raw)
  return object(nil, schema, raw)
end

-- Rebuilds nested tables from flat pairs: "KeyIds.1" = "b" becomes
-- KeyIds[2] = "b", "Tags.0.TagKey" = "env" becomes Tags[1].TagKey. Indices
-- are 0-based on the wire and must leave no gaps.
local function to_arrays(name, t)
  if type(t) ~= "table" then
    return t
  end
  local n, numeric = 0, nil
  for k in pairs(t) do
    n = n + 1
    local isnum = math.type(k) == "integer"
    if numeric == nil then
      numeric = isnum
    elseif numeric ~= isnum then
      type_error(name)
    end
  end
  local out = {}
  if numeric then
    for i = 0, n - 1 do
      if t[i] == nil then
        type_error(name)
      end
      out[i + 1] = to_arrays(("%s.%d"):format(name, i), t[i])
    end
    return out
  end
  for k, v in pairs(t) do
    out[k] = to_arrays(name .. "." .. k, v)
  end
  return out
end

function M.unflatten(pairs_)
  local root = {}
  for _, kv in ipairs(pairs_) do
    local node = root
    local parts = {}
    for part in (kv[1] .. "."):gmatch("([^.]*)%.") do
      parts[#parts + 1] = part:find("^%d+$") and math.tointeger(tonumber(part)) or part
    end
    for i = 1, #parts - 1 do
      local k = parts[i]
      if type(node[k]) ~= "table" then
        if node[k] ~= nil then
          type_error(parts[1])
        end
        node[k] = {}
      end
      node = node[k]
    end
    local last = parts[#parts]
    if type(node[last]) == "table" then
      type_error(parts[1])
    end
    node[last] = kv[2]
  end
  local out = {}
  for k, v in pairs(root) do
    out[k] = to_arrays(tostring(k), v)
  end
  return out
end

return M
