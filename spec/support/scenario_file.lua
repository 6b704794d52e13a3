-- A scenario written to a temporary file for one spec: the shipped
-- throttling scenario's credentials and keys, its faults left out, then
-- `extra`. Returns the path.
local assert = require "luassert"

local M = {}

function M.with(extra)
  local f = assert(io.open("scenarios/faults/throttling.lua", "rb"))
  local base = f:read("a"):gsub("\nfault {.-}\n", "\n")
  f:close()
  local path = os.tmpname()
  f = assert(io.open(path, "wb"))
  f:write(base, "\n", extra, "\n")
  f:close()
  return path
end

-- Asserts that the scenario with extra fails to load, the error naming
-- its file:line and holding message.
function M.assert_refused(extra, message)
  local path = M.with(extra)
  local w, err = require("kmsemu.scenario").load(path)
  assert.is_nil(w)
  assert.is_truthy(err:find(path .. ":%d+: "), err)
  assert.is_truthy(err:find(message, 1, true), err)
end

return M
