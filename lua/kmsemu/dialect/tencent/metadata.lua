-- KeyMetadata (sections 6.1 and 14), with the JSON types the strict SDKs
-- unmarshal into: integers for uint64/int64, booleans for bool.
local cmk = require "kmsemu.dialect.tencent.cmk"

local M = {}

-- KeyMetadata.Type: 4 for the SM standard, 2 for FIPS 140-2. Unlike
-- CreateKey.Type, which says who made the material.
local function standard(key)
  return (key.spec == "SM4" or key.spec == "SM2") and 4 or 2
end

function M.of(ctx, key)
  local r = key.rotation
  return {
    KeyId = key.id,
    Alias = key.alias,
    CreateTime = key.created,
    Description = key.description,
    KeyState = cmk.STATE[key.state],
    KeyUsage = cmk.key_usage(key),
    Type = standard(key),
    CreatorUin = ctx.uin,
    KeyRotationEnabled = r.enabled == true,
    Owner = key.managed_by or "user",
    NextRotateTime = cmk.next_rotation(key),
    DeletionDate = key.state == "pending_deletion" and key.deletion_date or 0,
    Origin = key.origin == "external" and "EXTERNAL" or "TENCENT_KMS",
    ValidTo = key.valid_to or 0,
    ResourceId = ("creatorUin/%d/%s"):format(ctx.uin, key.id),
    RotateDays = cmk.rotate_days(key),
    LastRotateTime = r.last or 0,
    IsSyncReplica = 0,
    CreatorUinString = tostring(ctx.uin),
  }
end

return M
