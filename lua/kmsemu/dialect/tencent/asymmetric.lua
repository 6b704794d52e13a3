-- Asymmetric keys (section 13.4): public keys, RSA and SM2 decryption,
-- signing and verification. Only an Enabled key works here; every other
-- state answers CmkStateNotSupport (errors.lua maps it per action).
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"
local P = require "kmsemu.dialect.tencent.params"
local cmk = require "kmsemu.dialect.tencent.cmk"

local M = {}

local S, req, opt = P.S, P.req, P.opt
local MAX_MESSAGE = 4096
local MAX_SM2_CIPHERTEXT = 256

local RSA_PADDING = cmk.RSA_PADDING

-- Signature algorithm -> kmsemu.core name, the key specs it signs with,
-- and the digest length a DIGEST message must have. The documentation
-- says 32 bytes; a SHA-384 or SHA-512 digest is longer, so each algorithm
-- takes its own hash's length.
local RSA = { RSA_2048 = true, RSA_3072 = true, RSA_4096 = true }
local SIGNING = {
  SM2DSA = { alg = "sm2-sm3", specs = { SM2 = true }, digest = 32 },
  ECC_P256_R1 = { alg = "ecdsa-sha256", specs = { EC_P256 = true }, digest = 32 },
  ECC_P384_R1 = { alg = "ecdsa-sha384", specs = { EC_P384 = true }, digest = 48 },
  ECDSA384_SHA384 = { alg = "ecdsa-sha384", specs = { EC_P384 = true }, digest = 48 },
}
for _, bits in ipairs { 256, 384, 512 } do
  SIGNING["RSA_PSS_SHA_" .. bits] = { alg = "rsa-pss-sha" .. bits, specs = RSA, digest = bits // 8 }
  SIGNING["RSA_PKCS1_SHA_" .. bits] = { alg = "rsa-pkcs1-sha" .. bits, specs = RSA, digest = bits // 8 }
end
M.SIGNING = SIGNING

local invalid = P.invalid

local function base64(name, s)
  local raw = core.unb64(s)
  if not raw then
    invalid("`%s` must be Base64.", name)
  end
  return raw
end

-- An enabled key of one KeyUsage (or, with usage nil, any asymmetric one).
local function asymmetric_key(ctx, id, usage)
  local key = cmk.usable(ctx, id)
  if not keystore.is_asymmetric(key.spec) or (usage and cmk.key_usage(key) ~= usage) then
    errors.raise("KEY_USAGE", usage and ("This operation needs a " .. usage .. " CMK.") or nil)
  end
  return key
end

local function get_public_key(ctx, p)
  local key = asymmetric_key(ctx, p.KeyId)
  local pem = ctx.keys:material(key)
  return {
    KeyId = key.id,
    PublicKey = core.b64(assert(core.pkey_public_der(pem))),
    PublicKeyPem = assert(core.pkey_public_pem(pem)),
  }
end

local function decrypted(key, plaintext)
  if not plaintext then
    errors.vendor("FailedOperation.DecryptError")
  end
  return { KeyId = key.id, Plaintext = core.b64(plaintext) }
end

local function rsa_decrypt(ctx, p)
  local padding = RSA_PADDING[p.Algorithm]
  if not padding then
    invalid("`Algorithm` must be RSAES_PKCS1_V1_5, RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256.")
  end
  local ct = base64("Ciphertext", p.Ciphertext)
  local key = asymmetric_key(ctx, p.KeyId, "ASYMMETRIC_DECRYPT_RSA_2048")
  return decrypted(key, core.pkey_decrypt(ctx.keys:material(key), padding, ct))
end

-- The ciphertext is C1C3C2 in ASN.1 (DER), at most 256 bytes.
local function sm2_decrypt(ctx, p)
  local ct = base64("Ciphertext", p.Ciphertext)
  if #ct == 0 or #ct > MAX_SM2_CIPHERTEXT then
    invalid("`Ciphertext` must be 1 to %d bytes of C1C3C2_ASN1.", MAX_SM2_CIPHERTEXT)
  end
  local key = asymmetric_key(ctx, p.KeyId, "ASYMMETRIC_DECRYPT_SM2")
  return decrypted(key, core.pkey_decrypt(ctx.keys:material(key), "sm2", ct))
end

-- The key, the algorithm, the message bytes and whether they are a digest.
local function signing(ctx, p)
  local s = SIGNING[p.Algorithm]
  if not s then
    invalid("`Algorithm` %s is not a signature algorithm.", p.Algorithm)
  end
  local kind = p.MessageType or "RAW"
  if kind ~= "RAW" and kind ~= "DIGEST" then
    invalid("`MessageType` must be RAW or DIGEST.")
  end
  local msg = base64("Message", p.Message)
  if kind == "RAW" and (#msg == 0 or #msg > MAX_MESSAGE) then
    invalid("A RAW `Message` is 1 to %d bytes.", MAX_MESSAGE)
  elseif kind == "DIGEST" and #msg ~= s.digest then
    invalid("A DIGEST `Message` for %s is %d bytes.", p.Algorithm, s.digest)
  end
  local key = cmk.usable(ctx, p.KeyId)
  if key.usage ~= "SIGN_VERIFY" or not keystore.is_asymmetric(key.spec) then
    errors.raise("KEY_USAGE")
  end
  if not s.specs[key.spec] then
    invalid("`Algorithm` %s does not fit a %s CMK.", p.Algorithm, cmk.key_usage(key))
  end
  return key, s.alg, msg, kind == "DIGEST"
end

local function sign(ctx, p)
  local key, alg, msg, is_digest = signing(ctx, p)
  local sig = assert(core.sign(ctx.keys:material(key), alg, msg, is_digest))
  return { Signature = core.b64(sig) }
end

local function verify(ctx, p)
  local key, alg, msg, is_digest = signing(ctx, p)
  local sig = base64("SignatureValue", p.SignatureValue)
  local valid = core.verify(ctx.keys:material(key), alg, msg, is_digest, sig)
  return { SignatureValid = valid == true }
end

local DECRYPT = { KeyId = req(S), Ciphertext = req(S) }

M.ACTIONS = {
  GetPublicKey = { run = get_public_key, params = { KeyId = req(S) } },
  AsymmetricRsaDecrypt = { run = rsa_decrypt, params = {
    KeyId = req(S), Ciphertext = req(S), Algorithm = req(S) } },
  AsymmetricSm2Decrypt = { run = sm2_decrypt, params = DECRYPT },
  SignByAsymmetricKey = { run = sign, params = {
    KeyId = req(S), Algorithm = req(S), Message = req(S), MessageType = opt(S) } },
  VerifyByAsymmetricKey = { run = verify, params = {
    KeyId = req(S), Algorithm = req(S), Message = req(S), SignatureValue = req(S),
    MessageType = opt(S) } },
}

return M
