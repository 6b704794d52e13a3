-- CMK lifecycle (section 13.2): creation, description, listing, state
-- changes, aliases and descriptions. The state rules are section 6.2's;
-- each refusal names the code the action documents.
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"
local util = require "kmsemu.util"
local P = require "kmsemu.dialect.tencent.params"
local cmk = require "kmsemu.dialect.tencent.cmk"
local metadata = require "kmsemu.dialect.tencent.metadata"
local regions = require "kmsemu.dialect.tencent.regions"

local M = {}

local S, I, req, opt = P.S, P.I, P.req, P.opt
local DAY = 86400
local BEIJING = 8 * 3600
local MAX_BATCH = 100
local MAX_DESCRIPTION = 1024

local invalid = P.invalid

-- 1-60 letters, digits, '-' and '_', starting with a letter or digit;
-- "kms-" belongs to the cloud products' own keys.
local function check_alias(alias)
  if #alias > 60 or not alias:find("^[%w][%w_%-]*$") or alias:sub(1, 4) == "kms-" then
    errors.vendor("InvalidParameterValue.InvalidAlias")
  end
end

local function alias_taken(ctx, alias, except)
  for _, key in ipairs(cmk.each(ctx)) do
    if key.alias == alias and key ~= except then
      errors.vendor("InvalidParameterValue.AliasAlreadyExists")
    end
  end
end

local function check_description(d)
  if d and #d > MAX_DESCRIPTION then
    invalid("`Description` is longer than %d bytes.", MAX_DESCRIPTION)
  end
end

-- Exclusive and managed editions are not emulated: no cluster exists.
local function no_hsm_cluster(p)
  if p.HsmClusterId and p.HsmClusterId ~= "" then
    errors.vendor("InvalidParameterValue.InvalidHsmClusterId")
  end
end

function M.tags(list)
  local out = {}
  for _, t in ipairs(list or {}) do
    if out[t.TagKey] then
      errors.vendor("InvalidParameterValue.TagKeysDuplicated")
    end
    out[t.TagKey] = t.TagValue
  end
  return out
end

-- The neutral spec and usage a CreateKey asks for.
local function spec_of(ctx, usage_name, type_)
  local u = cmk.USAGES[usage_name]
  if not u then
    errors.raise("KEY_USAGE", usage_name)
  end
  if type_ ~= 1 and type_ ~= 2 then
    errors.vendor("InvalidParameterValue.InvalidType")
  end
  if type_ == 2 and u.spec then
    errors.vendor("InvalidParameterValue.InvalidType", "EXTERNAL keys are ENCRYPT_DECRYPT only.")
  end
  return u.spec or regions.symmetric_spec(ctx.region), u.usage
end

local function create_key(ctx, p)
  check_alias(p.Alias)
  check_description(p.Description)
  no_hsm_cluster(p)
  local usage_name = p.KeyUsage or "ENCRYPT_DECRYPT"
  local type_ = p.Type or 1
  local spec, usage = spec_of(ctx, usage_name, type_)
  local key_tags = M.tags(p.Tags)
  alias_taken(ctx, p.Alias)
  if cmk.quota_used(ctx) >= ctx.cmk_limit then
    errors.vendor("LimitExceeded.CmkLimitExceeded")
  end
  local external = type_ == 2
  local key = ctx.keys:add {
    dialect = "tencent", owner = ctx.region, spec = spec, usage = usage,
    alias = p.Alias, description = p.Description, tags = key_tags, created = ctx.now,
    state = external and "pending_import" or "enabled",
    origin = external and "external" or "kms",
    rotation = { enabled = false, interval_days = 365 },
  }
  local out = {
    KeyId = key.id, Alias = key.alias, CreateTime = key.created,
    Description = key.description, KeyState = cmk.STATE[key.state], KeyUsage = usage_name,
  }
  if p.Tags then
    out.TagCode, out.TagMsg = 0, "ok"
  end
  return out
end

local function describe_key(ctx, p)
  return { KeyMetadata = metadata.of(ctx, cmk.find(ctx, p.KeyId)) }
end

-- The keys a batch names: at most 100, no id twice, every one present.
local function batch(ctx, ids)
  if #ids == 0 or #ids > MAX_BATCH then
    invalid("`KeyIds` takes 1 to %d CMK ids.", MAX_BATCH)
  end
  local seen, out = {}, {}
  for i, id in ipairs(ids) do
    if seen[id] then
      errors.vendor("InvalidParameterValue.DuplicatedKeyId", id)
    end
    seen[id] = true
    out[i] = cmk.find(ctx, id)
  end
  return out
end

local function describe_keys(ctx, p)
  local list = {}
  for i, key in ipairs(batch(ctx, p.KeyIds)) do
    list[i] = metadata.of(ctx, key)
  end
  return { KeyMetadatas = util.array(list) }
end

-- Enabling and disabling. Each check returns the keystore transition a
-- key needs (nil: already there) or raises; batches check every key
-- before changing any.
local function enabling(key)
  if key.state == "enabled" then
    return nil
  end
  if not keystore.LIFECYCLE.enable.from[key.state] then
    cmk.state_error()
  end
  return "enable"
end

local function disabling(key)
  if key.state == "disabled" then
    return nil
  end
  if not keystore.LIFECYCLE.disable.from[key.state] then
    cmk.state_error()
  end
  cmk.not_bound(key)
  return "disable"
