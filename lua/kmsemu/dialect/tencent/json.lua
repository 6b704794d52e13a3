-- JSON for Tencent responses. The strict SDKs (Go) unmarshal lists into
-- slices, so an empty list must go out as [] and never as {}: Debian's
-- cjson 2.1.0 has no empty-array marker, so M.array() puts a sentinel
-- string in its place and M.encode() swaps it for [] afterwards. The
-- sentinel carries random bytes, so no request text can forge it.
local core = require "kmsemu.core"
local util = require "kmsemu.util"

local M = {}

local EMPTY = "kmsemu-empty-array-" .. core.hex(core.random(12))
local QUOTED = '"' .. EMPTY .. '"'

-- t as a JSON array, even when it has no elements.
function M.array(t)
  if next(t) == nil then
    return EMPTY
  end
  return t
end

function M.encode(t)
  return util.replace(util.encode(t), QUOTED, "[]")
end

return M
