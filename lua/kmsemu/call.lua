-- What faults, hooks and the journal know of a request before a dialect
-- handles it: the dialect, the action (native and neutral), the key id
-- and the caller. Found with string patterns rather than a full parse:
-- this runs on every request, and a dialect still validates the request
-- itself afterwards.
local actions = require "kmsemu.actions"
local util = require "kmsemu.util"

local M = {}

-- A JSON string field of the body, or a form/query parameter. A plain
-- find locates the name at memchr speed; the pattern then runs anchored.
function M.field(req, json_name, form_name)
  local body = req.body
  local at = body:find('"' .. json_name .. '"', 1, true)
  if at then
    return body:match('^"[^"]*"%s*:%s*"([^"]*)"', at)
  end
  if not form_name then
    return nil
  end
  local v = ("&" .. req.query .. "&" .. body):match("&" .. form_name .. "=([^&]*)")
  return v and util.uri_decode(v)
end

local function huawei_caller(req)
  local auth = req.headers.authorization
  return auth and auth:match("Access=([^,%s]+)")
end

local function tencent_caller(req)
  local auth = req.headers.authorization
  if not auth then
    return M.field(req, "SecretId", "SecretId")
  end
  local at = auth:find("Credential=", 1, true)
  return at and auth:match("^Credential=([^/,%s]+)", at)
end

-- dialect_name: "huawei" or "tencent"; dialect: its module.
function M.describe(dialect_name, dialect, req)
  local action = dialect.action_of(req)
  local c = { dialect = dialect_name, action = action, neutral = actions.neutral(dialect_name, action) }
  if dialect_name == "huawei" then
    c.key_id, c.caller = M.field(req, "key_id"), huawei_caller(req)
  else
    c.key_id, c.caller = M.field(req, "KeyId", "KeyId"), tencent_caller(req)
  end
  return c
end

-- The error code of a response, for the journal: Huawei's error_code
-- (nested or flat), Tencent's Response.Error.Code.
function M.error_code(dialect_name, res)
  local body = res.body
  if dialect_name == "huawei" then
    local at = res.status >= 400 and body:find('"error_code"', 1, true)
    return at and body:match('^"error_code"%s*:%s*"([^"]*)"', at) or nil
  end
  local at = body:find('"Error":', 1, true)
  local err = at and body:match('^"Error"%s*:%s*(%b{})', at)
  return err and err:match('"Code"%s*:%s*"([^"]*)"')
end

return M
