-- TC3-HMAC-SHA256, the API 3.0 signature, checked the way the official
-- SDKs actually sign (reference: tencent-kms.md section 3):
--  * date and service come from the Credential scope: the Node SDK derives
--    the service from the endpoint's first label ("127" for 127.0.0.1);
--  * host is tried as sent and without its port: Node signs the hostname
--    alone, Python and Go sign host:port;
--  * the canonical headers are the ones SignedHeaders lists, names and
--    values lower-cased; the payload hash covers the raw body bytes.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local log = require "kmsemu.log"
local util = require "kmsemu.util"

local M = {}

M.ALGORITHM = "TC3-HMAC-SHA256"
M.MAX_SKEW = 300 -- seconds; beyond it AuthFailure.SignatureExpire

local EMPTY_HASH = core.hex(core.digest("sha256", ""))

-- The signing key depends only on (secret key, date, service): caching it
-- makes a check one HMAC instead of four.
local signing_keys = {}

local function signing_key(secret_key, date, service)
  local cache = signing_keys[secret_key]
  if not cache then
    cache = {}
    signing_keys[secret_key] = cache
  end
  local slot = date .. "/" .. service
  local k = cache[slot]
  if not k then
    k = core.hmac("sha256", "TC3" .. secret_key, date)
    k = core.hmac("sha256", k, service)
    k = core.hmac("sha256", k, "tc3_request")
    cache[slot] = k
  end
  return k
end

-- The header exactly as every SDK writes it, taken in one match: the
-- general parser below costs four times as much, on every request.
local SDK_FORM = "^TC3%-HMAC%-SHA256 Credential=([^/,%s]+)/(%d%d%d%d%-%d%d%-%d%d)/([^/,%s]+)/tc3_request, "
  .. "SignedHeaders=([^,%s]+), Signature=(%x+)$"

-- Parses "TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request,
-- SignedHeaders=a;b, Signature=hex". Returns a table or nil.
function M.parse(header)
  local id, date, service, signed, sig = header:match(SDK_FORM)
  if id then
    return { secret_id = id, date = date, service = service, signed_headers = signed, signature = sig:lower() }
  end
  local f = util.auth_fields(header, M.ALGORITHM)
  if not f or not (f.Credential and f.SignedHeaders and f.Signature) then
    return nil
  end
  local id, date, service = f.Credential:match("^([^/]+)/(%d%d%d%d%-%d%d%-%d%d)/([^/]+)/tc3_request$")
  if not id or not f.Signature:find("^%x+$") then
    return nil
  end
  return {
    secret_id = id, date = date, service = service,
    signed_headers = f.SignedHeaders, signature = f.Signature:lower(),
  }
end

local UNSIGNED_HASH = core.hex(core.digest("sha256", "UNSIGNED-PAYLOAD"))

local function payload_hash(req)
  if req.headers["x-tc-content-sha256"] == "UNSIGNED-PAYLOAD" then
    return UNSIGNED_HASH
  end
  return req.body == "" and EMPTY_HASH or core.hex(core.digest("sha256", req.body))
end

local function canonical_request(host, req, a, payload)
  local headers = util.canonical_headers(req, a.signed_headers, host, true)
  if not headers then
    return nil
  end
  return table.concat({ req.method, "/", req.query, headers, a.signed_headers, payload }, "\n")
end

local function string_to_sign(canonical, a, timestamp)
  return table.concat({
    M.ALGORITHM, timestamp, a.date .. "/" .. a.service .. "/tc3_request",
    core.hex(core.digest("sha256", canonical)),
  }, "\n")
end

-- The signature the request should carry if it was signed with the given
-- host value, or nil when a signed header is absent.
local function expected(host, req, a, secret_key, timestamp, payload)
  local canonical = canonical_request(host, req, a, payload)
  return canonical and core.hex(core.hmac("sha256", signing_key(secret_key, a.date, a.service),
    string_to_sign(canonical, a, timestamp)))
end

