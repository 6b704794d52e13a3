-- The request fuzzer's signer (fuzz_request.c): turns the parts of an
-- input into the request table the C core hands to kmsemu.handle. Mode 0
-- and 3 leave the request as written; 1 and 2 sign it as the Huawei and
-- Tencent SDKs would (spec/support/client.lua), so the fuzzer gets past
-- authentication and into the actions.
local client = require "support.client"

local function lower_keys(t)
  local out = {}
  for k, v in pairs(t) do
    out[k:lower()] = v
  end
  return out
end

local function signed(mode, method, path, query, body, extra)
  if mode == 1 then
    return client.huawei { method = method, path = path, query = query, body = body }
  end
  return client.tencent {
    method = "POST", body = body, action = extra["x-tc-action"] or "ListKeys",
    version = extra["x-tc-version"], region = extra["x-tc-region"],
  }
end

return function(mode, method, path, query, body, headers)
  headers = lower_keys(headers)
  if mode ~= 1 and mode ~= 2 then
    return { method = method, path = path, query = query, body = body, headers = headers }
  end
  local req = signed(mode, method, path, query, body, headers)
  for k, v in pairs(headers) do
    if req.headers[k] == nil then
      req.headers[k] = v
    end
  end
  return req
end
