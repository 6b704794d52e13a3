-- The neutral key model: every CMK of every dialect, its states and its
-- material. Dialects map it to their own shapes and enforce their own
-- transition rules with their own codes; what a state allows
-- cryptographically is decided here.
--
-- Material is derived from the scenario's seed and the key's identity
-- unless a fixture gives it, so the same scenario yields the same keys on
-- every run and every instance: yesterday's ciphertext decrypts today, and
-- instances behind a load balancer agree without sharing state. That holds
-- for asymmetric keys too (kmsemu.core.pkey_derive is deterministic).
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local util = require "kmsemu.util"

local M = {}

M.STATES = {
  enabled = true,
  disabled = true,
  pending_deletion = true,
  pending_import = true,
  archived = true, -- decrypts, never encrypts
}

M.USAGES = { ENCRYPT_DECRYPT = true, SIGN_VERIFY = true, GENERATE_VERIFY_MAC = true }

-- kind: symmetric (bytes of material), hmac (bytes, hash), or an
-- asymmetric kind with the kmsemu.core.pkey_derive name in `pkey`.
-- `digest` is what each cloud pairs with a symmetric spec where a hash of
-- a data key is asked for (a dialect's data-key digest).
M.SPECS = {
  AES_256 = { kind = "symmetric", bytes = 32, digest = "sha256", usage = "ENCRYPT_DECRYPT" },
  SM4 = { kind = "symmetric", bytes = 16, digest = "sm3", usage = "ENCRYPT_DECRYPT" },
  HMAC_256 = { kind = "hmac", bytes = 32, hash = "sha256", usage = "GENERATE_VERIFY_MAC" },
  HMAC_384 = { kind = "hmac", bytes = 48, hash = "sha384", usage = "GENERATE_VERIFY_MAC" },
  HMAC_512 = { kind = "hmac", bytes = 64, hash = "sha512", usage = "GENERATE_VERIFY_MAC" },
  HMAC_SM3 = { kind = "hmac", bytes = 32, hash = "sm3", usage = "GENERATE_VERIFY_MAC" },
  RSA_2048 = { kind = "rsa", pkey = "rsa2048", usage = "SIGN_VERIFY" },
  RSA_3072 = { kind = "rsa", pkey = "rsa3072", usage = "SIGN_VERIFY" },
  RSA_4096 = { kind = "rsa", pkey = "rsa4096", usage = "SIGN_VERIFY" },
  EC_P256 = { kind = "ec", pkey = "ec-p256", usage = "SIGN_VERIFY" },
  EC_P384 = { kind = "ec", pkey = "ec-p384", usage = "SIGN_VERIFY" },
  SECP256K1 = { kind = "ec", pkey = "ec-secp256k1", usage = "SIGN_VERIFY" },
  SM2 = { kind = "sm2", pkey = "sm2", usage = "SIGN_VERIFY" },
  ED25519 = { kind = "ed25519", pkey = "ed25519", usage = "SIGN_VERIFY" },
  -- Post-quantum: OpenSSL 3.0 has neither Kyber (ML-KEM) nor Dilithium
  -- (ML-DSA), so a dialect emulates them over a 32-byte secret.
  KYBER = { kind = "pqc", bytes = 32, usage = "ENCRYPT_DECRYPT" },
  DILITHIUM = { kind = "pqc", bytes = 32, usage = "SIGN_VERIFY" },
}

function M.is_symmetric(spec)
  return M.SPECS[spec].kind == "symmetric"
end

function M.is_asymmetric(spec)
  return M.SPECS[spec].pkey ~= nil
end

-- Which state refuses cryptographic use, and with which neutral error.
local UNUSABLE = {
  disabled = "KEY_DISABLED",
  pending_deletion = "KEY_PENDING_DELETION",
  pending_import = "KEY_PENDING_IMPORT",
  archived = "KEY_ARCHIVED",
}

local Store = {}
Store.__index = Store

function M.new(seed)
  return setmetatable({ seed = seed or "kmsemu", keys = {}, objects = {} }, Store)
end

-- The order of listed keys and objects: oldest first, ties broken by id,
-- so that pages are stable.
function M.older(a, b)
  if a.created ~= b.created then
    return a.created < b.created
  end
  return a.id < b.id
end

local function slot(dialect, owner, id)
  return dialect .. "\0" .. owner .. "\0" .. id
end

-- A dialect's records that are not keys (a cloud's keystores, policies)
-- carry a `kind` and live apart, kept and written like keys.
local function object_slot(o)
  return o.dialect .. "\0" .. o.kind .. "\0" .. o.owner .. "\0" .. o.id
