-- Reading a Huawei request body. The SDK models type almost every field as
-- a string, numbers included ("datakey_length": "512"); a value of another
-- JSON type is refused rather than coerced, as the models would never send
-- it. Each reader raises the neutral error, or the field's own KMS code.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local util = require "kmsemu.util"

local M = {}

local function absent(v)
  return v == nil or v == util.null
end

-- The field's value; nil when it is absent (or JSON null) and not
-- required, MISSING_PARAMETER when it is required.
local function present(b, name, required)
  local v = b[name]
  if absent(v) then
    if required then
      errors.raise("MISSING_PARAMETER", name)
    end
    return nil
  end
  return v
end

-- A string field; nil when absent and not required.
function M.string(b, name, required)
  local v = present(b, name, required)
  if v == nil then
    return nil
  end
  if type(v) ~= "string" then
    errors.raise("INVALID_PARAMETER", name .. " must be a string")
  end
  return v
end

-- s, the value of name, as a decimal integer in [min, max]; out of range
-- or not a number raises `code` (default KMS.0308).
local function decimal(s, name, min, max, code)
  local n = s:find("^%d+$") and math.tointeger(tonumber(s))
  if not n or n < min or n > max then
    errors.vendor(code or "KMS.0308", name)
  end
  return n
end

-- A decimal integer carried as a string, checked as decimal() does.
function M.count(b, name, min, max, code, required)
  local s = M.string(b, name, required ~= false)
  if s == nil then
    return nil
  end
  return decimal(s, name, min, max, code)
end

-- A JSON integer (the few fields the models type as int).
function M.integer(b, name, required, code)
  local v = present(b, name, required)
  if v == nil then
    return nil
  end
  if math.type(v) ~= "integer" and not (math.type(v) == "float" and v == math.floor(v)) then
    errors.vendor(code or "KMS.0308", name)
  end
  return math.tointeger(v)
end

function M.boolean(b, name, default)
  local v = b[name]
  if absent(v) then
    return default
  end
  if type(v) ~= "boolean" then
    errors.raise("INVALID_PARAMETER", name .. " must be a boolean")
  end
  return v
end

-- A string from a fixed set; `default` when absent.
function M.enum(b, name, set, default, code)
  local v = M.string(b, name) or default
  if v ~= nil and not set[v] then
    errors.vendor(code or "KMS.0308", name)
  end
  return v
end

-- A JSON array of strings.
function M.strings(b, name, required)
  local v = present(b, name, required)
  if v == nil then
    return nil
  end
  if type(v) ~= "table" then
    errors.raise("INVALID_PARAMETER", name .. " must be an array")
  end
  for i = 1, #v do
    if type(v[i]) ~= "string" then
      errors.raise("INVALID_PARAMETER", name .. " must hold strings")
    end
  end
  return v
end

-- The SDK models' key_id pattern: [0-9a-z]{8}-{4}-{4}-{4}-{12}.
local KEY_ID = "^" .. table.concat({
  ("[0-9a-z]"):rep(8), ("[0-9a-z]"):rep(4), ("[0-9a-z]"):rep(4),
  ("[0-9a-z]"):rep(4), ("[0-9a-z]"):rep(12) }, "%-") .. "$"

function M.is_key_id(s)
  return type(s) == "string" and s:find(KEY_ID) ~= nil
end

function M.key_id(b, required, name)
  name = name or "key_id"
  local id = M.string(b, name, required)
  if id ~= nil and not M.is_key_id(id) then
    errors.raise("INVALID_KEY_ID", id)
  end
  return id
end

local MAX_AAD = 128

function M.aad(b, name)
  local s = M.string(b, name or "additional_authenticated_data") or ""
  if #s > MAX_AAD then
    errors.vendor("KMS.0208")
  end
  return s
end

-- Base64 that decodes to between min and max bytes.
function M.base64(b, name, min, max, code)
  local s = M.string(b, name, true)
  local raw = s:find("^[%w+/]*=?=?$") and core.unb64(s)
  if not raw or #raw < min or #raw > max then
    errors.vendor(code or "KMS.0308", name)
  end
  return raw
end

-- limit / marker paging of the list calls: marker is an offset.
function M.page(b, limit_code, marker_code)
  local limit = M.count(b, "limit", 1, 1000, limit_code or "KMS.1601", false)
  local s = M.string(b, "marker")
  local marker = 0
  if s ~= nil and s ~= "" then
    marker = s:find("^%d+$") and math.tointeger(tonumber(s))
    if not marker then
      errors.vendor(marker_code or "KMS.1602", "marker")
    end
  end
  return limit, marker
end

-- Slices `items` by (limit, marker) and reports the page the cloud's way:
-- next_marker "" and truncated "false" on the last page.
function M.paginate(items, limit, marker)
  local out = {}
  local last = limit and math.min(#items, marker + limit) or #items
  for i = marker + 1, last do
    out[#out + 1] = items[i]
  end
  local more = last < #items
  return out, more and tostring(last) or "", more and "true" or "false"
end

-- A request's query parameters by name (the first of each).
function M.query(q)
  local out = {}
  for _, kv in ipairs(util.parse_query(q or "")) do
    if out[kv[1]] == nil then
      out[kv[1]] = kv[2]
    end
  end
  return out
end

-- A query parameter the models type as an integer, in [min, max].
function M.query_integer(q, name, default, min, max, code)
  local s = q[name]
  if s == nil or s == "" then
    return default
  end
  return decimal(s, name, min, max, code)
end

-- The models' UUID pattern (hex digits, either case).
M.is_uuid = util.is_uuid

-- The names the models allow for aliases and names: [a-zA-Z0-9:/_-]{1,255}.
function M.is_name(s)
  return type(s) == "string" and #s <= 255 and s:find("^[%w:/_%-]+$") ~= nil
end

return M
