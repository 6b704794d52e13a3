-- Signed Huawei requests, made as the official SDKs make them, in the
-- table shape the C core hands to kmsemu.handle (lower-case header names,
-- the path as civetweb gives it: percent-decoded). `kmsemu run` and the
-- specs drive the router with them; the specs also send their bytes to
-- the real binary.
local core = require "kmsemu.core"
local cjson = require "cjson"
local util = require "kmsemu.util"

local M = {}

-- The default scenario's credentials, the ones README prints.
M.DEFAULT_CREDENTIALS = {
  ak = "HWAKEXAMPLE0000000000",
  sk = "HWSKEXAMPLEsecretkey0000000000000000000",
  project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
}

local function hex_sha256(s)
  return core.hex(core.digest("sha256", s))
end

local function unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- The SDKs sign each segment of the decoded path, encoded again
-- (Python: quote(unquote(path))), ending in "/".
local function canonical_uri(decoded)
  local out = {}
  for seg in (decoded .. "/"):gmatch("([^/]*)/") do
    out[#out + 1] = util.uri_encode(seg)
  end
  local uri = table.concat(out, "/")
  return uri:sub(-1) == "/" and uri or uri .. "/"
end

-- SDK-HMAC-SHA256. o: action, body (table or raw string), creds,
-- project_id, date (unix seconds), host, method, path (as sent on the
-- wire, percent-encoded), query (already encoded, in canonical order),
-- token (sent as X-Auth-Token instead of a signature).
function M.request(o)
  local creds = o.creds or M.DEFAULT_CREDENTIALS
  local method = o.method or "POST"
  local host = o.host or "127.0.0.1:8080"
  local project = o.project_id or creds.project_id
  local wire = o.path or ("/v1.0/%s/kms/%s"):format(project, o.action)
  local path = unescape(wire)
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
  local query = o.query or ""
  local canonical = table.concat({ method, canonical_uri(path), query, canonical_headers, names,
    hex_sha256(body) }, "\n")
  local sts = "SDK-HMAC-SHA256\n" .. sdk_date .. "\n" .. hex_sha256(canonical)
  headers.authorization = ("SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s")
    :format(creds.ak, names, core.hex(core.hmac("sha256", creds.sk, sts)))
  if o.token then
    headers.authorization = nil
    headers["x-auth-token"] = o.token
  end
  return { method = method, path = path, wire_path = wire, query = query, headers = headers, body = body,
           remote_addr = "127.0.0.1" }
end

-- kms.huawei(action, body) in a step: the status and the decoded body.
-- send(req, label) sends a request and shows it.
function M.step(send, creds)
  creds = creds or M.DEFAULT_CREDENTIALS
  return function(action, body)
    local res = send(M.request { action = action, body = body or {}, creds = creds },
      action .. " " .. cjson.encode(body or {}))
    return res.status, res.body ~= "" and cjson.decode(res.body) or nil
  end
end

return M
