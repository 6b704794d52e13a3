-- What faults, hooks and the journal know of a request before a dialect
-- handles it: the dialect, the action (native and neutral), the key and
-- the caller, the method and the path. The dialect reads them with
-- string patterns rather than a full parse: this runs on every request,
-- and the dialect still validates the request itself afterwards.
local actions = require "kmsemu.actions"

local M = {}

-- dialect_name: the name of the dialect whose module is `dialect`.
function M.describe(dialect_name, dialect, req)
  local action = dialect.action_of(req)
  local c = { dialect = dialect_name, action = action, neutral = actions.neutral(dialect_name, action),
              method = req.method, path = req.path }
  c.key_id, c.caller = dialect.describe(req, action)
  return c
end

return M
