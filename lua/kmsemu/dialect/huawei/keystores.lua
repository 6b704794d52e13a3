-- Keystores: the default one ("0", KMS's own cluster) and dedicated ones
-- (a DHSM or CDMS cluster) that requests create or a scenario declares
-- (huawei_keystore{}). Keys may be created in an enabled dedicated
-- keystore; such keys neither rotate (KMS.0338) nor take imported
-- material (KMS.0339). Also PIN creation, which names a keystore.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local util = require "kmsemu.util"
local p = require "kmsemu.dialect.huawei.params"
local objects = require "kmsemu.dialect.huawei.objects"
local shape = require "kmsemu.dialect.huawei.shape"

local M = {}

local KIND = "keystore"

-- keystore_state as KeyStoreStateInfo carries it (key_state's codes).
M.STATE_CODE = { enabled = "2", disabled = "3" }

M.TYPES = { DHSM = true, CDMS = true }

-- The default keystore: KMS's own cluster, always there, never changed.
local function default_keystore()
  return { id = "0", type = "DEFAULT", alias = "default", cluster_id = "0", hsm_cluster_id = "",
           created = 0, state = "enabled", default = true }
end

-- The record of a scenario's huawei_keystore{} declaration.
function M.from_declaration(d)
  return {
    dialect = "huawei", kind = KIND, owner = d.project_id, id = d.id, alias = d.alias, type = d.type,
    hsm_cluster_id = d.hsm_cluster_id or "", cluster_id = d.cluster_id or d.hsm_cluster_id or "",
    state = d.state or "enabled", created = d.created or 0,
  }
end

objects.DECLARED[KIND] = function(world, project)
  local out = {}
  local creds = world.credentials.huawei or {}
  for _, d in ipairs(world.huawei_keystores or {}) do
    if (d.project_id or creds.project_id) == project then
      local r = M.from_declaration(d)
      r.owner = project
      out[r.id] = r
    end
  end
  return out
end

-- The keystore by id, the default one included; KMS.0340 when unknown.
function M.get(ctx, id)
  if id == "0" then
    return default_keystore()
  end
  local ks = objects.get(ctx, KIND, id)
  if not ks then
    errors.vendor("KMS.0340", id)
  end
  return ks
end

local function dedicated(ctx, params)
  local ks = M.get(ctx, params.keystore_id)
  if ks.default then
    errors.vendor("KMS.0340", ks.id)
  end
  return ks
end

-- The keystore a new key goes in: nil for the default one; a dedicated
-- one must be enabled, and takes no external (imported) keys.
function M.for_new_key(ctx, id, origin)
  if id == nil or id == "0" then
    return nil
  end
  local ks = objects.get(ctx, KIND, id)
  if not ks or ks.state ~= "enabled" then
    errors.vendor("KMS.0340", id)
  end
  if origin == "external" then
    errors.vendor("KMS.0339")
  end
  return ks.id
end

local function details(ctx, ks)
  return {
    keystore_id = ks.id, domain_id = ctx.domain_id, keystore_alias = ks.alias, keystore_type = ks.type,
    hsm_cluster_id = ks.hsm_cluster_id, cluster_id = ks.cluster_id, create_time = shape.ms(ks.created),
  }
end

function M.create(ctx, b)
  local alias = p.string(b, "keystore_alias", true)
  if not p.is_name(alias) then
    errors.vendor("KMS.0308", "keystore_alias")
  end
  local kind = p.string(b, "keystore_type") or "DHSM"
  if not M.TYPES[kind] then
    errors.vendor(kind == "DEFAULT" and "KMS.0340" or "KMS.0308", "keystore_type")
  end
  local hsm = p.string(b, "hsm_cluster_id", kind == "DHSM")
  local ca = p.string(b, "hsm_ca_cert", kind == "DHSM")
  local cluster = kind == "DHSM" and hsm or p.string(b, "cluster_id", true)
  for _, other in ipairs(objects.list(ctx, KIND)) do
    if other.alias == alias or other.cluster_id == cluster then
      errors.vendor("KMS.0308", other.alias == alias and "keystore_alias" or "cluster_id")
    end
  end
  local ks = objects.new(ctx, KIND, util.uuid(), {
    alias = alias, type = kind, hsm_cluster_id = hsm or "", hsm_ca_cert = ca, cluster_id = cluster,
    state = "enabled",
  })
  objects.save(ctx, ks)
  return { keystore = { keystore_id = ks.id, domain_id = ctx.domain_id } }
end

function M.show(ctx, _, params)
  return { keystore = details(ctx, M.get(ctx, params.keystore_id)) }
end

-- Dedicated keystores only, as the cloud lists them; limit defaults to 10.
function M.list(ctx, _, _, query)
  local q = p.query(query)
  local limit = p.query_integer(q, "limit", 10, 1, 1000, "KMS.1601")
  local offset = p.query_integer(q, "offset", 0, 0, math.maxinteger, "KMS.0417")
  local all, out = objects.list(ctx, KIND), {}
  for i = offset + 1, math.min(#all, offset + limit) do
    out[#out + 1] = details(ctx, all[i])
  end
  return { total = #all, keystores = shape.list(out) }
end

local function keys_in(ctx, ks)
  for _, key in ipairs(ctx.keys:each("huawei", ctx.project)) do
    if key.keystore_id == ks.id then
      return true
    end
  end
  return false
end

-- A keystore that still holds keys cannot go.
function M.delete(ctx, _, params)
  local ks = dedicated(ctx, params)
  if keys_in(ctx, ks) then
    errors.vendor("KMS.0308", "keystore_id")
  end
  objects.delete(ctx, ks)
  return {}
end

local function set_state(ctx, params, state)
  local ks = dedicated(ctx, params)
  ks.state = state
  objects.save(ctx, ks)
  return { keystore = { keystore_id = ks.id, keystore_state = M.STATE_CODE[state] } }
end

M.enable, M.disable = objects.switches(set_state)

-- keystore_id of a ciphertext PIN: "1" and "2" name the cloud's shared
-- clusters, anything else a dedicated CDMS keystore.
local SHARED_CLUSTERS = { ["1"] = true, ["2"] = true }

local function pin_keystore(ctx, id)
  if SHARED_CLUSTERS[id] then
    return
  end
  local ks = objects.get(ctx, KIND, id)
  if not ks or ks.type ~= "CDMS" or ks.state ~= "enabled" then
    errors.vendor("KMS.0340", id)
  end
end

-- PlainText: eight random digits; CipherText: random bytes in Base64.
-- The cloud publishes neither format.
function M.create_pin(ctx, b)
  local kind = p.enum(b, "pin_type", { PlainText = true, CipherText = true }, "CipherText")
  if kind == "PlainText" then
    local digits = {}
    for i, byte in ipairs { core.random(8):byte(1, -1) } do
      digits[i] = tostring(byte % 10)
    end
    return { pin = table.concat(digits) }
  end
  pin_keystore(ctx, p.string(b, "keystore_id", true))
  return { pin = core.b64(core.random(32)) }
end

return M
