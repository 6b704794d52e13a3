-- Hosted data keys (section 13.8). GenerateDataKey with IsHostedByKms 1
-- and ImportDataKey leave a data key with the service; it keeps the
-- data key's ciphertext under its CMK, so the CMK's state decides whether
-- GetDataKeyPlaintext can open it. A data key lives in its CMK's record
-- (key.data_keys, by DataKeyId), so a data directory keeps it with the
-- CMK, and it is gone when the CMK's deletion date passes.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local util = require "kmsemu.util"
local P = require "kmsemu.dialect.tencent.params"
local blob = require "kmsemu.dialect.tencent.blob"
local cmk = require "kmsemu.dialect.tencent.cmk"
local keys = require "kmsemu.dialect.tencent.keys"
local listing = require "kmsemu.dialect.tencent.listing"
local seal = require "kmsemu.dialect.tencent.seal"

local M = {}

local S, I, req, opt = P.S, P.I, P.req, P.opt
local MAX_DESCRIPTION = 100
local MAX_BATCH = 100
local MAX_BYTES = 1024

M.STATE = { enabled = "Enabled", disabled = "Disabled", pending_deletion = "PendingDelete" }

-- GetDataKeyPlaintext documents InvalidType and EncryptionError, not
-- InvalidParameter, for the EncryptionAlgorithm and EncryptionPublicKey.
local WRAP_CODES = { algorithm = "InvalidParameterValue.InvalidType",
                     key = "FailedOperation.EncryptionError" }

