-- Symmetric cryptography (section 13.1): Encrypt, Decrypt, GenerateDataKey,
-- ReEncrypt, GenerateRandom. Ciphertexts are blob.lua's; an archived key
-- still decrypts but never encrypts.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local P = require "kmsemu.dialect.tencent.params"
local blob = require "kmsemu.dialect.tencent.blob"
local datakeys = require "kmsemu.dialect.tencent.datakeys"
local seal = require "kmsemu.dialect.tencent.seal"

local M = {}

local S, I, A, req, opt = P.S, P.I, P.list(P.TAG), P.req, P.opt
local MAX_PLAINTEXT = 4096
local MAX_RANDOM = 1024
local DATA_KEY_SPECS = { AES_128 = 16, AES_256 = 32 }

local invalid = P.invalid

local function open(ctx, ciphertext, canonical_context)
  return seal.open(ctx, ciphertext, canonical_context, seal.symmetric)
end

local context, deliver, wrap_algorithm = seal.context, seal.deliver, seal.wrap_algorithm
local encrypting_key = seal.encrypting_key

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

-- With IsHostedByKms 1 the service also keeps the data key (datakeys.lua).
local function generate_data_key(ctx, p)
  local hosted = datakeys.hosting(ctx, p)
  local n = data_key_size(p)
  local alg = wrap_algorithm(p)
  local key = encrypting_key(ctx, p.KeyId)
  local data_key = core.random(n)
  local canonical = context(p.EncryptionContext)
  local out = {
    KeyId = key.id,
    Plaintext = deliver(p, alg, data_key),
    CiphertextBlob = blob.seal(ctx.keys, key, data_key, canonical),
  }
  if hosted then
    datakeys.host(ctx, hosted, key, out, n, canonical)
  end
  return out
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
