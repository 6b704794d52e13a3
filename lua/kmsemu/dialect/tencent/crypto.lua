-- Symmetric cryptography (section 13.1): Encrypt, Decrypt, GenerateDataKey,
-- ReEncrypt, GenerateRandom. Ciphertexts are blob.lua's; an archived key
-- still decrypts but never encrypts.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"
local util = require "kmsemu.util"
local P = require "kmsemu.dialect.tencent.params"
local blob = require "kmsemu.dialect.tencent.blob"
local cmk = require "kmsemu.dialect.tencent.cmk"

local M = {}

local S, I, A, req, opt = P.S, P.I, P.list(P.TAG), P.req, P.opt
local MAX_PLAINTEXT = 4096
local MAX_CONTEXT = 1024
local MAX_RANDOM = 1024
local DATA_KEY_SPECS = { AES_128 = 16, AES_256 = 32 }
local DECRYPTS = { archived = true }

-- How each EncryptionAlgorithm wraps a plaintext for EncryptionPublicKey.
local WRAP = {
  SM2 = "sm2", SM2_C1C3C2_ASN1 = "sm2",
  RSAES_PKCS1_V1_5 = "rsa-pkcs1",
  RSAES_OAEP_SHA_1 = "rsa-oaep-sha1",
  RSAES_OAEP_SHA_256 = "rsa-oaep-sha256",
}

local function invalid(fmt, ...)
  errors.raise("INVALID_PARAMETER", fmt:format(...))
end