-- No organisation exists here: member accounts are not this account's.
local function no_member(p)
  if p.MemberAccount or (p.MemberAccounts and #p.MemberAccounts > 0) then
    errors.vendor("UnsupportedOperation.NotRoleOperation")
  end
end

local function live(dk, now)
  return not (dk.state == "pending_deletion" and dk.deletion_date <= now)
end

-- Every live data key of the region, and the CMK of each.
local function all(ctx)
  local list, cmk_of = {}, {}
  for _, key in ipairs(cmk.each(ctx)) do
    for id, dk in pairs(key.data_keys or {}) do
      if live(dk, ctx.now) then
        list[#list + 1] = dk
        cmk_of[dk] = key
      else
        key.data_keys[id] = nil
      end
    end
  end
  return list, cmk_of
end

-- The data key and its CMK, or InvalidDataKeyId / DataKeyNotFound.
local function find(ctx, id)
  if not util.is_uuid(id) then
    errors.vendor("InvalidParameterValue.InvalidDataKeyId", id)
  end
  local list, cmk_of = all(ctx)
  for _, dk in ipairs(list) do
    if dk.id == id then
      return dk, cmk_of[dk]
    end
  end
  errors.vendor("ResourceUnavailable.DataKeyNotFound", id)
end

-- A DataKeyName is 1-60 letters, digits, '-' and '_', starting with a
-- letter or digit (the rule of aliases), unique in the region.
local function valid_name(name)
  return name ~= nil and #name <= 60 and name:find("^[%w][%w_%-]*$") ~= nil
end

local function name_taken(ctx, name, except)
  for _, dk in ipairs((all(ctx))) do
    if dk.name == name and dk ~= except then
      return true
    end
  end
  return false
end

local function quota_used(ctx)
  local n = 0
  for _, dk in ipairs((all(ctx))) do
    if dk.state ~= "pending_deletion" then
      n = n + 1
    end
  end
  return n
end

local function check_quota(ctx)
  if quota_used(ctx) >= ctx.data_key_limit then
    errors.vendor("LimitExceeded.DataKeyLimitExceeded")
  end
end

-- What a new hosted data key needs, checked before anything is made:
-- name, description, tags and quota. taken_code: the action's code for a
-- name already in use.
local function new_data_key(ctx, p, taken_code)
  if not valid_name(p.DataKeyName) then
    errors.vendor("InvalidParameterValue.InvalidDataKeyName", p.DataKeyName)
  end
  if name_taken(ctx, p.DataKeyName) then
    errors.vendor(taken_code, "The name is in use.")
  end
  if p.Description and #p.Description > MAX_DESCRIPTION then
    errors.raise("INVALID_PARAMETER", ("`Description` is longer than %d bytes."):format(MAX_DESCRIPTION))
  end
  local tags = keys.tags(p.Tags)
  check_quota(ctx)
  return { name = p.DataKeyName, description = p.Description or "", tags = tags }
end

-- GenerateDataKey's hosting: nil for IsHostedByKms 0 (the default), else
-- the checked fields of the data key to keep.
function M.hosting(ctx, p)
  keys.no_hsm_cluster(p)
  local hosted = p.IsHostedByKms or 0
  if hosted ~= 0 and hosted ~= 1 then
    errors.vendor("InvalidParameterValue.InvalidType", "`IsHostedByKms` must be 0 or 1.")
  end
  if hosted == 1 then
    return new_data_key(ctx, p, "InvalidParameterValue.DataKeyNameAlreadyExists")
  end
end

local function keep(ctx, dk, key, out)
  dk.id, dk.state, dk.created = util.uuid(), "enabled", ctx.now
  ctx.keys:touch(key).data_keys = key.data_keys or {}
  key.data_keys[dk.id] = dk
  out.DataKeyId = dk.id
  if next(dk.tags) then
    out.TagCode, out.TagMsg = 0, "ok"
  end
  return out
end

-- Keeps a generated data key (h from hosting) with the blob returned.
function M.host(ctx, h, key, out, bytes, canonical_context)
  h.bytes, h.blob, h.context, h.origin = bytes, out.CiphertextBlob, canonical_context, "kms"
  return keep(ctx, h, key, out)
end

-- ImportType 1: a ciphertext GenerateDataKey made (without an
-- EncryptionContext: there is none to give here); KeyId, if given, must
-- be the blob's. ImportType 2: Base64 plaintext, sealed under KeyId.
local function import_data_key(ctx, p)
  keys.no_hsm_cluster(p)
  if p.ImportType ~= 1 and p.ImportType ~= 2 then
    errors.vendor("InvalidParameterValue.InvalidType", "`ImportType` must be 1 or 2.")
  end
  local dk = new_data_key(ctx, p, "InvalidParameterValue.InvalidDataKeyName")
  local key
  if p.ImportType == 1 then
    local parsed = blob.parse(p.ImportKeyMaterial)
    if not parsed then
      errors.vendor("InvalidParameterValue.InvalidImportKeyMaterial")
    end
    if p.KeyId and p.KeyId ~= "" and p.KeyId ~= parsed.key_id then
      errors.raise("INVALID_KEY_ID", "It is not the CMK of the ciphertext.")
    end
    key = seal.encrypting_key(ctx, parsed.key_id)
    local plaintext = blob.open(ctx.keys, key, parsed, "")
    if not plaintext then
      errors.vendor("InvalidParameterValue.InvalidImportKeyMaterial")
    end
    dk.bytes, dk.blob, dk.origin = #plaintext, p.ImportKeyMaterial, "kms"
  else
    if p.KeyId == nil or p.KeyId == "" then
      errors.raise("INVALID_KEY_ID", "A plaintext import names its CMK.")
    end
    key = seal.encrypting_key(ctx, p.KeyId)
    local plaintext = core.unb64(p.ImportKeyMaterial)
    if not plaintext or #plaintext == 0 or #plaintext > MAX_BYTES then
      errors.vendor("InvalidParameterValue.InvalidPlaintext", "It must be Base64 of 1 to 1024 bytes.")
    end
    dk.bytes, dk.blob, dk.origin = #plaintext, blob.seal(ctx.keys, key, plaintext, ""), "external"
  end
  dk.context = ""
  return keep(ctx, dk, key, { KeyId = key.id })
end

local function metadata(ctx, dk, key)
  return {
    DataKeyId = dk.id,
    KeyId = key.id,
    KeyName = key.alias,
    DataKeyName = dk.name,
    NumberOfBytes = dk.bytes,
    CreateTime = dk.created,
    Description = dk.description,
    KeyState = M.STATE[dk.state],
    CreatorUin = ctx.uin,
    Owner = "user",
    DeletionDate = dk.state == "pending_deletion" and dk.deletion_date or 0,
    Origin = dk.origin == "external" and "EXTERNAL" or "TENCENT_KMS",
    ResourceId = ("creatorUin/%d/%s"):format(ctx.uin, dk.id),
    IsSyncReplica = 0,
    CreatorUinString = tostring(ctx.uin),
  }
end

local function describe_data_key(ctx, p)
  no_member(p)
  return { DataKeyMetadata = metadata(ctx, find(ctx, p.DataKeyId)) }
end

-- The data keys a batch names (1 to 100, no id twice, every one present)
-- and their CMKs.
local function batch(ctx, ids)
  if #ids == 0 or #ids > MAX_BATCH then
    errors.vendor("InvalidParameterValue", ("`DataKeyIds` takes 1 to %d ids."):format(MAX_BATCH))
  end
  local seen, list, owners = {}, {}, {}
  for i, id in ipairs(ids) do
    if seen[id] then
      errors.vendor("InvalidParameterValue.DuplicatedDataKeyId", id)
    end
    seen[id] = true
    list[i], owners[i] = find(ctx, id)
  end
  return list, owners
end

local function describe_data_keys(ctx, p)
  no_member(p)
  local list, owners = batch(ctx, p.DataKeyIds)
  local out = {}
  for i, dk in ipairs(list) do
    out[i] = metadata(ctx, dk, owners[i])
  end
  return { DataKeyMetadatas = util.array(out) }
end

-- Enabling and disabling, as for CMKs: each check raises or returns the
-- state to set; a batch checks every data key before changing any. A
-- data key is enabled only while its CMK can still be used.
local function cmk_alive(key)
  if key.state == "pending_deletion" or key.state == "pending_import" then
    cmk.state_error()
  end
end

local function not_pending(dk)
  if dk.state == "pending_deletion" then
    errors.vendor("ResourceUnavailable.DataKeyStateNotSupport")
  end
end

local function enabling(dk, key)
  not_pending(dk)
  cmk_alive(key)
  return "enabled"
end

local function disabling(dk)
  not_pending(dk)
  return "disabled"
end

local function apply(ctx, list, owners, check)
  local to = {}
  for i, dk in ipairs(list) do
    to[i] = check(dk, owners[i])
  end
  for i, dk in ipairs(list) do
    ctx.keys:touch(owners[i])
    dk.state = to[i]
  end
  return {}
end

local function one(check)
  return function(ctx, p)
    no_member(p)
    local dk, key = find(ctx, p.DataKeyId)
    return apply(ctx, { dk }, { key }, check)
  end
end

local function many(check)
  return function(ctx, p)
    no_member(p)
    local list, owners = batch(ctx, p.DataKeyIds)
    return apply(ctx, list, owners, check)
  end
end

-- The window and DeletionDate rule of ScheduleKeyDeletion; unlike a CMK,
-- an enabled data key may be scheduled.
local function schedule_data_key_deletion(ctx, p)
  no_member(p)
  local date = keys.deletion_date(ctx.now, p.PendingWindowInDays)
  local dk, key = find(ctx, p.DataKeyId)
  not_pending(dk)
  ctx.keys:touch(key)
  dk.state, dk.deletion_date = "pending_deletion", date
  return { DataKeyId = dk.id, DeletionDate = date }
end

-- Back to Disabled, as a CMK; the data key counts against the quota again.
local function cancel_data_key_deletion(ctx, p)
  no_member(p)
  local dk, key = find(ctx, p.DataKeyId)
  if dk.state ~= "pending_deletion" then
    errors.vendor("ResourceUnavailable.DataKeyNotPendingDelete")
  end
  cmk_alive(key)
  check_quota(ctx)
  ctx.keys:touch(key)
  dk.state, dk.deletion_date = "disabled", nil
  return { DataKeyId = dk.id }
end

local function get_data_key_plaintext(ctx, p)
  local alg = seal.wrap_algorithm(p, WRAP_CODES)
  local dk = find(ctx, p.DataKeyId)
  if dk.state == "disabled" then
    errors.vendor("ResourceUnavailable.DataKeyDisabled")
  elseif dk.state == "pending_deletion" then
    errors.vendor("ResourceUnavailable.DataKeyPendingDelete")
  end
  local _, plaintext = seal.open(ctx, dk.blob, dk.context, seal.symmetric)
  return { Plaintext = seal.deliver(p, alg, plaintext, WRAP_CODES) }
end

local function get_data_key_ciphertext_blob(ctx, p)
  no_member(p)
  local dk = find(ctx, p.DataKeyId)
  not_pending(dk)
  return { CiphertextBlob = dk.blob }
end

-- UpdateDataKeyName documents only InvalidParameterValue for its name.
local function update_data_key_name(ctx, p)
  no_member(p)
  local dk, key = find(ctx, p.DataKeyId)
  if not valid_name(p.DataKeyName) or name_taken(ctx, p.DataKeyName, dk) then
    errors.vendor("InvalidParameterValue", "`DataKeyName` is malformed or in use.")
  end
  ctx.keys:touch(key)
  dk.name = p.DataKeyName
  return {}
end

-- UpdateDataKeyDescription documents InvalidDataKeyName as its only
-- parameter code: its refusal of a description over 100 bytes.
local function update_data_key_description(ctx, p)
  no_member(p)
  local dk, key = find(ctx, p.DataKeyId)
  if #p.Description > MAX_DESCRIPTION then
    errors.vendor("InvalidParameterValue.InvalidDataKeyName",
      ("`Description` is longer than %d bytes."):format(MAX_DESCRIPTION))
  end
  ctx.keys:touch(key)
  dk.description = p.Description
  return {}
end

local function role(p, code)
  local r = p.Role or 0
  if r ~= 0 and r ~= 1 then
    errors.vendor(code, "`Role` must be 0 or 1.")
  end
  return r
end

-- ListDataKeys names Enabled and Disabled data keys, newest first, as
-- ListKeys does for CMKs. No cloud product hosts data keys here (Role 1).
local function list_data_keys(ctx, p)
  keys.no_hsm_cluster(p)
  local found = {}
  if role(p, "InvalidParameterValue") == 0 then
    for _, dk in ipairs((all(ctx))) do
      if dk.state ~= "pending_deletion" then
        found[#found + 1] = dk
      end
    end
  end
  listing.sorted(found, false)
  local ids = {}
  for i, dk in ipairs(listing.page(found, p, "InvalidParameterValue")) do
    ids[i] = { DataKeyId = dk.id }
  end
  return { DataKeys = util.array(ids), TotalCount = #found }
end

local STATE_CODES = { "enabled", "disabled", "pending_deletion" }
local ORIGINS = { TENCENT_KMS = "kms", EXTERNAL = "external" }

local invalid = P.invalid

-- The tests of ListDataKeyDetail's filters; each holds for a data key
-- (and its CMK) or not.
local function detail_filters(ctx, p)
  local tests = {}
  local state = p.KeyState or 0
  if state ~= 0 then
    local want = STATE_CODES[state] or invalid("`KeyState` must be from 0 to 3.")
    tests[#tests + 1] = function(dk) return dk.state == want end
  end
  local origin = p.Origin
  if origin ~= nil and origin ~= "" and origin ~= "ALL" then
    local want = ORIGINS[origin] or invalid("`Origin` must be TENCENT_KMS, EXTERNAL or ALL.")
    tests[#tests + 1] = function(dk) return dk.origin == want end
  end
  if p.KeyId and p.KeyId ~= "" then
    local want = cmk.find(ctx, p.KeyId)
    tests[#tests + 1] = function(_, key) return key == want end
  end
  if p.DataKeyLen then
    tests[#tests + 1] = function(dk) return dk.bytes == p.DataKeyLen end
  end
  local text = p.SearchKeyAlias and p.SearchKeyAlias:lower()
  if text and text ~= "" then
    tests[#tests + 1] = function(dk)
      return dk.id:find(text, 1, true) ~= nil or dk.name:lower():find(text, 1, true) ~= nil
    end
  end
  tests[#tests + 1] = listing.tag_filter(p.TagFilters)
  return tests
end

local function list_data_key_detail(ctx, p)
  keys.no_hsm_cluster(p)
  no_member(p)
  local order = p.OrderType or 0
  if order ~= 0 and order ~= 1 then
    invalid("`OrderType` must be 0 or 1.")
  end
  local user = role(p, "InvalidParameter") == 0
  local tests = detail_filters(ctx, p)
  local list, cmk_of = all(ctx)
  local found = {}
  for _, dk in ipairs(user and list or {}) do
    local ok = true
    for _, test in ipairs(tests) do
      ok = ok and test(dk, cmk_of[dk])
    end
    if ok then
      found[#found + 1] = dk
    end
  end
  listing.sorted(found, order == 1)
  local out = {}
  for i, dk in ipairs(listing.page(found, p, "InvalidParameter")) do
    out[i] = metadata(ctx, dk, cmk_of[dk])
  end
  return { DataKeyMetadatas = util.array(out), TotalCount = #found }
end

local MEMBER = opt(P.MEMBER)
local ID = { DataKeyId = req(S), MemberAccount = MEMBER }
local IDS = { DataKeyIds = req(P.list(S)), MemberAccount = MEMBER }

M.ACTIONS = {
  ImportDataKey = { run = import_data_key, params = {
    DataKeyName = req(S), ImportKeyMaterial = req(S), ImportType = req(I), Description = opt(S),
    KeyId = opt(S), HsmClusterId = opt(S), Tags = opt(P.list(P.TAG)) } },
  DescribeDataKey = { run = describe_data_key, params = ID },
  DescribeDataKeys = { run = describe_data_keys, params = IDS },
  ListDataKeys = { run = list_data_keys, params = {
    Offset = opt(I), Limit = opt(I), Role = opt(I), HsmClusterId = opt(S) } },
  ListDataKeyDetail = { run = list_data_key_detail, params = {
    Offset = opt(I), Limit = opt(I), Role = opt(I), OrderType = opt(I), KeyState = opt(I),
    SearchKeyAlias = opt(S), Origin = opt(S), HsmClusterId = opt(S), KeyId = opt(S),
    DataKeyLen = opt(I), TagFilters = opt(P.list(P.TAG_FILTER)),
    MemberAccounts = opt(P.list(P.MEMBER)) } },
  EnableDataKey = { run = one(enabling), params = ID },
  DisableDataKey = { run = one(disabling), params = ID },
  EnableDataKeys = { run = many(enabling), params = IDS },
  DisableDataKeys = { run = many(disabling), params = IDS },
  ScheduleDataKeyDeletion = { run = schedule_data_key_deletion, params = {
    DataKeyId = req(S), PendingWindowInDays = req(I), MemberAccount = MEMBER } },
  CancelDataKeyDeletion = { run = cancel_data_key_deletion, params = ID },
  GetDataKeyPlaintext = { run = get_data_key_plaintext, params = {
    DataKeyId = req(S), EncryptionPublicKey = opt(S), EncryptionAlgorithm = opt(S) } },
  GetDataKeyCiphertextBlob = { run = get_data_key_ciphertext_blob, params = ID },
  UpdateDataKeyName = { run = update_data_key_name, params = {
    DataKeyId = req(S), DataKeyName = req(S), MemberAccount = MEMBER } },
  UpdateDataKeyDescription = { run = update_data_key_description, params = {
    DataKeyId = req(S), Description = req(S), MemberAccount = MEMBER } },
}

-- For GetServiceStatus: the data keys counting against the quota.
M.quota_used = quota_used

return M
