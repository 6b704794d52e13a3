-- What a scenario declares for Huawei: credentials.huawei, the cmk{}
-- field that places a key in a project, and huawei_user{}, an IAM user
-- besides the key owner of credentials.huawei.
local util = require "kmsemu.util"

local M = {}

M.CREDENTIALS = { ak = true, sk = true, project_id = true, region = true, user = true,
                  user_id = true, domain = true, domain_id = true, password = true, token = true }
M.CREDENTIAL_DEFAULTS = {}

M.CMK_FIELDS = { project_id = { type = "string" } }

M.DEFAULT_SPEC = "AES_256"

-- Keys live in a project: the key's own, else the credentials'.
function M.owner(c, creds)
  local project = c.project_id or (creds and creds.project_id)
  if not project then
    return nil, "a huawei key needs project_id (or credentials.huawei.project_id)"
  end
  return project
end

-- A grantee has no permissions of its own: each request it makes must be
-- covered by a grant (create-grant) on the key it names.
local USER_FIELDS = {
  name = true, ak = true, sk = true, password = true, token = true, user_id = true,
  domain_id = true, project_id = true, grantee = true,
}

local function check_user(u)
  local e = util.check_fields("huawei_user", u, USER_FIELDS)
  for k, v in pairs(type(u) == "table" and u or {}) do
    if k == "grantee" then
      e = e or (type(v) ~= "boolean" and "huawei_user.grantee must be a boolean" or nil)
    else
      e = e or util.check_string("huawei_user." .. k, v)
    end
  end
  return e or util.check_string("huawei_user.name", u.name)
end

M.VERBS = {
  huawei_user = { check = check_user, into = "huawei_users", many = true },
}

return M
