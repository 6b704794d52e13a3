-- Quotas: the CMKs, hosted data keys and white-box keys a region may
-- hold, and, when a scenario asks for it
-- with tencent_limits { rate = true }, the documented per-second request
-- limits (section 9), answered with RequestLimitExceeded. Off by default:
-- a test suite that runs fast should not be throttled by surprise.
local errors = require "kmsemu.errors"

local M = {}

M.CMK_LIMIT = 200

-- Hosted data keys a region may hold (not pending deletion). The
-- documentation gives no default quota; kmsemu's is generous.
M.DATA_KEY_LIMIT = 1000

-- White-box keys a region may hold, documented.
M.WHITEBOX_LIMIT = 50

-- Requests per second per region. Encrypt and Decrypt share the
-- symmetric quota; an action not listed has the 100/s that nearly every
-- management action documents. GenerateDataKey takes the newer pages'
-- 150/s.
M.SHARED = { Encrypt = "symmetric", Decrypt = "symmetric" }
M.PER_SECOND = {
  symmetric = 300,
  GenerateDataKey = 150,
  GenerateRandom = 150,
  AsymmetricRsaDecrypt = 200,
  AsymmetricSm2Decrypt = 200,
  SignByAsymmetricKey = 100,
  VerifyByAsymmetricKey = 100,
  GetPublicKey = 100,
  RotateKey = 20,
  PostQuantumCryptoEncrypt = 20,
  ScheduleDataKeyDeletion = 20,
}
M.DEFAULT_PER_SECOND = 100

function M.cmk_limit(world)
  local l = world.tencent_limits
  return l and l.cmks or M.CMK_LIMIT
end

function M.data_key_limit(world)
  local l = world.tencent_limits
  return l and l.data_keys or M.DATA_KEY_LIMIT
end

-- Whether the white-box key service is activated (off only when a
-- scenario says tencent_limits { whitebox = false }).
function M.whitebox(world)
  local l = world.tencent_limits
  return not (l and l.whitebox == false)
end

-- The bucket an action counts in and that bucket's limit; a scenario's
-- per_second override gives the action a bucket of its own.
local function bucket(l, action)
  local own = l.per_second and l.per_second[action]
  if own then
    return action, own
  end
  local b = M.SHARED[action] or action
  return b, M.PER_SECOND[b] or M.DEFAULT_PER_SECOND
end

-- Counts the request in the current second; over the limit, refuses it.
function M.admit(world, ctx, action)
  local l = world.tencent_limits
  if not (l and l.rate) then
    return
  end
  local w = world.tencent_rate
  if not w or w.second ~= ctx.now then
    w = { second = ctx.now, counts = {} }
    world.tencent_rate = w
  end
  local b, limit = bucket(l, action)
  local slot = ctx.region .. "/" .. b
  local n = (w.counts[slot] or 0) + 1
  w.counts[slot] = n
  if n > limit then
    errors.vendor("RequestLimitExceeded")
  end
end

return M