-- Diagnostics: the access log's account of a refusal, never the answer's
-- (Response.Error stays the cloud's). A canonical request is shown with
-- the values of token headers and of secret-bearing parameters of a GET
-- query replaced by their length. secret_param(name): whether a
-- parameter's value is kept out of diagnostics.
M.secret_param = log.secret_names { "plaintext", "token", "secretkey", "password", "material", "message" }

local function mismatch(req, a, timestamp, payload)
  return log.mismatch({
    ("signature mismatch for SecretId %s (%s, SignedHeaders %s)"):format(a.secret_id, M.ALGORITHM,
      a.signed_headers),
    ("credential scope: %s/%s/tc3_request"):format(a.date, a.service),
  }, req.headers.host or "", function(h)
    local canonical = canonical_request(h, req, a, payload)
    if not canonical then
      return nil, "SignedHeaders names a header the request does not carry"
    end
    return canonical, string_to_sign(canonical, a, timestamp)
  end, M.secret_param)
end

function M.skew(timestamp, ts, now)
  if not ts then
    return ("X-TC-Timestamp '%s' is not an integer"):format(tostring(timestamp):sub(1, 40))
  end
  return ("X-TC-Timestamp %d (%s) is %d s %s the server's clock (%s); the API allows %d s"):format(ts,
    os.date("!%Y-%m-%dT%H:%M:%SZ", ts), math.abs(now - ts), ts < now and "behind" or "ahead of",
    os.date("!%Y-%m-%dT%H:%M:%SZ", now), M.MAX_SKEW)
end

-- "YYYY-MM-DD" of a timestamp, UTC; os.date costs more than the rest of
-- the check's bookkeeping, and a day has many requests.
local day_cached, date_cached
local function utc_date(ts)
  local day = ts // 86400
  if day ~= day_cached then
    day_cached, date_cached = day, os.date("!%Y-%m-%d", ts)
  end
  return date_cached
end

local hosts = {} -- util.host_signed's memo

-- Checks the request against the credentials. `timestamp` is the value of
-- X-TC-Timestamp (already known to be present), `now` the server's time.
-- Returns the SecretId, or raises a neutral AUTH_* error. parsed: the
-- header as M.parse read it already.
function M.verify(creds, req, timestamp, now, parsed)
  local header = req.headers.authorization
  if not header or header == "" then
    errors.raise("AUTH_MISSING", nil, "no Authorization header")
  end
  local a = parsed or M.parse(header)
  if not a then
    errors.raise("AUTH_MALFORMED", "Authorization does not follow TC3-HMAC-SHA256",
      ("Authorization (starting '%s') is not '%s Credential=ID/DATE/SERVICE/tc3_request, "
        .. "SignedHeaders=a;b, Signature=hex'"):format(header:match("^%S*"):sub(1, 40), M.ALGORITHM))
  end
  local names = ";" .. a.signed_headers .. ";"
  if not (names:find(";content%-type;") and names:find(";host;")) then
    errors.raise("AUTH_MALFORMED", "SignedHeaders must include content-type and host",
      ("SignedHeaders %s lacks content-type or host"):format(a.signed_headers))
  end
  if not creds or a.secret_id ~= creds.secret_id then
    errors.raise("AUTH_UNKNOWN_KEY", a.secret_id, ("unknown SecretId %s: the scenario's is %s")
      :format(a.secret_id, creds and creds.secret_id or "none"))
  end
  local ts = math.tointeger(tonumber(timestamp))
  if not ts or math.abs(now - ts) > M.MAX_SKEW then
    errors.raise("AUTH_EXPIRED", nil, M.skew(timestamp, ts, now))
  end
  if a.date ~= utc_date(ts) then
    errors.raise("AUTH_SIGNATURE", "the Credential date is not the UTC date of X-TC-Timestamp",
      ("credential scope %s/%s/tc3_request: its date is not %s, the UTC date of X-TC-Timestamp %d")
        :format(a.date, a.service, utc_date(ts), ts))
  end
  if not util.host_signed(hosts, req.headers.host or "", a.signature, expected,
      req, a, creds.secret_key, timestamp, payload_hash(req)) then
    errors.raise("AUTH_SIGNATURE", nil, mismatch(req, a, timestamp, payload_hash(req)))
  end
  return a.secret_id
end

M.signing_key = signing_key

return M
