-- Asymmetric keys and MACs: get-publickey, sign, verify, generate-mac,
-- verify-mac, derive-shared-secret. With message_type DIGEST (the default)
-- the message is the digest itself and must have the hash's length; with
-- RAW it is hashed here. SM2 hashes with its default ID, 1234567812345678.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"
local util = require "kmsemu.util"
local context = require "kmsemu.dialect.huawei.context"
local p = require "kmsemu.dialect.huawei.params"

local M = {}

local MAX_MESSAGE = 4096

-- signing_algorithm -> kmsemu.core name, digest bytes, key kind.
local ALGORITHMS = {
  RSASSA_PSS_SHA_256 = { "rsa-pss-sha256", 32, "rsa" },
  RSASSA_PSS_SHA_384 = { "rsa-pss-sha384", 48, "rsa" },
  RSASSA_PSS_SHA_512 = { "rsa-pss-sha512", 64, "rsa" },
  RSASSA_PKCS1_V1_5_SHA_256 = { "rsa-pkcs1-sha256", 32, "rsa" },
  RSASSA_PKCS1_V1_5_SHA_384 = { "rsa-pkcs1-sha384", 48, "rsa" },
  RSASSA_PKCS1_V1_5_SHA_512 = { "rsa-pkcs1-sha512", 64, "rsa" },
  ECDSA_SHA_256 = { "ecdsa-sha256", 32, "ec" },
  ECDSA_SHA_384 = { "ecdsa-sha384", 48, "ec" },
  ECDSA_SHA_512 = { "ecdsa-sha512", 64, "ec" },
  SM2DSA_SM3 = { "sm2-sm3", 32, "sm2" },
  ED25519_SHA_512 = { "ed25519", nil, "ed25519" },
  -- Ed25519ph needs OpenSSL 3.2's "instance" parameter; the core links
  -- 3.0 (README, Huawei sign and verify).
  ED25519_PH_SHA_512 = { nil, nil, "ed25519" },
}

-- Each curve signs with the hash of its own size.
local CURVE_HASH = { EC_P256 = "ECDSA_SHA_256", SECP256K1 = "ECDSA_SHA_256", EC_P384 = "ECDSA_SHA_384" }

local function signing_key(ctx, b)
  local key = context.usable(ctx, p.key_id(b, true))
  local kind = keystore.SPECS[key.spec].kind
  if kind == "symmetric" then
    errors.vendor("KMS.1115")
  elseif kind == "hmac" then
    errors.vendor("KMS.0341")
  elseif key.usage ~= "SIGN_VERIFY" then
    errors.vendor("KMS.0334")
  end
  return key, kind
end

-- The request's message, algorithm and whether it is a digest, checked
-- against the key.
local function signing_input(b, key, kind)
  local name = p.enum(b, "signing_algorithm", ALGORITHMS, nil)
  if not name then
    errors.raise("MISSING_PARAMETER", "signing_algorithm")
  end
  local message = p.base64(b, "message", 1, MAX_MESSAGE - 1)
  local digest = p.enum(b, "message_type", { DIGEST = true, RAW = true }, "DIGEST") == "DIGEST"
  local alg = ALGORITHMS[name]
  if alg[3] ~= kind or not alg[1] or (CURVE_HASH[key.spec] and CURVE_HASH[key.spec] ~= name) then
    errors.vendor("KMS.0332", name)
  end
  if kind == "ed25519" then
    digest = false -- pure Ed25519 signs the message itself
  elseif digest and #message ~= alg[2] then
    errors.vendor("KMS.0329")
  end
  return alg[1], message, digest
end

function M.sign(ctx, b)
  local key, kind = signing_key(ctx, b)
  local alg, message, digest = signing_input(b, key, kind)
  local sig = assert(core.sign(ctx.keys:material(key), alg, message, digest))
  return { key_id = key.id, signature = core.b64(sig) }
end

-- A well-formed signature that does not match answers "false", not an
-- error (README, Known differences).
function M.verify(ctx, b)
  local key, kind = signing_key(ctx, b)
  local alg, message, digest = signing_input(b, key, kind)
  local sig = p.base64(b, "signature", 1, 1024)
  local ok = core.verify(ctx.keys:material(key), alg, message, digest, sig)
  return { key_id = key.id, signature_valid = ok == true and "true" or "false" }
end

function M.public_key(ctx, b)
  local key = context.usable(ctx, p.key_id(b, true))
  if not keystore.is_asymmetric(key.spec) then
    errors.vendor("KMS.0331")
  end
  return { key_id = key.id, public_key = assert(core.pkey_public_pem(ctx.keys:material(key))) }
end

-- ECDH between the key's private half and the caller's public key (Base64
-- SubjectPublicKeyInfo DER on the key's curve). The SDK has no key_usage for
-- agreement, so an EC key of either usage agrees. SM2 key exchange is not
-- plain ECDH and OpenSSL 3.0 has no EVP_PKEY_derive for it: refused with
-- KMS.0325 (README, Known differences). No Qingtian enclave: a recipient
-- is refused rather than answered in the clear.
local AGREES = { EC_P256 = true, EC_P384 = true, SECP256K1 = true }

function M.derive_shared_secret(ctx, b)
  local key = context.usable(ctx, p.key_id(b, true))
  local alg = p.enum(b, "key_agreement_algorithm", { ECDH = true }, nil)
  if not alg then
    errors.raise("MISSING_PARAMETER", "key_agreement_algorithm")
  end
  local peer = p.base64(b, "public_key", 1, 1024)
  if b.recipient ~= nil and b.recipient ~= util.null then
    errors.vendor("KMS.0308", "recipient")
  end
  local kind = keystore.SPECS[key.spec].kind
  if kind == "symmetric" then
    errors.vendor("KMS.0331")
  elseif kind == "hmac" then
    errors.vendor("KMS.0341")
  elseif not AGREES[key.spec] then
    errors.vendor("KMS.0325")
  end
  local secret = core.pkey_derive_shared(ctx.keys:material(key), peer)
  if not secret then
    errors.vendor("KMS.0308", "public_key")
  end
  return { key_id = key.id, key_agreement_algorithm = alg, shared_secret = core.b64(secret) }
end

-- mac_algorithm -> the HMAC key spec it belongs to.
local MACS = { HMAC_SHA_256 = "HMAC_256", HMAC_SHA_384 = "HMAC_384", HMAC_SHA_512 = "HMAC_512",
  HMAC_SM3 = "HMAC_SM3" }

local function mac_of(ctx, b)
  local name = p.enum(b, "mac_algorithm", MACS, nil)
  if not name then
    errors.raise("MISSING_PARAMETER", "mac_algorithm")
  end
  local message = p.base64(b, "message", 1, MAX_MESSAGE)
  local key = context.usable(ctx, p.key_id(b, true))
  if keystore.SPECS[key.spec].kind ~= "hmac" then
    errors.vendor("KMS.0308", "key_id: not an HMAC key")
  end
  if MACS[name] ~= key.spec then
    errors.vendor("KMS.0308", "mac_algorithm")
  end
  local hash = keystore.SPECS[key.spec].hash
  return key, name, core.hmac(hash, ctx.keys:material(key), message)
end

function M.generate_mac(ctx, b)
  local key, name, mac = mac_of(ctx, b)
  return { key_id = key.id, mac_algorithm = name, mac = core.b64(mac) }
end

function M.verify_mac(ctx, b)
  local key, name, mac = mac_of(ctx, b)
  local given = p.base64(b, "mac", 1, 64)
  return { key_id = key.id, mac_algorithm = name, mac_valid = core.equal(mac, given) }
end

return M
