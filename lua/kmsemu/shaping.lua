-- Response shaping: on(dialect, action, function(req, res) ... end) hooks
-- that see a dialect's answer and may change it before it is sent.
local actions = require "kmsemu.actions"
local dialects = require "kmsemu.dialect"
local util = require "kmsemu.util"
local cjson = require "cjson.safe"

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

-- One hook: res.json is the decoded body (nil when it is not JSON); the
-- hook changes it, or sets res.body to send raw bytes. It returns res (or
-- nothing, keeping the table it changed). A changed json is re-encoded; a
-- changed body wins over json.
local function run(hook, req, res)
  local body = res.body
  local decoded = body ~= "" and cjson.decode(body) or nil
  local before = type(decoded) == "table" and util.encode(decoded) or nil
  local headers = {}
  for k, v in pairs(res.headers) do -- a dialect may share one headers table
    headers[k] = v
  end
  local view = { status = res.status, headers = headers, body = body,
                 json = type(decoded) == "table" and decoded or nil }
  view = hook.fn(req, view) or view
  if view.body ~= body then
    return { status = view.status, headers = view.headers, body = view.body }
  end
  local after = type(view.json) == "table" and util.encode(view.json) or nil
  return { status = view.status, headers = view.headers, body = after ~= before and after or body }
end

-- Runs every hook that applies, in declaration order.
function M.apply(hooks, call, req, res)
  for _, hook in ipairs(hooks) do
    if applies(hook, call) then
      res = run(hook, req, res)
    end
  end
  return res
end

return M