end

local function transition(ctx, list, check)
  local ops = {}
  for i, key in ipairs(list) do
    ops[i] = check(key) or false
  end
  for i, key in ipairs(list) do
    if ops[i] then
      ctx.keys:transition(key, ops[i])
    end
  end
  return {}
end

local function one(check)
  return function(ctx, p)
    return transition(ctx, { cmk.find(ctx, p.KeyId) }, check)
  end
end

local function many(check)
  return function(ctx, p)
    return transition(ctx, batch(ctx, p.KeyIds), check)
  end
end

-- The example's DeletionDate is 23:59:59 Beijing time: deletion happens
-- at the end of the day the window ends on.
local function end_of_beijing_day(t)
  return ((t + BEIJING) // DAY + 1) * DAY - 1 - BEIJING
end

-- PendingWindowInDays runs from 7 to 30; a key a scenario declares
-- pending deletion without a date gets the shortest window.
local MIN_DAYS, MAX_DAYS = 7, 30

function M.default_deletion_date(now)
  return end_of_beijing_day(now + MIN_DAYS * DAY)
end

-- The DeletionDate of a PendingWindowInDays (also a hosted data key's),
-- or InvalidPendingWindowInDays.
function M.deletion_date(now, days)
  if days < MIN_DAYS or days > MAX_DAYS then
    errors.vendor("InvalidParameter.InvalidPendingWindowInDays")
  end
  return end_of_beijing_day(now + days * DAY)
end

-- Tencent, unlike the neutral rule, wants an enabled key disabled first.
local function schedule_key_deletion(ctx, p)
  local date = M.deletion_date(ctx.now, p.PendingWindowInDays)
  local key = cmk.find(ctx, p.KeyId)
  if key.state == "enabled" then
    errors.vendor("ResourceUnavailable.CmkShouldBeDisabled")
  end
  if not keystore.LIFECYCLE.schedule_deletion.from[key.state] then
    cmk.state_error()
  end
  cmk.not_bound(key)
  ctx.keys:transition(key, "schedule_deletion")
  key.deletion_date = date
  return { KeyId = key.id, DeletionDate = key.deletion_date }
end

-- The key returns Disabled, or PendingImport if it never had material.
local function cancel_key_deletion(ctx, p)
  local key = cmk.find(ctx, p.KeyId)
  if not ctx.keys:transition(key, "cancel_deletion") then
    errors.vendor("ResourceUnavailable.CmkNotPendingDelete")
  end
  return { KeyId = key.id }
end

local function changeable(ctx, id)
  local key = cmk.find(ctx, id)
  if key.state == "pending_deletion" then
    cmk.state_error()
  end
  return key
end

local function update_alias(ctx, p)
  check_alias(p.Alias)
  local key = changeable(ctx, p.KeyId)
  alias_taken(ctx, p.Alias, key)
  ctx.keys:touch(key).alias = p.Alias
  return {}
end

local function update_key_description(ctx, p)
  check_description(p.Description)
  ctx.keys:touch(changeable(ctx, p.KeyId)).description = p.Description
  return {}
end

local function user_key(ctx, id)
  local key = cmk.find(ctx, id)
  if cmk.is_managed(key) then
    errors.vendor("UnsupportedOperation.NotUserCreatedCmk")
  end
  return key
end

local function archive_key(ctx, p)
  local key = user_key(ctx, p.KeyId)
  if key.state == "enabled" then
    cmk.not_bound(key)
    ctx.keys:touch(key).state = "archived"
  elseif key.state ~= "archived" then
    cmk.state_error()
  end
  return {}
end

local function cancel_key_archive(ctx, p)
  local key = user_key(ctx, p.KeyId)
  if key.state ~= "archived" then
    cmk.state_error()
  end
  ctx.keys:touch(key).state = "enabled"
  return {}
end

local ID = { KeyId = req(S), MemberAccount = opt(P.MEMBER) }
local IDS = { KeyIds = req(P.list(S)), MemberAccount = opt(P.MEMBER) }

M.ACTIONS = {
  CreateKey = { run = create_key, params = {
    Alias = req(S), Description = opt(S), KeyUsage = opt(S), Type = opt(I),
    Tags = opt(P.list(P.TAG)), HsmClusterId = opt(S) } },
  DescribeKey = { run = describe_key, params = ID },
  DescribeKeys = { run = describe_keys, params = IDS },
  EnableKey = { run = one(enabling), params = ID },
  DisableKey = { run = one(disabling), params = ID },
  EnableKeys = { run = many(enabling), params = IDS },
  DisableKeys = { run = many(disabling), params = IDS },
  ScheduleKeyDeletion = { run = schedule_key_deletion, params = {
    KeyId = req(S), PendingWindowInDays = req(I), MemberAccount = opt(P.MEMBER) } },
  CancelKeyDeletion = { run = cancel_key_deletion, params = ID },
  UpdateAlias = { run = update_alias, params = {
    KeyId = req(S), Alias = req(S), MemberAccount = opt(P.MEMBER) } },
  UpdateKeyDescription = { run = update_key_description, params = {
    KeyId = req(S), Description = req(S), MemberAccount = opt(P.MEMBER) } },
  ArchiveKey = { run = archive_key, params = ID },
  CancelKeyArchive = { run = cancel_key_archive, params = ID },
}

M.no_hsm_cluster = no_hsm_cluster

return M
