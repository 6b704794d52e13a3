-- What the actions that open ciphertexts share (symmetric, hosted data
-- keys, post-quantum): EncryptionContext in canonical form, opening a blob
-- with the key it names, and handing a plaintext back, Base64 or wrapped
-- for an EncryptionPublicKey.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"
local util = require "kmsemu.util"
local P = require "kmsemu.dialect.tencent.params"
local blob = require "kmsemu.dialect.tencent.blob"
local cmk = require "kmsemu.dialect.tencent.cmk"

local M = {}

local MAX_CONTEXT = 1024

-- An archived key still decrypts.
M.DECRYPTS = { archived = true }

-- How each EncryptionAlgorithm wraps a plaintext for EncryptionPublicKey.
local WRAP = { SM2 = "sm2", SM2_C1C3C2_ASN1 = "sm2" }
for alg, padding in pairs(cmk.RSA_PADDING) do
  WRAP[alg] = padding
end

local invalid = P.invalid

-- EncryptionContext is a JSON object given as a string. It is bound to
-- the ciphertext in a canonical form (keys sorted), so the same pairs in
-- another order or spacing still decrypt.
function M.context(s)
  if s == nil or s == "" then
    return ""
  end
  if #s > MAX_CONTEXT then
    invalid("`EncryptionContext` is longer than %d characters.", MAX_CONTEXT)
  end
  local t = util.decode_object(s)
  if not t then
    invalid("`EncryptionContext` must be a JSON object of key/value pairs.")
  end
  local pairs_ = {}
  for i, k in ipairs(util.sorted_keys(t)) do
    pairs_[i] = { k, t[k] }
  end
  return util.encode(pairs_)
end

function M.symmetric(key)
  return keystore.is_symmetric(key.spec)
end

-- A key that may encrypt: usable, and symmetric.
function M.encrypting_key(ctx, id)
  local key = cmk.usable(ctx, id)
  if not M.symmetric(key) then
    errors.raise("KEY_USAGE", "Only ENCRYPT_DECRYPT CMKs encrypt.")
  end
  return key
end

-- Finds the key a blob names and opens it; tampering, a foreign key, and a
-- different EncryptionContext all look alike from here. fits(key): whether
-- the action opens that key's blobs; a blob naming any other key is not a
-- ciphertext of the action.
function M.open(ctx, ciphertext, canonical_context, fits)
  local parsed = blob.parse(ciphertext)
  if not parsed then
    errors.raise("INVALID_CIPHERTEXT")
  end
  local key = cmk.usable(ctx, parsed.key_id, M.DECRYPTS)
  if not (blob.seals(key) and fits(key)) then
    errors.raise("INVALID_CIPHERTEXT")
  end
  local plaintext = blob.open(ctx.keys, key, parsed, canonical_context)
  if not plaintext then
    errors.raise("CONTEXT_MISMATCH")
  end
  return key, plaintext, parsed
end

-- The refusals of EncryptionAlgorithm and EncryptionPublicKey: an action
-- may document codes of its own (codes.algorithm, codes.key); else both
-- are InvalidParameter.
local function refuse(code, fmt, ...)
  if code then
    errors.vendor(code, fmt:format(...))
  end
  invalid(fmt, ...)
end

-- EncryptionAlgorithm, checked whether or not a public key comes with it.
function M.wrap_algorithm(p, codes)
  local alg = p.EncryptionAlgorithm
  if alg == nil or alg == "" then
    return "SM2"
  end
  if not WRAP[alg] then
    refuse(codes and codes.algorithm, "`EncryptionAlgorithm` must be one of SM2, SM2_C1C3C2_ASN1, "
      .. "RSAES_PKCS1_V1_5, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256.")
  end
  return alg
end

-- The Plaintext returned to the caller: Base64 of the bytes, or of the
-- bytes encrypted with `alg` to EncryptionPublicKey when one is given.
function M.deliver(p, alg, plaintext, codes)
  local pem = p.EncryptionPublicKey
  if pem == nil or pem == "" then
    return core.b64(plaintext)
  end
  local ct, err = core.pkey_encrypt(pem, WRAP[alg], plaintext)
  if not ct then
    refuse(codes and codes.key, "`EncryptionPublicKey` cannot be used with %s: %s.", alg, err)
  end
  if alg == "SM2" then -- the cloud returns C1C3C2 as raw bytes, not DER
    ct = assert(core.sm2_der_to_raw(ct))
  end
  return core.b64(ct)
end

return M
