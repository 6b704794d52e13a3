-- Signed Tencent requests (TC3-HMAC-SHA256), made as the official SDKs
-- make them, in the table shape the C core hands to kmsemu.handle
-- (lower-case header names). `kmsemu run` and the specs drive the router
-- with them; the specs also send their bytes to the real binary.
local core = require "kmsemu.core"
local cjson = require "cjson"
local util = require "kmsemu.util"

local M = {}

-- The default scenario's credentials, the ones README prints.
M.DEFAULT_CREDENTIALS = {
  secret_id = "AKIDkmsemuEXAMPLE0000000000000000000",
  secret_key = "kmsemuEXAMPLEsecretkey0000000000",
  region = "ap-guangzhou",
}

local function hex_sha256(s)
  return core.hex(core.digest("sha256", s))
end

-- o: action, params (table), creds, timestamp, method ("POST" or "GET"),
-- host, service, region, version.
function M.request(o)
  local creds = o.creds or M.DEFAULT_CREDENTIALS
  local ts = o.timestamp or os.time()
  local method = o.method or "POST"
  local host = o.host or "127.0.0.1:8080"
  local service = o.service or "kms"
  local body, query, ctype = "", "", "application/json"
  if method == "GET" then
    local parts = {}
    for _, k in ipairs(util.sorted_keys(o.params or {})) do
      parts[#parts + 1] = util.uri_encode(k) .. "=" .. util.uri_encode(tostring(o.params[k]))
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

-- kms.tencent(action, params) in a step: the decoded Response.
-- send(req, label) sends a request and shows it.
function M.step(send, creds)
  creds = creds or M.DEFAULT_CREDENTIALS
  return function(action, params)
    local res = send(M.request { action = action, params = params or {}, creds = creds, region = creds.region },
      action .. " " .. cjson.encode(params or {}))
    return cjson.decode(res.body).Response
  end
end

return M
