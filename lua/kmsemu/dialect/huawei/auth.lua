-- SDK-HMAC-SHA256, the AK/SK signature of Huawei Cloud's API gateway
-- (reference: huawei-kms.md section 4). Each SDK signs a different set of
-- headers, so the canonical request is built from the SignedHeaders the
-- request names; the URI is encoded segment by segment and always ends
-- in "/"; the payload hash is of the raw body unless X-Sdk-Content-Sha256
-- gives one.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local log = require "kmsemu.log"
local util = require "kmsemu.util"

local M = {}

M.ALGORITHM = "SDK-HMAC-SHA256"
M.MAX_SKEW = 900 -- seconds; the gateway refuses dates ~15 minutes off

-- The header exactly as every SDK writes it, taken in one match before
-- the general parser.
local SDK_FORM = "^SDK%-HMAC%-SHA256 Access=([^,%s]+), SignedHeaders=([^,%s]+), Signature=(%x+)$"

function M.parse(header)
  local ak, signed, sig = header:match(SDK_FORM)
  if ak then
    return { ak = ak, signed_headers = signed, signature = sig:lower() }
  end
  local f = util.auth_fields(header, M.ALGORITHM)
  if not f or not (f.Access and f.SignedHeaders and f.Signature) or not f.Signature:find("^%x+$") then
    return nil
  end
  return { ak = f.Access, signed_headers = f.SignedHeaders, signature = f.Signature:lower() }
end

-- The path arrives decoded, as civetweb gives it; the SDKs sign each
-- segment of the decoded path encoded again (Python: quote(unquote(path))),
-- so a "/" inside a segment (%2F) signs as a separator, as it does here.
local function canonical_uri(path)
  if not path:find("[^%w%-%._~/]") then -- nothing to encode
    return path:sub(-1) == "/" and path or path .. "/"
  end
  local out = {}
  for seg in (path .. "/"):gmatch("([^/]*)/") do
    out[#out + 1] = util.uri_encode(seg)
  end
  local uri = table.concat(out, "/")
  if uri:sub(-1) ~= "/" then
    uri = uri .. "/"
  end
  return uri
end

local function canonical_query(query)
  if query == "" then
    return ""
  end
  local pairs_ = util.parse_query(query)
  table.sort(pairs_, function(a, b)
    if a[1] ~= b[1] then
      return a[1] < b[1]
    end
    return a[2] < b[2]
  end)
  local out = {}
  for i, kv in ipairs(pairs_) do
    out[i] = util.uri_encode(kv[1]) .. "=" .. util.uri_encode(kv[2])
  end
  return table.concat(out, "&")
end

local function canonical_request(host, req, a, payload)
  local headers = util.canonical_headers(req, a.signed_headers, host, false)
  if not headers then
    return nil
  end
  return table.concat({
    req.method, canonical_uri(req.path), canonical_query(req.query),
    headers, a.signed_headers, payload,
  }, "\n")
end

local function string_to_sign(canonical, sdk_date)
  return M.ALGORITHM .. "\n" .. sdk_date .. "\n" .. core.hex(core.digest("sha256", canonical))
end

local function expected(host, req, a, sk, sdk_date, payload)
  local canonical = canonical_request(host, req, a, payload)
  return canonical and core.hex(core.hmac("sha256", sk, string_to_sign(canonical, sdk_date)))
end

-- Diagnostics: the access log's account of a refusal, never the answer's
-- (the gateway's body stays as it is). A canonical request is shown with
-- the values of token headers and of secret-bearing query parameters
-- replaced by their length.
local secret_param = log.secret_names { "plain", "token", "secret", "password", "material" }

local function absent_header(req, signed)
  for name in signed:gmatch("[^;]+") do
    if name ~= "host" and req.headers[name] == nil then
      return name
    end
  end
  return "host"
end

local function mismatch(req, a, date, payload)
  return log.mismatch({
    ("signature mismatch for AK %s (%s, SignedHeaders %s)"):format(a.ak, M.ALGORITHM, a.signed_headers),
    ("credential: AK %s; %s signs no date or region scope"):format(a.ak, M.ALGORITHM),
  }, req.headers.host or "", function(h)
    local canonical = canonical_request(h, req, a, payload)
    if not canonical then
      return nil, ("SignedHeaders names %s, which the request does not carry")
        :format(absent_header(req, a.signed_headers))
    end
    return canonical, string_to_sign(canonical, date)
  end, secret_param)
end

local function sdk_time(s)
  local y, mo, d, h, mi, sec = (s or ""):match("^(%d%d%d%d)(%d%d)(%d%d)T(%d%d)(%d%d)(%d%d)Z$")
  if not y then
    return nil
  end
  return util.timegm(tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec))
end

local hosts = {} -- util.host_signed's memo

-- Returns the AK, or raises a neutral AUTH_* error whose detail is the
-- gateway's explanation. parsed: the header as M.parse read it already;
-- known(): the AKs the account has, for the diagnosis of an unknown one.
function M.verify(creds, req, now, parsed, known)
  local header = req.headers.authorization
  if not header or header == "" then
    if req.headers["x-auth-token"] then
      errors.raise("AUTH_SIGNATURE", "decrypt token fail")
    end
    errors.raise("AUTH_MISSING", "x-auth-token not found",
      "neither an Authorization header nor X-Auth-Token")
  end
  local a = parsed or M.parse(header)
  if not a then
    errors.raise("AUTH_MALFORMED", "verify authorization header fail",
      ("Authorization (starting '%s') is not '%s Access=AK, SignedHeaders=a;b, Signature=hex'")
        :format(header:match("^%S*"):sub(1, 40), M.ALGORITHM))
  end
  if not creds or a.ak ~= creds.ak then
    local aks = known and table.concat(known(), ", ") or ""
    errors.raise("AUTH_UNKNOWN_KEY", ("ak %s not exist"):format(a.ak),
      ("unknown AK %s: the scenario's AKs are %s"):format(a.ak, aks ~= "" and aks or "none"))
  end
  local date = req.headers["x-sdk-date"]
  local t = sdk_time(date)
  if not t then
    errors.raise("AUTH_MALFORMED", "x-sdk-date is missing or malformed",
      date and ("X-Sdk-Date '%s' is not YYYYMMDDTHHMMSSZ"):format(date:sub(1, 40)) or "X-Sdk-Date is missing")
  end
  if math.abs(now - t) > M.MAX_SKEW then
    local server = os.date("!%Y%m%dT%H%M%SZ", now)
    errors.raise("AUTH_EXPIRED", ("calc aksk signature fail:signature expired, signature time:%s,server time:%s")
      :format(date, server), ("X-Sdk-Date %s is %d s %s the server's clock (%s); the gateway allows %d s")
      :format(date, math.abs(now - t), t < now and "behind" or "ahead of", server, M.MAX_SKEW))
  end
  local payload = req.headers["x-sdk-content-sha256"] or core.hex(core.digest("sha256", req.body))
  if not util.host_signed(hosts, req.headers.host or "", a.signature, expected,
      req, a, creds.sk, date, payload) then
    errors.raise("AUTH_SIGNATURE", "verify aksk signature fail", mismatch(req, a, date, payload))
  end
  return a.ak
end

return M
