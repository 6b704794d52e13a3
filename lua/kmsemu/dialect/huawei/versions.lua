-- The API version documents at GET / and GET /{version_id}. They describe
-- the service, not an account, so they need no credentials.
local errors = require "kmsemu.errors"

local M = {}

local function detail(req)
  local host = req.headers.host or "127.0.0.1"
  return {
    id = "v1.0",
    links = { { href = ("%s://%s/v1.0/"):format(req.scheme or "http", host), rel = "self" } },
    version = "", status = "CURRENT", updated = "2016-09-01T00:00:00Z", min_version = "",
  }
end

function M.list(req)
  return { versions = { detail(req) } }
end

function M.show(req, id)
  if id ~= "v1.0" then
    errors.raise("UNKNOWN_ACTION", id)
  end
  return { version = detail(req) }
end

return M
