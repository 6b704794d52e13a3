-- Action names across dialects. Scenarios and the journal speak of an
-- operation by a neutral snake_case name ("generate_data_key") or by a
-- dialect's own ("GenerateDataKey", "create-datakey"); this maps both to
-- the neutral one so that a rule written once matches in both clouds.
local M = {}

-- neutral = { huawei name, tencent name }, where the two clouds' names do
-- not follow from the neutral one mechanically.
local NAMES = {
  generate_data_key = { "create-datakey", "GenerateDataKey" },
  encrypt = { "encrypt-data", "Encrypt" },
  decrypt = { "decrypt-data", "Decrypt" },
  generate_random = { "gen-random", "GenerateRandom" },
  get_public_key = { "get-publickey", "GetPublicKey" },
  sign = { "sign", "SignByAsymmetricKey" },
  verify = { "verify", "VerifyByAsymmetricKey" },
  generate_mac = { "generate-mac", "GenerateMac" },
  verify_mac = { "verify-mac", "VerifyMac" },
}

local NEUTRAL = { huawei = {}, tencent = {} }
for neutral, native in pairs(NAMES) do
  NEUTRAL.huawei[native[1]] = neutral
  NEUTRAL.tencent[native[2]] = neutral
end

-- The rest follow a rule: Huawei's kebab-case and Tencent's CamelCase
-- both become snake_case ("describe-key", "DescribeKey": describe_key).
local function mechanical(dialect, native)
  if dialect == "huawei" then
    return (native:gsub("%-", "_"))
  end
  return (native:gsub("(%l)(%u)", "%1_%2"):gsub("(%u)(%u%l)", "%1_%2"):lower())
end

-- Names worked out by the rule are remembered, up to a bound: action
-- names come from requests, and a client could send any number of them.
local CACHE_MAX = 512
local cached = 0

-- The neutral name of a dialect's action name (nil for nil).
function M.neutral(dialect, native)
  if native == nil then
    return nil
  end
  local known = NEUTRAL[dialect]
  local n = known[native]
  if n then
    return n
  end
  n = mechanical(dialect, native)
  if cached < CACHE_MAX then
    known[native], cached = n, cached + 1
  end
  return n
end

-- Whether a rule's action pattern names this call: "*" or nil match all,
-- otherwise the neutral or the native name.
function M.matches(pattern, neutral, native)
  return pattern == nil or pattern == "*" or pattern == neutral or pattern == native
end

return M
