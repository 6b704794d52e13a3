-- The specs' signing clients: the ones `kmsemu run` uses, each dialect's
-- own (kmsemu.dialect.<name>.client).
local cjson = require "cjson"
local huawei = require "kmsemu.dialect.huawei.client"
local tencent = require "kmsemu.dialect.tencent.client"

local M = {}

M.HUAWEI = huawei.DEFAULT_CREDENTIALS
M.TENCENT = tencent.DEFAULT_CREDENTIALS
M.huawei = huawei.request
M.tencent = tencent.request

-- Sends a Huawei request through kmsemu.handle. Returns the status, the
-- decoded body (nil when empty) and the response.
function M.huawei_call(kmsemu, action, body, opts)
  opts = opts or {}
  opts.action, opts.body = action, body
  local res = kmsemu.handle(M.huawei(opts))
  return res.status, res.body ~= "" and cjson.decode(res.body) or nil, res
end

-- Sends an admin API request (path below /_kmsemu/, with its query)
-- through kmsemu.handle. Returns the status, the decoded body (nil unless
-- JSON) and the response.
function M.admin(kmsemu, method, path, body, headers)
  local res = kmsemu.handle { method = method, path = "/_kmsemu/" .. path:gsub("%?.*", ""),
    query = path:match("%?(.*)") or "", headers = headers or {}, body = body or "",
    remote_addr = "127.0.0.1" }
  local decoded = res.headers["Content-Type"] == "application/json" and cjson.decode(res.body) or nil
  return res.status, decoded, res
end

-- Decodes a response table's JSON body.
function M.json(res)
  return cjson.decode(res.body)
end

return M
