-- Drives the Tencent dialect through the router, without sockets, for the
-- tencent_*_spec files: a fresh world per scenario, calls that return the
-- inner Response, and a clock the spec can move.
local client = require "support.client"
local kmsemu = require "kmsemu"
local util = require "kmsemu.util"

local M = {}

local real_now = util.now
local fake

-- Loads a scenario (default scenarios/tencent.lua) and resets the clock.
function M.start(path)
  M.clock(nil)
  assert(kmsemu.start { scenario = path or "scenarios/tencent.lua" } == nil)
  return kmsemu.world()
end

-- Fixes the server's clock at t (unix seconds); nil gives back real time.
function M.clock(t)
  fake = t
  util.now = t and function() return fake end or real_now
end

function M.advance(seconds)
  M.clock((fake or real_now()) + seconds)
end

-- Lists and objects as a form sends them: KeyIds.0, Tags.0.TagKey.
function M.flatten(params, prefix, out)
  out = out or {}
  for k, v in pairs(params) do
    local name = prefix and (prefix .. "." .. (math.type(k) == "integer" and k - 1 or k)) or k
    if type(v) == "table" then
      M.flatten(v, name, out)
    else
      out[name] = tostring(v)
    end
  end
  return out
end

-- Sends one signed request; returns Response. opts as client.tencent's.
function M.call(action, params, opts)
  opts = opts or {}
  if opts.method == "GET" and params then
    params = M.flatten(params)
  end
  opts.action, opts.params = action, params
  opts.timestamp = opts.timestamp or util.wall() -- signatures follow wall time
  local res = kmsemu.handle(client.tencent(opts))
  assert(res.status == 200, "HTTP status " .. tostring(res.status))
  assert(res.headers["Content-Type"] == "application/json")
  return client.json(res).Response, res
end

-- Like call, but the action must succeed.
function M.ok(action, params, opts)
  local r = M.call(action, params, opts)
  if r.Error then
    error(("%s failed: %s %s"):format(action, r.Error.Code, r.Error.Message), 2)
  end
  return r
end

-- The error code of a call that must fail.
function M.code(action, params, opts)
  local r = M.call(action, params, opts)
  if not r.Error then
    error(("%s succeeded, an error was expected"):format(action), 2)
  end
  return r.Error.Code
end

-- Key ids of scenarios/tencent.lua.
M.K = {
  sm4 = "10000001-1e38-11e9-b129-5cb9019b4b01",
  aes = "10000002-1e38-11e9-b129-5cb9019b4b01",
  disabled = "10000003-1e38-11e9-b129-5cb9019b4b01",
  pending_delete = "10000004-1e38-11e9-b129-5cb9019b4b01",
  archived = "10000005-1e38-11e9-b129-5cb9019b4b01",
  rotating = "10000006-1e38-11e9-b129-5cb9019b4b01",
  managed = "10000007-1e38-11e9-b129-5cb9019b4b01",
  ext_pending = "20000001-1e38-11e9-b129-5cb9019b4b01",
  ext_imported = "20000002-1e38-11e9-b129-5cb9019b4b01",
  rsa_decrypt = "30000001-1e38-11e9-b129-5cb9019b4b01",
  sm2_decrypt = "30000002-1e38-11e9-b129-5cb9019b4b01",
  sm2_sign = "30000003-1e38-11e9-b129-5cb9019b4b01",
  ecc_sign = "30000004-1e38-11e9-b129-5cb9019b4b01",
  rsa2048_sign = "30000005-1e38-11e9-b129-5cb9019b4b01",
  ecdsa384_sign = "30000006-1e38-11e9-b129-5cb9019b4b01",
  rsa3072_sign = "30000007-1e38-11e9-b129-5cb9019b4b01",
  ecc_disabled = "30000008-1e38-11e9-b129-5cb9019b4b01",
  singapore = "40000001-1e38-11e9-b129-5cb9019b4b01",
  absent = "00000000-1e38-11e9-b129-000000000000",
}

return M
