-- What a scenario declares for Tencent: credentials.tencent, the cmk{}
-- fields of a key's region, its creator product and its material's
-- expiry, and tencent_limits{}, the account's quotas.
local util = require "kmsemu.util"

local M = {}

M.DEFAULT_REGION = "ap-guangzhou"

M.CREDENTIALS = { secret_id = true, secret_key = true, region = true, uin = true }
M.CREDENTIAL_DEFAULTS = { region = M.DEFAULT_REGION }

-- managed_by: the cloud product that created the key (Owner, Role 1);
-- valid_to: when its imported material expires (ValidTo).
M.CMK_FIELDS = {
  region = { type = "string" },
  managed_by = { type = "string", keep = true },
  valid_to = { type = "time", keep = true },
}

-- The published examples all show SM-standard keys (KeyMetadata.Type 4).
M.DEFAULT_SPEC = "SM4"

-- Keys live in a region: the key's own, else the credentials'.
function M.owner(c, creds)
  return c.region or (creds and creds.region) or M.DEFAULT_REGION
end

-- rate turns the documented per-second limits on, cmks replaces the 200
-- CMKs a region may hold, data_keys its 1000 hosted data keys, whitebox =
-- false leaves the white-box key service not activated, per_second
-- overrides one action's limit.
local LIMIT_FIELDS = { rate = true, cmks = true, data_keys = true, whitebox = true, per_second = true }

local function check_limits(l)
  local e = util.check_fields("tencent_limits", l, LIMIT_FIELDS)
  if e then
    return e
  end
  if l.rate ~= nil and type(l.rate) ~= "boolean" then
    return "tencent_limits.rate must be a boolean"
  end
  for _, name in ipairs { "cmks", "data_keys" } do
    local n = l[name]
    if n ~= nil and (math.type(n) ~= "integer" or n < 0) then
      return ("tencent_limits.%s must be a non-negative integer"):format(name)
    end
  end
  if l.whitebox ~= nil and type(l.whitebox) ~= "boolean" then
    return "tencent_limits.whitebox must be a boolean"
  end
  if l.per_second ~= nil then
    if type(l.per_second) ~= "table" then
      return "tencent_limits.per_second must be a table of action names and integers"
    end
    for k, v in pairs(l.per_second) do
      if type(k) ~= "string" or math.type(v) ~= "integer" or v < 0 then
        return "tencent_limits.per_second must be a table of action names and integers"
      end
    end
  end
end

M.VERBS = {
  tencent_limits = { check = check_limits, into = "tencent_limits" },
}

return M
