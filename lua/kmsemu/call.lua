-- What faults, hooks and the journal know of a request before a dialect
-- handles it: the dialect, the action (native and neutral), the key id
-- and the caller. Found with string patterns rather than a full parse:
-- this runs on every request, and a dialect still validates the request
-- itself afterwards.
local actions = require "kmsemu.actions"
local util = require "kmsemu.util"

local M = {}

-- A JSON string field of the body, or a form/query parameter.
local function field(req, json_name, form_name)
  local v = req.body:match('"' .. json_name .. '"%s*:%s*"([^"]*)"')
  if v or not form_name then
    return v
  end
  v = ("&" .. req.query .. "&" .. req.body):match("&" .. form_name .. "=([^&]*)")
  return v and util.uri_decode(v)
end

local function huawei_caller(req)
  local auth = req.headers.authorization
  return auth and auth:match("Access=([^,%s]+)")
end

local function tencent_caller(req)
  local auth = req.headers.authorization
  if auth then
    return auth:match("Credential=([^/,%s]+)")
  end
  return field(req, "SecretId", "SecretId")
end

-- dialect_name: "huawei" or "tencent"; dialect: its module.
function M.describe(dialect_name, dialect, req)
  local action = dialect.action_of(req)
  local c = { dialect = dialect_name, action = action, neutral = actions.neutral(dialect_name, action) }
  if dialect_name == "huawei" then
    c.key_id, c.caller = field(req, "key_id"), huawei_caller(req)
  else
    c.key_id, c.caller = field(req, "KeyId", "KeyId"), tencent_caller(req)
  end
  return c
end

-- The error code of a response, for the journal: Huawei's error_code
-- (nested or flat), Tencent's Response.Error.Code.
function M.error_code(dialect_name, res)
  if dialect_name == "huawei" then
    return res.status >= 400 and res.body:match('"error_code"%s*:%s*"([^"]*)"') or nil
  end
  local err = res.body:match('"Error"%s*:%s*(%b{})')
  return err and err:match('"Code"%s*:%s*"([^"]*)"')
end

return M
