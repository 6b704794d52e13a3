-- Post-quantum cryptography (section 13.10), with CreateKey's two
-- post-quantum usages: ASYMMETRIC_Encrypt_Decrypt_Kyber_AES (spec KYBER)
-- and ASYMMETRIC_SIGN_VERIFY_DILITHIUM (spec DILITHIUM). OpenSSL 3.0 has
-- neither algorithm, so both are emulated over the key's 32-byte secret;
-- the caller sees only opaque blobs and signatures, which behave as the
-- real ones: a blob opens under its own key alone, a signature verifies
-- for its own key and message alone.
--   Kyber_AES: AES-256-GCM in Encrypt's CiphertextBlob shape (blob.lua).
--   Dilithium: r (32 random bytes) || HKDF-SHA256 of HMAC-SHA256(secret,
--              r || message), 3293 bytes in all, Dilithium3's length.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local P = require "kmsemu.dialect.tencent.params"
local blob = require "kmsemu.dialect.tencent.blob"
local cmk = require "kmsemu.dialect.tencent.cmk"
local seal = require "kmsemu.dialect.tencent.seal"

local M = {}

local S, req, opt = P.S, P.req, P.opt
local MAX_PLAINTEXT = 4096
local MAX_MESSAGE = 4096
local SIGNATURE_BYTES = 3293
local NONCE_BYTES = 32

-- PostQuantumCryptoDecrypt documents EncryptionError for a public key it
-- cannot encrypt to.
local WRAP_CODES = { key = "FailedOperation.EncryptionError" }

local function of_spec(ctx, id, spec, allow)
  local key = cmk.usable(ctx, id, allow)
  if key.spec ~= spec then
    errors.raise("KEY_USAGE", ("This operation needs a %s CMK."):format(
      spec == "KYBER" and "ASYMMETRIC_Encrypt_Decrypt_Kyber_AES" or "ASYMMETRIC_SIGN_VERIFY_DILITHIUM"))
  end
  return key
end

local function kyber(key)
  return key.spec == "KYBER"
end

local function encrypt(ctx, p)
  local key = of_spec(ctx, p.KeyId, "KYBER")
  local plaintext = core.unb64(p.PlainText)
  if not plaintext or #plaintext == 0 or #plaintext > MAX_PLAINTEXT then
    errors.vendor("InvalidParameterValue.InvalidPlaintext", "It must be Base64 of 1 to 4096 bytes.")
  end
  return { CiphertextBlob = blob.seal(ctx.keys, key, plaintext, ""), KeyId = key.id }
end

local function decrypt(ctx, p)
  local alg = seal.wrap_algorithm(p)
  local key, plaintext = seal.open(ctx, p.CiphertextBlob, "", kyber)
  return { KeyId = key.id, PlainText = seal.deliver(p, alg, plaintext, WRAP_CODES) }
end

local function message(p)
  if p.Message == "" then
    errors.raise("MISSING_PARAMETER", "Message")
  end
  local m = core.unb64(p.Message)
  if not m or #m > MAX_MESSAGE then
    errors.raise("INVALID_PARAMETER", ("`Message` must be Base64 of 1 to %d bytes."):format(MAX_MESSAGE))
  end
  return m
end

local function signature(secret, nonce, msg)
  local prk = core.hmac("sha256", secret, nonce .. msg)
  return nonce .. core.hkdf("sha256", prk, "", "kmsemu dilithium signature",
    SIGNATURE_BYTES - NONCE_BYTES)
end

local function sign(ctx, p)
  local msg = message(p)
  local key = of_spec(ctx, p.KeyId, "DILITHIUM")
  local sig = signature(ctx.keys:material(key), core.random(NONCE_BYTES), msg)
  return { Signature = core.b64(sig) }
end

local function verify(ctx, p)
  local msg = message(p)
  local sig = core.unb64(p.SignatureValue)
  if not sig then
    errors.vendor("InvalidParameterValue", "`SignatureValue` must be Base64.")
  end
  local key = of_spec(ctx, p.KeyId, "DILITHIUM")
  local valid = #sig == SIGNATURE_BYTES and core.equal(sig,
    signature(ctx.keys:material(key), sig:sub(1, NONCE_BYTES), msg))
  return { SignatureValid = valid == true }
end

M.ACTIONS = {
  PostQuantumCryptoEncrypt = { run = encrypt, params = { KeyId = req(S), PlainText = req(S) } },
  PostQuantumCryptoDecrypt = { run = decrypt, params = {
    CiphertextBlob = req(S), EncryptionPublicKey = opt(S), EncryptionAlgorithm = opt(S) } },
  PostQuantumCryptoSign = { run = sign, params = { KeyId = req(S), Message = req(S) } },
  PostQuantumCryptoVerify = { run = verify, params = {
    KeyId = req(S), SignatureValue = req(S), Message = req(S) } },
}

return M
