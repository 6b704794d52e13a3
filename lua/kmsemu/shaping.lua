-- Response shaping: on(dialect, action, function(req, res) ... end) hooks
-- that see a dialect's answer before it is encoded and may change it.
local actions = require "kmsemu.actions"
local dialects = require "kmsemu.dialect"
local util = require "kmsemu.util"

local M = {}

-- Returns an error message for a bad on(...) declaration, or nil: a hook
-- on an action the dialect does not have would never run.
function M.check(dialect, action, fn)
  if dialect ~= "*" and not dialects.BY_NAME[dialect] then
    return ("on: the dialect must be one of %s or \"*\""):format(table.concat(dialects.NAMES, ", "))
  end
  if type(action) ~= "string" or action == "" then
    return "on: the action must be a non-empty string"
  end
  if type(fn) ~= "function" then
    return "on: the third argument must be a function(req, res)"
  end
  local among = dialect == "*" and dialects.NAMES or { dialect }
  if #actions.reach(action, among) == 0 then
    return actions.unknown("on: action", action, among)
  end
end

local function applies(hook, call)
  return (hook.dialect == "*" or hook.dialect == call.dialect)
    and actions.matches(hook.action, call.neutral, call.action)
end

-- What the hooks get: status, a copy of the headers (a dialect may share
-- one table), and json, a copy of the document the dialect answered with
-- (nil for a raw answer); res.body reads as the JSON text of json, or is
-- the raw answer. A hook changes json, or sets body to send raw bytes.
local function view_of(res)
  local headers = {}
  for k, v in pairs(res.headers or {}) do
    headers[k] = v
  end
  if res.json == nil then
    return { status = res.status, headers = headers, body = res.body }
  end
  return setmetatable({ status = res.status, headers = headers, json = util.editable(res.json) }, {
    __index = function(view, k)
      if k == "body" then
        return util.encode(util.settled(rawget(view, "json")))
      end
    end,
  })
end

-- The answer after the hooks: a body a hook set wins over json.
local function result(view, res)
  local body = rawget(view, "body")
  if body ~= nil and body ~= res.body then
    return { status = view.status, headers = view.headers, body = body }
  end
  if type(view.json) == "table" then
    return { status = view.status, headers = view.headers, json = util.settled(view.json) }
  end
  return { status = view.status, headers = view.headers, json = res.json, body = res.body }
end

-- Runs every hook that applies, in declaration order, on one view; each
-- returns it (or nothing, keeping the one it changed). The call's error
-- becomes the shaped answer's.
function M.apply(hooks, dialect, call, req, res)
  local view
  for _, hook in ipairs(hooks) do
    if applies(hook, call) then
      view = view or view_of(res)
      view = hook.fn(req, view) or view
    end
  end
  if not view then
    return res
  end
  local out = result(view, res)
  call.error, call.message = dialect.error_of(out)
  return out
end

return M
