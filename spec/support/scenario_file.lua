-- A scenario written to a temporary file for one spec: the shipped
-- throttling scenario's credentials and keys, its faults left out, then
-- `extra`. Returns the path.
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

return M
