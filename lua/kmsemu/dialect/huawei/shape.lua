-- How Huawei prints a key: KeyDetails, every field a string (dates as
-- millisecond timestamps, as the published examples show them), states as
-- the codes "1".."5".
local util = require "kmsemu.util"

local M = {}

M.STATE_CODE = {
  enabled = "2", disabled = "3", pending_deletion = "4", pending_import = "5",
  archived = "3", -- no Huawei equivalent; a key that cannot encrypt
}

M.STATE_OF_CODE = { ["2"] = "enabled", ["3"] = "disabled", ["4"] = "pending_deletion",
  ["5"] = "pending_import" }

M.DEFAULT_REGION = "cn-north-4"

-- Service-created default master keys are named "<service>/default".
function M.is_default(key)
  return key.alias:find("/default$") ~= nil
end

function M.ms(seconds)
  return seconds and (seconds == 0 and "0" or tostring(seconds) .. "000") or ""
end

-- Lists the models declare as arrays go through list(), so that an empty
-- one is [] (util.array).
M.list = util.array

function M.key_info(key, ctx)
  return {
    key_id = key.id,
    domain_id = ctx.domain_id,
    key_alias = key.alias,
    realm = ctx.region,
    key_spec = key.spec,
    key_usage = key.usage,
    key_description = key.description,
    creation_date = M.ms(key.created),
    scheduled_deletion_date = key.state == "pending_deletion" and M.ms(key.deletion_date) or "",
    key_state = M.STATE_CODE[key.state],
    default_key_flag = M.is_default(key) and "1" or "0",
    key_type = "1",
    expiration_time = M.ms(key.material_expires),
    origin = key.origin,
    key_rotation_enabled = key.rotation.enabled and "true" or "false",
    sys_enterprise_project_id = key.enterprise_project_id or "0",
    keystore_id = key.keystore_id or "0",
  }
end

return M
