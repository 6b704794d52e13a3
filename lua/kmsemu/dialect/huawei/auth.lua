-- SDK-HMAC-SHA256, the AK/SK signature of Huawei Cloud's API gateway
-- (reference: huawei-kms.md section 4). Each SDK signs a different set of
-- headers, so the canonical request is built from the SignedHeaders the
-- request names; the URI is encoded segment by segment and always ends
-- in "/"; the payload hash is of the raw body unless X-Sdk-Content-Sha256
-- gives one.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
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

local function expected(host, req, a, sk, sdk_date, payload)
  local headers = util.canonical_headers(req, a.signed_headers, host, false)
  if not headers then
    return nil
  end
  local canonical = table.concat({
    req.method, canonical_uri(req.path), canonical_query(req.query),
    headers, a.signed_headers, payload,
  }, "\n")
  local sts = M.ALGORITHM .. "\n" .. sdk_date .. "\n" .. core.hex(core.digest("sha256", canonical))
  return core.hex(core.hmac("sha256", sk, sts))
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
-- gateway's explanation. parsed: the header as M.parse read it already.
function M.verify(creds, req, now, parsed)
  local header = req.headers.authorization
  if not header or header == "" then
    if req.headers["x-auth-token"] then
      errors.raise("AUTH_SIGNATURE", "decrypt token fail")
    end
    errors.raise("AUTH_MISSING", "x-auth-token not found")
  end
  local a = parsed or M.parse(header)
  if not a then
    errors.raise("AUTH_MALFORMED", "verify authorization header fail")
  end
  if not creds or a.ak ~= creds.ak then
    errors.raise("AUTH_UNKNOWN_KEY", ("ak %s not exist"):format(a.ak))
  end
  local date = req.headers["x-sdk-date"]
  local t = sdk_time(date)
  if not t then
    errors.raise("AUTH_MALFORMED", "x-sdk-date is missing or malformed")
  end
  if math.abs(now - t) > M.MAX_SKEW then
    errors.raise("AUTH_EXPIRED", ("calc aksk signature fail:signature expired, signature time:%s,server time:%s")
      :format(date, os.date("!%Y%m%dT%H%M%SZ", now)))
  end
  local payload = req.headers["x-sdk-content-sha256"] or core.hex(core.digest("sha256", req.body))
  if not util.host_signed(hosts, req.headers.host or "", a.signature, expected,
      req, a, creds.sk, date, payload) then
    errors.raise("AUTH_SIGNATURE", "verify aksk signature fail")
  end
  return a.ak
end

return M
