-- Fuzz driver: the Authorization parsers of both dialects, then the whole
-- verification with the input as the header of an otherwise well-formed
-- request. Parsing returns a table of strings or nil; verification
-- returns or raises one of the neutral errors, never a runtime error.
local errors = require "kmsemu.errors"
local huawei = require "kmsemu.dialect.huawei.auth"
local tencent = require "kmsemu.dialect.tencent.auth"
local client = require "support.client"

local function check_parsed(p)
  if p == nil then
    return
  end
  for k, v in pairs(p) do
    if type(k) ~= "string" or type(v) ~= "string" then
      error("parse returned a non-string field " .. tostring(k))
    end
  end
end

local function verify(fn)
  local ok, e = pcall(fn)
  if not ok and not errors.is(e) then
    error(e, 0)
  end
end

local hw_req = client.huawei { action = "list-keys", body = {} }
local tc_req = client.tencent { action = "ListKeys", params = {} }

return function(data)
  check_parsed(huawei.parse(data))
  check_parsed(tencent.parse(data))
  local now = os.time()
  hw_req.headers.authorization = data
  verify(function() huawei.verify(client.HUAWEI, hw_req, now) end)
  tc_req.headers.authorization = data
  verify(function()
    tencent.verify(client.TENCENT, tc_req, tc_req.headers["x-tc-timestamp"], now)
  end)
end
