-- Access points of a trusted keyspace: the ECS instances, CCE clusters or
-- custom clients that may open data-key capsules. A custom one gets a key
-- pair whose private half the owner downloads; kmsemu derives it from the
-- seed and the access point's id, so nothing secret is stored.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"
local p = require "kmsemu.dialect.huawei.params"
local objects = require "kmsemu.dialect.huawei.objects"
local policies = require "kmsemu.dialect.huawei.policies"
local shape = require "kmsemu.dialect.huawei.shape"

local M = {}

local KIND = "access_point"

M.ECS, M.CCE, M.CUSTOM = 1, 2, 3

-- state as the list model has it: 1 enabled, 0 disabled.
local STATE = { enabled = 1, disabled = 0 }

-- The custom access point's private key (PEM), the same on every run.
function M.private_key(ctx, ap)
  local seed = core.hkdf("sha256", ctx.keys.seed, "kmsemu huawei access point", ap.owner .. "/" .. ap.id, 32)
  return assert(core.pkey_derive(keystore.SPECS.EC_P256.pkey, seed))
end

-- Base64 of its X.509 SubjectPublicKeyInfo, as decrypt-datakey-capsule's
-- custom_public_key carries it.
function M.public_key(ctx, ap)
  return core.b64(assert(core.pkey_public_der(M.private_key(ctx, ap))))
end

function M.get(ctx, id)
  return objects.must(ctx, KIND, id, "access_point_id")
end

function M.each(ctx)
  return objects.list(ctx, KIND)
end

function M.create(ctx, b)
  local keyspace = policies.keyspace_of(p.string(b, "keyspace_id", true), "keyspace_id")
  local name = policies.name_of(b, "access_point_name")
  local kind = p.integer(b, "type", true)
  if kind ~= M.ECS and kind ~= M.CCE and kind ~= M.CUSTOM then
    errors.vendor("KMS.0308", "type")
  end
  local identity = p.string(b, "identity", kind ~= M.CUSTOM)
  local cluster = p.string(b, "cluster_id", kind == M.CCE)
  local description = policies.description_of(b)
  local ap = policies.add(ctx, KIND, "access_point_name", {
    keyspace_id = keyspace, name = name, type = kind, identity = identity, cluster_id = cluster,
    description = description or "", state = "enabled",
  })
  return { access_point_id = ap.id }
end

local function view(ap)
  return {
    access_point_id = ap.id, keyspace_id = ap.keyspace_id, access_point_name = ap.name,
    state = STATE[ap.state], type = ap.type, created_by = ap.created_by, create_time = shape.ms(ap.created),
    -- The models' own spelling.
    lsat_modify_time = shape.ms(ap.modified),
  }
end

function M.list(ctx, _, _, query)
  local out, info = policies.keyspace_page(ctx, KIND, query, view)
  return { page_info = info, access_points = out }
end

local function set_state(ctx, params, state)
  local ap = M.get(ctx, params.access_point_id)
  ap.state, ap.modified = state, ctx.now
  objects.save(ctx, ap)
  return {}
end

M.enable, M.disable = objects.switches(set_state)

function M.delete(ctx, _, params)
  objects.delete(ctx, M.get(ctx, params.access_point_id))
  return {}
end

-- Only a custom access point has a key pair to download: Base64 PKCS#8.
function M.private_key_of(ctx, _, params)
  local ap = M.get(ctx, params.access_point_id)
  if ap.type ~= M.CUSTOM then
    errors.vendor("KMS.0308", "access_point_id")
  end
  return { access_point_id = ap.id,
           private_key = core.b64(assert(core.pkey_private_der(M.private_key(ctx, ap)))) }
end

return M