end

-- Notes that key changed (or, once gone from the store, was removed), for
-- the data directory: kmsemu.persist gives the store a `dirty` set only
-- when one is in use, and writes the keys in it before the response goes
-- out. Every function here that changes a key calls it; code that sets a
-- key's fields itself calls it too.
function Store:touch(key)
  local dirty = self.dirty
  if dirty then
    dirty[key] = true
  end
  return key
end

-- Whether key is the one the store holds under its identity.
function Store:holds(key)
  if key.kind then
    return self.objects[object_slot(key)] == key
  end
  return self.keys[slot(key.dialect, key.owner, key.id)] == key
end

-- Puts a whole key or object record back, as the data directory kept it.
function Store:restore(key)
  if key.kind then
    self.objects[object_slot(key)] = key
  else
    self.keys[slot(key.dialect, key.owner, key.id)] = key
  end
end

-- Adds or replaces an object: dialect, kind, owner and id are required.
function Store:put(o)
  self.objects[object_slot(o)] = o
  return self:touch(o)
end

function Store:object(dialect, kind, owner, id)
  return self.objects[object_slot { dialect = dialect, kind = kind, owner = owner, id = id }]
end

-- The objects of one kind and owner, oldest first (ties broken by id).
function Store:objects_of(dialect, kind, owner)
  local out = {}
  for _, o in pairs(self.objects) do
    if o.dialect == dialect and o.kind == kind and o.owner == owner then
      out[#out + 1] = o
    end
  end
  table.sort(out, M.older)
  return out
end

-- Adds a key. f: dialect, owner (the dialect's: a project, a region) and
-- spec are required; id defaults to a fresh UUID, state to enabled, usage
-- to the spec's. material: raw bytes (symmetric, HMAC) or a private PEM
-- (asymmetric) for version 1; nil derives it. Any other field of f (tags,
-- rotation, a dialect's own extras) is kept on the key as given. f itself
-- becomes the key record (every caller passes a fresh table): a scenario
-- may declare 100 000 keys.
function Store:add(f)
  local key = f
  key.id = f.id or util.uuid()
  key.state = f.state or "enabled"
  key.usage = f.usage or M.SPECS[f.spec].usage
  key.alias = f.alias or ""
  key.description = f.description or ""
  key.created = f.created or util.now()
  key.origin = f.origin or (key.state == "pending_import" and "external" or "kms")
  key.version = f.version or 1
  key.tags = f.tags or {}
  key.rotation = f.rotation or { enabled = false }
  key.materials = { f.material }
  key.material = nil
  self.keys[slot(key.dialect, key.owner, key.id)] = key
  return self:touch(key)
end

-- A key pending deletion whose date has passed is gone: it is removed the
-- first time anything looks it up.
local function expired(key)
  return key.state == "pending_deletion" and key.deletion_date ~= nil
    and key.deletion_date <= util.now()
end

function Store:get(dialect, owner, id)
  local s = slot(dialect, owner, id)
  local key = self.keys[s]
  if key and expired(key) then
    self.keys[s] = nil
    return nil
  end
  return key
end

function Store:remove(key)
  if key.kind then
    self.objects[object_slot(key)] = nil
  else
    self.keys[slot(key.dialect, key.owner, key.id)] = nil
  end
  self:touch(key)
end

-- The keys of one owner in no order, expired ones dropped: enough for a
-- count or a search, and sorting every key of a store of 100 000 on each
-- key creation cost more than the rest of the call.
function Store:each(dialect, owner)
  local out = {}
  for s, key in pairs(self.keys) do
    if key.dialect == dialect and key.owner == owner then
      if expired(key) then
        self.keys[s] = nil
      else
        out[#out + 1] = key
      end
    end
  end
  return out
end

-- The same keys oldest first (ties broken by id).
function Store:list(dialect, owner)
  local out = self:each(dialect, owner)
  table.sort(out, M.older)
  return out
end

function Store:find_alias(dialect, owner, alias)
  for _, key in ipairs(self:list(dialect, owner)) do
    if key.alias == alias then
      return key
    end
  end
end

-- The key, or a neutral error if it is missing or cannot be used for
-- cryptography in its current state. allow: a set of states that are
-- acceptable here besides enabled (an archived key may still decrypt).
function Store:usable(dialect, owner, id, allow)
  local key = self:get(dialect, owner, id)
  if not key then
    errors.raise("KEY_NOT_FOUND", id)
  end
  local refusal = UNUSABLE[key.state]
  if refusal and not (allow and allow[key.state]) then
    errors.raise(refusal, id)
  end
  return key
end

-- The material of one version of a key, derived on first use: raw bytes
-- for symmetric and HMAC keys, a private PEM for asymmetric ones. Derived
-- material is cached apart (key.derived) from given or imported material
-- (key.materials): only the latter needs keeping in a data directory.
function Store:material(key, version)
  version = version or key.version
  local m = key.materials[version] or (key.derived and key.derived[version])
  if m then
    return m
  end
  local spec = M.SPECS[key.spec]
  local info = ("%s/%s/%s/v%d"):format(key.dialect, key.owner, key.id, version)
  if spec.pkey then
    local seed = core.hkdf("sha256", self.seed, "kmsemu asymmetric key", info, 32)
    m = assert(core.pkey_derive(spec.pkey, seed))
  else
    m = core.hkdf("sha256", self.seed, "kmsemu key material", info, spec.bytes)
  end
  key.derived = key.derived or {}
  key.derived[version] = m
  return m
end

-- Replaces the material of the current version (key import), or forgets
-- it (deleting imported material) when m is nil.
function Store:set_material(key, m)
  key.materials[key.version] = m
  self:touch(key)
end

-- A new material version; older versions stay for decryption.
function Store:rotate(key)
  key.version = key.version + 1
  key.rotation.last = util.now()
  key.rotation.count = (key.rotation.count or 0) + 1
  self:touch(key)
  return key.version
end

-- Automatic rotation, caught up lazily: a key with rotation enabled gets
-- one new version per interval elapsed since its last rotation (or its
-- creation), the first time anything looks at it afterwards.
function Store:rotate_due(key, now)
  local r = key.rotation
  if not r.enabled or not r.interval_days then
    return
  end
  local period = r.interval_days * 86400
  while (r.last or key.created) + period <= now do
    local at = (r.last or key.created) + period
    self:rotate(key)
    r.last = at
  end
end

-- Puts a key in any state, as a fault or the admin API does. A key put
-- in pending deletion keeps its date, or takes `deletion_date`; any other
-- state has none.
function Store:set_state(key, state, deletion_date)
  key.state = state
  if state == "pending_deletion" then
    key.deletion_date = key.deletion_date or deletion_date
  else
    key.deletion_date = nil
  end
  return self:touch(key)
end

-- Lifecycle transitions both clouds share: the states each may start from
-- and the state it ends in. A dialect answers a refused one with its own
-- code. Cancelling a deletion leaves the key disabled (both clouds), or
-- still awaiting its material when none was ever imported.
M.LIFECYCLE = {
  enable = { from = { disabled = true }, to = "enabled" },
  disable = { from = { enabled = true }, to = "disabled" },
  schedule_deletion = { from = { enabled = true, disabled = true, pending_import = true },
                        to = "pending_deletion" },
  cancel_deletion = { from = { pending_deletion = true }, to = "disabled" },
}

-- Applies transition `op` to key. Returns true, or false when the key's
-- state does not allow it (the key is then unchanged).
function Store:transition(key, op)
  local t = M.LIFECYCLE[op]
  if not t.from[key.state] then
    return false
  end
  local to = t.to
  if op == "cancel_deletion" and key.awaiting_material then
    to = "pending_import"
  end
  if op == "schedule_deletion" then
    key.awaiting_material = key.state == "pending_import" or nil
  else
    key.deletion_date = nil
  end
  key.state = to
  self:touch(key)
  return true
end

return M
