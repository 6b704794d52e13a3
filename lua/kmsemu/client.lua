-- Builds signed requests in both dialects, as the official SDKs do, in the
-- table shape the C core hands to kmsemu.handle (lower-case header names).
-- `kmsemu run` and the specs use it to drive the router without sockets;
-- the specs also send its exact bytes to the real binary.
local core = require "kmsemu.core"
local cjson = require "cjson"

local M = {}

local function hex_sha256(s)
  return core.hex(core.digest("sha256", s))
end

-- The default scenario's credentials, the ones README prints.
M.HUAWEI = {
  ak = "HWAKEXAMPLE0000000000",
  sk = "HWSKEXAMPLEsecretkey0000000000000000000",
  project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
}
M.TENCENT = {
  secret_id = "AKIDkmsemuEXAMPLE0000000000000000000",
  secret_key = "kmsemuEXAMPLEsecretkey0000000000",
  region = "ap-guangzhou",
}

local function encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

-- Tencent TC3-HMAC-SHA256. o: action, params (table), creds, timestamp,
-- method ("POST" or "GET"), host, service, region, version.
function M.tencent(o)
  local creds = o.creds or M.TENCENT
  local ts = o.timestamp or os.time()
  local method = o.method or "POST"
  local host = o.host or "127.0.0.1:8080"
  local service = o.service or "kms"
  local body, query, ctype = "", "", "application/json"
  if method == "GET" then
    local parts, names = {}, {}
    for k in pairs(o.params or {}) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do
      parts[#parts + 1] = encode(k) .. "=" .. encode(tostring(o.params[k]))
    end
    query = table.concat(parts, "&")
    ctype = "application/x-www-form-urlencoded"
  else
    body = o.body or cjson.encode(o.params or {})
  end
  local date = os.date("!%Y-%m-%d", ts)
  local canonical = table.concat({ method, "/", query,
    "content-type:" .. ctype .. "\nhost:" .. host .. "\n", "content-type;host",
    hex_sha256(body) }, "\n")
  local scope = date .. "/" .. service .. "/tc3_request"
  local sts = table.concat({ "TC3-HMAC-SHA256", tostring(ts), scope, hex_sha256(canonical) }, "\n")
  local k = core.hmac("sha256", "TC3" .. creds.secret_key, date)
  k = core.hmac("sha256", core.hmac("sha256", k, service), "tc3_request")
  local headers = {
    ["content-type"] = ctype,
    host = host,
    ["x-tc-action"] = o.action,
    ["x-tc-timestamp"] = tostring(ts),
    ["x-tc-version"] = o.version or "2019-01-18",
    ["x-tc-region"] = o.region or creds.region,
    authorization = ("TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=content-type;host, Signature=%s")
      :format(creds.secret_id, scope, core.hex(core.hmac("sha256", k, sts))),
  }
  return { method = method, path = "/", query = query, headers = headers, body = body,
           remote_addr = "127.0.0.1" }
end

-- Huawei SDK-HMAC-SHA256. o: action, body (table or raw string), creds,
-- project_id, date (unix seconds), host, method, path, query (already
-- encoded, in canonical order), token (sent as X-Auth-Token instead of a
-- signature).
function M.huawei(o)
  local creds = o.creds or M.HUAWEI
  local method = o.method or "POST"
  local host = o.host or "127.0.0.1:8080"
  local project = o.project_id or creds.project_id
  local path = o.path or ("/v1.0/%s/kms/%s"):format(project, o.action)
  local body = type(o.body) == "string" and o.body or cjson.encode(o.body or {})
  local sdk_date = os.date("!%Y%m%dT%H%M%SZ", o.date or os.time())
  local headers = {
    ["content-type"] = "application/json",
    host = host,
    ["x-project-id"] = project,
    ["x-sdk-date"] = sdk_date,
  }
  local names = "content-type;host;x-project-id;x-sdk-date"
  local canonical_headers = ("content-type:%s\nhost:%s\nx-project-id:%s\nx-sdk-date:%s\n")
    :format(headers["content-type"], host, project, sdk_date)
  local uri = path:sub(-1) == "/" and path or path .. "/"
  local query = o.query or ""
  local canonical = table.concat({ method, uri, query, canonical_headers, names, hex_sha256(body) }, "\n")
  local sts = "SDK-HMAC-SHA256\n" .. sdk_date .. "\n" .. hex_sha256(canonical)
  headers.authorization = ("SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s")
    :format(creds.ak, names, core.hex(core.hmac("sha256", creds.sk, sts)))
  if o.token then
    headers.authorization = nil
    headers["x-auth-token"] = o.token
  end
  return { method = method, path = path, query = query, headers = headers, body = body,
           remote_addr = "127.0.0.1" }
end

-- Sends a Huawei request through kmsemu.handle. Returns the status, the
-- decoded body (nil when empty) and the response.
function M.huawei_call(kmsemu, action, body, opts)
  opts = opts or {}
  opts.action, opts.body = action, body
  local res = kmsemu.handle(M.huawei(opts))
  return res.status, res.body ~= "" and cjson.decode(res.body) or nil, res
end

-- Decodes a response table's JSON body.
function M.json(res)
  return cjson.decode(res.body)
end

return M