-- EncryptionContext is a JSON object given as a string. It is bound to
-- the ciphertext in a canonical form (keys sorted), so the same pairs in
-- another order or spacing still decrypt.
local function context(s)
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
  local names = {}
  for k in pairs(t) do
    names[#names + 1] = k
  end
  table.sort(names)
  local pairs_ = {}
  for i, k in ipairs(names) do
    pairs_[i] = { k, t[k] }
  end
  return util.encode(pairs_)
end

-- A key that may encrypt: usable, and symmetric.
local function encrypting_key(ctx, id)
  local key = cmk.usable(ctx, id)
  if not keystore.is_symmetric(key.spec) then
    errors.raise("KEY_USAGE", "Only ENCRYPT_DECRYPT CMKs encrypt.")
  end
  return key
end

-- EncryptionAlgorithm, checked whether or not a public key comes with it.
local function wrap_algorithm(p)
  local alg = p.EncryptionAlgorithm
  if alg == nil or alg == "" then
    return "SM2"
  end
  if not WRAP[alg] then
    invalid("`EncryptionAlgorithm` must be one of SM2, SM2_C1C3C2_ASN1, "
      .. "RSAES_PKCS1_V1_5, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256.")
  end
  return alg
end

-- The Plaintext returned to the caller: Base64 of the bytes, or of the
-- bytes encrypted with `alg` to EncryptionPublicKey when one is given.
local function deliver(p, alg, plaintext)
  local pem = p.EncryptionPublicKey
  if pem == nil or pem == "" then
    return core.b64(plaintext)
  end
  local ct, err = core.pkey_encrypt(pem, WRAP[alg], plaintext)
  if not ct then
    invalid("`EncryptionPublicKey` cannot be used with %s: %s.", alg, err)
  end
  if alg == "SM2" then -- the cloud returns C1C3C2 as raw bytes, not DER
    ct = assert(core.sm2_der_to_raw(ct))
  end
  return core.b64(ct)
end

local function encrypt(ctx, p)
  local key = encrypting_key(ctx, p.KeyId)
  local plaintext = core.unb64(p.Plaintext)
  if not plaintext or #plaintext == 0 or #plaintext > MAX_PLAINTEXT then
    errors.vendor("InvalidParameterValue.InvalidPlaintext",
      "It must be Base64 of 1 to 4096 bytes.")
  end
  return {
    CiphertextBlob = blob.seal(ctx.keys, key, plaintext, context(p.EncryptionContext)),
    KeyId = key.id,
  }
end

-- Finds the key a blob names and opens it; tampering, a foreign key, and a
-- different EncryptionContext all look alike from here.
local function open(ctx, ciphertext, canonical_context)
  local parsed = blob.parse(ciphertext)
  if not parsed then
    errors.raise("INVALID_CIPHERTEXT")
  end
  local key = cmk.usable(ctx, parsed.key_id, DECRYPTS)
  local plaintext = blob.open(ctx.keys, key, parsed, canonical_context)
  if not plaintext then
    errors.raise("CONTEXT_MISMATCH")
  end
  return key, plaintext, parsed
end

local function decrypt(ctx, p)
  local alg = wrap_algorithm(p)
  local key, plaintext = open(ctx, p.CiphertextBlob, context(p.EncryptionContext))
  return { KeyId = key.id, Plaintext = deliver(p, alg, plaintext) }
end

local function data_key_size(p)
  local n = p.NumberOfBytes
  if n == nil then
    if p.KeySpec == nil then
      invalid("Either `KeySpec` or `NumberOfBytes` must be given.")
    end
    n = DATA_KEY_SPECS[p.KeySpec]
    if not n then
      invalid("`KeySpec` must be AES_128 or AES_256.")
    end
  elseif n < 1 or n > 1024 then
    invalid("`NumberOfBytes` must be from 1 to 1024.")
  end
  return n
end

local function generate_data_key(ctx, p)
  if p.IsHostedByKms == 1 then
    errors.vendor("UnsupportedOperation", "kmsemu does not host data keys (IsHostedByKms 1).")
  end
  local n = data_key_size(p)
  local alg = wrap_algorithm(p)
  local key = encrypting_key(ctx, p.KeyId)
  local data_key = core.random(n)
  return {
    KeyId = key.id,
    Plaintext = deliver(p, alg, data_key),
    CiphertextBlob = blob.seal(ctx.keys, key, data_key, context(p.EncryptionContext)),
  }
end

-- Without a destination the source key re-encrypts, and a ciphertext
-- already under its current version with the same context comes back
-- unchanged with ReEncrypted false, as documented. Anything else (another
-- key, a rotated key, another context) is a real re-encryption. The new
-- ciphertext is bound to DestinationEncryptionContext alone: leaving it
-- out means no context, not the source's.
local function re_encrypt(ctx, p)
  local source_context = context(p.SourceEncryptionContext)
  local dest_context = context(p.DestinationEncryptionContext)
  local source, plaintext, parsed = open(ctx, p.CiphertextBlob, source_context)
  local dest_id = p.DestinationKeyId
  if dest_id == nil or dest_id == "" then
    dest_id = source.id
  end
  local dest = encrypting_key(ctx, dest_id)
  local out = { SourceKeyId = source.id, KeyId = dest.id }
  if dest == source and parsed.version == source.version and dest_context == source_context then
    out.CiphertextBlob, out.ReEncrypted = p.CiphertextBlob, false
  else
    out.CiphertextBlob = blob.seal(ctx.keys, dest, plaintext, dest_context)
    out.ReEncrypted = true
  end
  return out
end

local function generate_random(_, p)
  local n = p.NumberOfBytes
  if n < 1 or n > MAX_RANDOM then
    invalid("`NumberOfBytes` must be from 1 to %d.", MAX_RANDOM)
  end
  return { Plaintext = core.b64(core.random(n)) }
end

M.ACTIONS = {
  Encrypt = { run = encrypt, params = {
    KeyId = req(S), Plaintext = req(S), EncryptionContext = opt(S) } },
  Decrypt = { run = decrypt, params = {
    CiphertextBlob = req(S), EncryptionContext = opt(S),
    EncryptionPublicKey = opt(S), EncryptionAlgorithm = opt(S) } },
  GenerateDataKey = { run = generate_data_key, params = {
    KeyId = req(S), KeySpec = opt(S), NumberOfBytes = opt(I),
    EncryptionContext = opt(S), EncryptionPublicKey = opt(S),
    EncryptionAlgorithm = opt(S), IsHostedByKms = opt(I), DataKeyName = opt(S),
    Description = opt(S), HsmClusterId = opt(S), Tags = opt(A) } },
  ReEncrypt = { run = re_encrypt, params = {
    CiphertextBlob = req(S), DestinationKeyId = opt(S),
    SourceEncryptionContext = opt(S), DestinationEncryptionContext = opt(S) } },
  GenerateRandom = { run = generate_random, params = { NumberOfBytes = req(I) } },
}

return M
