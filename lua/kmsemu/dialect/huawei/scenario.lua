-- What a scenario declares for Huawei: credentials.huawei, the cmk{}
-- field that places a key in a project, huawei_user{}, an IAM user
-- besides the key owner of credentials.huawei, huawei_region{}, a region
-- (and its project) multi-region keys may be replicated to, and
-- huawei_keystore{}, a dedicated keystore.
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

-- A region's name as the cloud spells them ("cn-east-3", "ap-southeast-1"),
-- and a project id as IAM issues them (32 hex digits).
local function check_region(r)
  local e = util.check_fields("huawei_region", r, { name = true, project_id = true })
    or util.check_string("huawei_region.name", r.name) or util.check_string("huawei_region.project_id", r.project_id)
  if e then
    return e
  end
  if not r.name:find("^%l+%-%l+%-%d+$") then
    return "huawei_region.name must look like \"cn-east-3\""
  end
  if not r.project_id:find("^%x+$") or #r.project_id ~= 32 then
    return "huawei_region.project_id must be 32 hex digits"
  end
end

local KEYSTORE_FIELDS = {
  id = true, alias = true, type = true, hsm_cluster_id = true, cluster_id = true, state = true,
  project_id = true, created = true,
}

-- The default keystore ("0") exists already; a dedicated one is a DHSM
-- cluster (hsm_cluster_id) or a CDMS one (cluster_id).
local function check_keystore(k)
  local e = util.check_fields("huawei_keystore", k, KEYSTORE_FIELDS)
    or util.check_string("huawei_keystore.alias", k.alias)
  if e then
    return e
  end
  if not util.is_uuid(k.id) then
    return "huawei_keystore.id must be a UUID (the default keystore \"0\" exists already)"
  elseif not k.alias:find("^[%w:/_%-]+$") or #k.alias > 255 then
    return "huawei_keystore.alias must be 1-255 of a-z A-Z 0-9 : / _ -"
  elseif k.type ~= "DHSM" and k.type ~= "CDMS" then
    return "huawei_keystore.type must be \"DHSM\" or \"CDMS\""
  elseif k.state ~= nil and k.state ~= "enabled" and k.state ~= "disabled" then
    return "huawei_keystore.state must be \"enabled\" or \"disabled\""
  elseif k.created ~= nil and math.type(k.created) ~= "integer" then
    return "huawei_keystore.created must be unix seconds"
  end
  local cluster = k.type == "DHSM" and "hsm_cluster_id" or "cluster_id"
  return util.check_string("huawei_keystore." .. cluster, k[cluster])
    or (k.project_id ~= nil and util.check_string("huawei_keystore.project_id", k.project_id)) or nil
end

-- What must differ between two declarations of a verb: a second user
-- with the same access key, or a second region of a name, would be
-- unreachable.
local function user_ids(u)
  local ids = { ("name '%s'"):format(u.name) }
  ids[#ids + 1] = u.ak and ("ak '%s'"):format(u.ak) or nil
  ids[#ids + 1] = u.token and "token (the same one twice)" or nil
  return ids
end

M.VERBS = {
  huawei_user = { check = check_user, into = "huawei_users", many = true, unique = user_ids },
  huawei_region = { check = check_region, into = "huawei_regions", many = true,
                    unique = function(r) return { ("name '%s'"):format(r.name) } end },
  huawei_keystore = { check = check_keystore, into = "huawei_keystores", many = true,
                      unique = function(k) return { ("id '%s'"):format(k.id), ("alias '%s'"):format(k.alias) } end },
}

return M
