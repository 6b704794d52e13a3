-- Assertions the Huawei specs share. KMS errors are nested under "error",
-- the gateway's (APIGW.*) are flat; both carry a code and a message.
local assert = require "luassert"

local M = {}

function M.assert_error(status, code, got_status, body)
  assert.are.equal(status, got_status, "status")
  local e = code:find("^APIGW%.") and body or body.error
  assert.is_table(e, "KMS errors are nested under \"error\", gateway errors are flat")
  assert.are.equal(code, e.error_code)
  assert.is_string(e.error_msg)
end

-- The body of a 200 answer; anything else fails with the body shown.
function M.ok(status, body)
  assert.are.equal(200, status, require("cjson").encode(body))
  return body
end

return M
