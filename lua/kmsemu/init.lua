-- The entry point the C core calls: start() once, handle() per request.
-- It tells the dialects apart and hands each request to one of them; the
-- dialect answers in its cloud's exact shape, errors included.
local scenario = require "kmsemu.scenario"
local huawei = require "kmsemu.dialect.huawei"
local tencent = require "kmsemu.dialect.tencent"

local M = {}

local world

-- Loads the scenario. Returns nothing on success, or the error message.
function M.start(opts)
  if not opts.scenario then
    world = { credentials = {}, keys = require("kmsemu.keystore").new(scenario.DEFAULT_SEED) }
    return
  end
  local w, err = scenario.load(opts.scenario)
  if not w then
    return err
  end
  world = w
end

-- Tencent's API 3.0 lives at "/" and names its action in X-TC-Action (or
-- an Action parameter, in the GET and legacy form styles). Huawei's lives
-- under /v1.0/{project_id}/kms/..., plus its version documents at "/".
local function dialect_of(req)
  if req.path == "/" and (req.method == "POST" or req.headers["x-tc-action"]
      or ("&" .. req.query):find("&Action=")) then
    return tencent
  end
  return huawei
end

function M.handle(req)
  return dialect_of(req).handle(world, req)
end

-- What a newcomer needs to point an SDK at this instance: the endpoint
-- and credentials of each dialect the scenario configures.
function M.describe(url)
  local c = world.credentials
  local lines = {}
  if c.huawei then
    lines[#lines + 1] = ("  huawei   %s/v1.0/%s/kms/...  AK %s  SK %s"):format(
      url, c.huawei.project_id or "{project_id}", c.huawei.ak, c.huawei.sk)
  end
  if c.tencent then
    lines[#lines + 1] = ("  tencent  %s/  region %s  SecretId %s  SecretKey %s"):format(
      url, c.tencent.region, c.tencent.secret_id, c.tencent.secret_key)
  end
  local n = 0
  for _ in pairs(world.keys.keys) do
    n = n + 1
  end
  lines[#lines + 1] = ("  %d keys from %s"):format(n, world.path or "no scenario")
  return table.concat(lines, "\n")
end

-- For tests: the world as loaded.
function M.world()
  return world
end

return M
