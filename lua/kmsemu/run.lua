-- kmsemu run FILE: the scenario's step("name", function(kms) ... end)
-- declarations, run in order against the loaded world, in-process. Each
-- request is signed as the official SDKs sign it (each dialect's client)
-- and goes through the same router the HTTP server uses; request and
-- answer are printed readably. A step fails when its function raises, or when an
-- expect() in it does not hold; the run goes on with the next step.
local cjson = require "cjson"
local util = require "kmsemu.util"
local dialects = require "kmsemu.dialect"

local M = {}

local function show(prefix, text)
  io.write(prefix, text, "\n")
end

-- The body, indented one level per nesting, for a person to read.
local function pretty(body)
  local ok, v = pcall(cjson.decode, body)
  if not ok or type(v) ~= "table" then
    return body
  end
  return util.encode(v)
end

-- The client a step receives: kms.<dialect>(...), each dialect's own
-- call (README, Scripted runs), signed with the scenario's credentials.
local function kms_for(world, handle)
  local kms = {}
  for _, name in ipairs(dialects.NAMES) do
    local function send(req, label)
      show("  -> " .. name .. " ", label)
      local res = handle(req)
      show("  <- ", res.status .. " " .. pretty(res.body))
      return res
    end
    kms[name] = dialects.BY_NAME[name].client.step(send, world.credentials[name])
  end
  return kms
end

-- Runs world.steps; returns the number of steps that failed.
function M.run(world, handle)
  local failed, steps = 0, world.steps or {}
  local kms = kms_for(world, handle)
  for i, step in ipairs(steps) do
    show("", ("step %d: %s"):format(i, step.name))
    local misses = {}
    world.run_state.misses = misses
    local ok, err = pcall(step.fn, kms)
    if not ok then
      misses[#misses + 1] = tostring(err)
    end
    for _, m in ipairs(misses) do
      show("  FAILED: ", m)
    end
    failed = failed + (#misses > 0 and 1 or 0)
  end
  show("", ("%d steps, %d failed"):format(#steps, failed))
  io.flush()
  return failed
end

return M
