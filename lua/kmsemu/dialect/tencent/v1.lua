-- The legacy signature v1 (section 3.4): every parameter, the common ones
-- included, is a form pair; the signature is
--   Base64(HMAC(SecretKey, METHOD .. host .. "/?" .. sorted "k=v" pairs))
-- over the decoded values, with SHA-256 when SignatureMethod says
-- HmacSHA256 and SHA-1 otherwise.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local log = require "kmsemu.log"
local auth = require "kmsemu.dialect.tencent.auth"

local M = {}

-- Common parameters of v1; the rest are the action's own.
M.COMMON = {
  Action = true, Region = true, Timestamp = true, Nonce = true, SecretId = true,
  Signature = true, SignatureMethod = true, Version = true, Token = true,
  RequestClient = true, Language = true,
}

-- hide, for a diagnostic: secret-bearing values replaced by their length.
local function string_to_sign(method, host, form, underscores, hide)
  local parts = {}
  for _, kv in ipairs(form) do
    if kv[1] ~= "Signature" then
      local k = underscores and kv[1]:gsub("_", ".") or kv[1]
      parts[#parts + 1] = k .. "=" .. (hide and auth.secret_param(k) and log.hidden(kv[2]) or kv[2])
    end
  end
  table.sort(parts)
  return method .. host .. "/?" .. table.concat(parts, "&")
end

-- The access log's account of a mismatch: the string to sign kmsemu
-- expected for the host as sent, and the variants it tried.
local function mismatch(req, form, secret_id, hash)
  local host = req.headers.host or ""
  local forms = { host, host:match("^(.*):%d+$") }
  local lines = {
    ("signature mismatch for SecretId %s (v1, Hmac%s)"):format(secret_id, hash:upper()),
    ("string to sign kmsemu expected (Host %s):"):format(host),
  }
  table.move(log.block(string_to_sign(req.method, host, form, false, true)), 1, 1, #lines + 1, lines)
  lines[#lines + 1] = "host forms tried: " .. table.concat(forms, ", ")
    .. ", each with the parameter names as sent and with '_' as '.'"
  return table.concat(lines, "\n")
end

local function required(common, name)
  local v = common[name]
  if v == nil or v == "" then
    errors.raise("MISSING_PARAMETER", name)
  end
  return v
end

-- Candidates for what the client signed: the host as sent and without its
-- port, and the Python SDK's variant that writes '_' in names as '.'.
local function matches(creds, req, form, signature, hash)
  local host = req.headers.host or ""
  for _, h in ipairs { host, host:match("^(.*):%d+$") } do
    for _, underscores in ipairs { false, true } do
      local mac = core.hmac(hash, creds.secret_key, string_to_sign(req.method, h, form, underscores))
      if core.equal(core.b64(mac), signature) then
        return true
      end
    end
  end
  return false
end

-- A v1 request's decoded pairs as its common parameters (a table, the
-- last of a name winning) and the action's own pairs.
function M.split(form)
  local common, rest = {}, {}
  for _, kv in ipairs(form) do
    if M.COMMON[kv[1]] then
      common[kv[1]] = kv[2]
    else
      rest[#rest + 1] = kv
    end
  end
  return common, rest
end

-- Checks a v1 request: form, its decoded pairs, and common, as split()
-- gave them. Raises AUTH_* (or MISSING_PARAMETER) when it does not hold.
function M.verify(creds, req, form, common, now)
  required(common, "Action")
  -- '+' in a Signature sent unencoded reads as a space.
  local signature = required(common, "Signature"):gsub(" ", "+")
  local secret_id = required(common, "SecretId")
  local ts = math.tointeger(tonumber(required(common, "Timestamp")))
  required(common, "Nonce")
  if not creds or secret_id ~= creds.secret_id then
    errors.raise("AUTH_UNKNOWN_KEY", secret_id, ("unknown SecretId %s: the scenario's is %s")
      :format(secret_id, creds and creds.secret_id or "none"))
  end
  if not ts or math.abs(now - ts) > auth.MAX_SKEW then
    errors.raise("AUTH_EXPIRED", nil, (auth.skew(common.Timestamp, ts, now):gsub("^X%-TC%-Timestamp", "Timestamp")))
  end
  local hash = common.SignatureMethod == "HmacSHA256" and "sha256" or "sha1"
  if not matches(creds, req, form, signature, hash) then
    errors.raise("AUTH_SIGNATURE", nil, mismatch(req, form, secret_id, hash))
  end
end

return M
