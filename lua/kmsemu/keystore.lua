-- The neutral key model: every CMK of both dialects, its state machine and
-- its material. Dialects map it to their own shapes (Huawei key_info,
-- Tencent KeyMetadata); the state rules live here and nowhere else.
--
-- Material is derived with HKDF from the scenario's seed and the key's
-- identity unless a fixture gives it, so the same scenario yields the same
-- keys on every run and every instance: yesterday's ciphertext decrypts
-- today, and instances behind a load balancer agree without sharing state.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"

local M = {}

M.STATES = {
  enabled = true,
  disabled = true,
  pending_deletion = true,
  pending_import = true,
}

-- Symmetric specs. `digest` is what each cloud pairs with the spec where a
-- hash of a data key is asked for (Huawei encrypt-datakey).
M.SPECS = {
  AES_256 = { bytes = 32, digest = "sha256" },
  SM4 = { bytes = 16, digest = "sm3" },
}

-- Which state refuses cryptographic use, and with which neutral error.
local UNUSABLE = {
  disabled = "KEY_DISABLED",
  pending_deletion = "KEY_PENDING_DELETION",
  pending_import = "KEY_PENDING_IMPORT",
}

local Store = {}
Store.__index = Store

function M.new(seed)
  return setmetatable({ seed = seed or "", keys = {} }, Store)
end

local function slot(dialect, owner, id)
  return dialect .. "\0" .. owner .. "\0" .. id
end

-- Adds a key from a checked fixture table: id, dialect, owner, spec,
-- state, alias, description, material (raw bytes or nil), created.
function Store:add(f)
  local key = {
    id = f.id,
    dialect = f.dialect,
    owner = f.owner,
    spec = f.spec,
    state = f.state,
    alias = f.alias or "",
    description = f.description or "",
    created = f.created or os.time(),
    origin = f.state == "pending_import" and "external" or "kms",
    version = 1,
    materials = { f.material },
  }
  self.keys[slot(key.dialect, key.owner, key.id)] = key
  return key
end

function Store:get(dialect, owner, id)
  return self.keys[slot(dialect, owner, id)]
end

-- The key, or a neutral error if it is missing or cannot be used for
-- cryptography in its current state.
function Store:usable(dialect, owner, id)
  local key = self:get(dialect, owner, id)
  if not key then
    errors.raise("KEY_NOT_FOUND", id)
  end
  local refusal = UNUSABLE[key.state]
  if refusal then
    errors.raise(refusal, id)
  end
  return key
end

-- The material of one version of a key, derived on first use.
function Store:material(key, version)
  local m = key.materials[version]
  if not m then
    local info = ("%s/%s/%s/v%d"):format(key.dialect, key.owner, key.id, version)
    m = core.hkdf("sha256", self.seed, "kmsemu key material", info,
      M.SPECS[key.spec].bytes)
    key.materials[version] = m
  end
  return m
end

return M
