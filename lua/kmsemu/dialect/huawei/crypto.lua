-- Data keys and data: the four data-key calls, encrypt-data and
-- decrypt-data (symmetric keys through the ciphertext frame, asymmetric
-- ones with RSA-OAEP or SM2), re-encrypt, gen-random and the data key
-- pairs.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"
local util = require "kmsemu.util"
local blob = require "kmsemu.dialect.huawei.blob"
local context = require "kmsemu.dialect.huawei.context"
local p = require "kmsemu.dialect.huawei.params"

local M = {}

local MAX_DATA = 4096

-- Data-key specs of create-datakey, in bytes.
local DATA_KEY_SPECS = {
  AES_256 = 32, AES_128 = 16, SM4 = 16,
  HMAC_256 = 32, HMAC_384 = 48, HMAC_512 = 64, HMAC_SM3 = 32,
}

local function kind(key)
  return keystore.SPECS[key.spec].kind
end

-- Which refusal a key of the wrong kind gets from the symmetric-only
-- calls (data keys, key pairs).
local function symmetric(key)
  local k = kind(key)
  if k == "hmac" then
    errors.vendor("KMS.0341")
  elseif k ~= "symmetric" then
    errors.vendor("KMS.0325")
  end
  return key
end

M.symmetric = symmetric

local function digest(key, data)
  return core.digest(keystore.SPECS[key.spec].digest, data)
end

local function seal_hex(ctx, key, dek, aad)
  return util.hex_upper(blob.seal(ctx.keys, key, dek, aad))
end

local function data_key_bytes(b)
  if p.string(b, "datakey_length") then
    local s = b.datakey_length
    local bits = s:find("^%d+$") and math.tointeger(tonumber(s))
    if not bits or bits < 8 or bits > 8192 then
      errors.vendor("KMS.1901")
    end
    if bits % 8 ~= 0 then
      errors.vendor("KMS.1903")
    end
    return bits // 8
  elseif p.string(b, "key_spec") then
    return DATA_KEY_SPECS[b.key_spec] or errors.vendor("KMS.1902")
  end
  return 32
end

function M.create_datakey(ctx, b, with_plaintext)
  local id = p.key_id(b, true)
  local bytes = data_key_bytes(b)
  local aad = p.aad(b)
  local key = symmetric(context.usable(ctx, id))
  local dek = core.random(bytes)
  local out = { key_id = key.id, cipher_text = seal_hex(ctx, key, dek, aad) }
  if with_plaintext then
    out.plain_text = util.hex_upper(dek)
  end
  return out
end

function M.create_datakey_without_plaintext(ctx, b)
  return M.create_datakey(ctx, b, false)
end

-- plain_text is hex(DEK || digest(DEK)): SHA-256, or SM3 for an SM4 key.
function M.encrypt_datakey(ctx, b)
  local id = p.key_id(b, true)
  local hex = p.string(b, "plain_text", true)
  local len = p.count(b, "datakey_plain_length", 1, 1024)
  local aad = p.aad(b)
  local raw = core.unhex(hex)
  if not raw then
    errors.vendor("KMS.2101")
  end
  local key = symmetric(context.usable(ctx, id))
  if #raw ~= len + 32 then
    errors.vendor("KMS.2104")
  end
  local dek = raw:sub(1, len)
  if not core.equal(digest(key, dek), raw:sub(len + 1)) then
    errors.vendor("KMS.2103")
  end
  return { key_id = key.id, cipher_text = seal_hex(ctx, key, dek, aad), datakey_length = tostring(len) }
end

-- Opens a frame under the key it names; `id`, when given, must be that key.
local function open(ctx, raw, id, aad)
  local f = blob.parse(raw)
  if not f or (id and f.key_id ~= id) then
    errors.raise("INVALID_CIPHERTEXT")
  end
  local key = context.usable(ctx, f.key_id)
  local plaintext = blob.open(ctx.keys, key, f, aad)
  if not plaintext then
    errors.raise("CONTEXT_MISMATCH")
  end
  return key, plaintext
end

function M.decrypt_datakey(ctx, b)
  local id = p.key_id(b, true)
  local hex = p.string(b, "cipher_text", true)
  local len = p.count(b, "datakey_cipher_length", 1, 1024)
  local aad = p.aad(b)
  local raw = core.unhex(hex)
  if not raw then
    errors.raise("INVALID_CIPHERTEXT")
  end
  local key, dek = open(ctx, raw, id, aad)
  if #dek ~= len then
    errors.vendor("KMS.2204")
  end
  return {
    data_key = util.hex_upper(dek),
    datakey_length = tostring(#dek),
    datakey_dgst = util.hex_upper(digest(key, dek)),
  }
end

-- encryption_algorithm -> the kmsemu.core padding and the bytes OAEP takes
-- from an RSA modulus.
local ASYMMETRIC = {
  RSAES_OAEP_SHA_256 = { padding = "rsa-oaep-sha256", kind = "rsa", overhead = 66 },
  RSAES_OAEP_SHA_1 = { padding = "rsa-oaep-sha1", kind = "rsa", overhead = 42 },
  SM2_ENCRYPT = { padding = "sm2", kind = "sm2" },
}

local ALGORITHMS = { SYMMETRIC_DEFAULT = true }
for name in pairs(ASYMMETRIC) do
  ALGORITHMS[name] = true
end

local function algorithm(b, name)
  return p.enum(b, name, ALGORITHMS, "SYMMETRIC_DEFAULT")
end

-- Checks that `key` can encrypt or decrypt with `alg`; returns the
-- ASYMMETRIC entry, or nil for the symmetric frame.
local function scheme(key, alg)
  local k = kind(key)
  if k == "hmac" then
    errors.vendor("KMS.0341")
  elseif k == "ec" or k == "ed25519" then
    errors.vendor("KMS.1114")
  elseif k == "symmetric" then
    if alg ~= "SYMMETRIC_DEFAULT" then
      errors.vendor("KMS.2105")
    end
    return nil
  end
  if key.usage ~= "ENCRYPT_DECRYPT" then
    errors.vendor("KMS.0335")
  end
  local a = ASYMMETRIC[alg]
  if not a or a.kind ~= k then
    errors.vendor(k == "rsa" and "KMS.2106" or "KMS.0308", "encryption_algorithm")
  end
  return a
end

local function rsa_bytes(key)
  return tonumber(key.spec:match("^RSA_(%d+)$")) // 8
end

-- The raw ciphertext of `plaintext` under key.
local function encrypt(ctx, key, plaintext, alg, aad)
  local a = scheme(key, alg)
  if not a then
    return blob.seal(ctx.keys, key, plaintext, aad)
  end
  if a.overhead and #plaintext > rsa_bytes(key) - a.overhead then
    errors.vendor("KMS.2108")
  end
  return assert(core.pkey_encrypt(ctx.keys:material(key), a.padding, plaintext))
end

-- Decrypts a raw ciphertext: a symmetric frame names its key; an
-- asymmetric ciphertext needs the key id from the request.
local function decrypt(ctx, raw, id, alg, aad)
  if alg == "SYMMETRIC_DEFAULT" then
    return open(ctx, raw, id, aad)
  end
  if not id then
    errors.raise("MISSING_PARAMETER", "key_id")
  end
  local key = context.usable(ctx, id)
  local a = scheme(key, alg)
  local plaintext = core.pkey_decrypt(ctx.keys:material(key), a.padding, raw)
  if not plaintext then
    errors.vendor(a.kind == "rsa" and "KMS.0311" or "KMS.2201")
  end
  return key, plaintext
end

function M.encrypt_data(ctx, b)
  local id = p.key_id(b, true)
  local text = p.string(b, "plain_text", true)
  if #text < 1 or #text > MAX_DATA then
    errors.raise("INVALID_PARAMETER", "plain_text must be 1 to 4096 bytes")
  end
  local alg = algorithm(b, "encryption_algorithm")
  local aad = p.aad(b)
  local key = context.usable(ctx, id)
  return { key_id = key.id, cipher_text = core.b64(encrypt(ctx, key, text, alg, aad)) }
end

local function base64_ciphertext(text)
  if #text < 128 or #text > 5648 then
    errors.raise("INVALID_CIPHERTEXT")
  end
  return core.unb64(text) or errors.raise("INVALID_CIPHERTEXT")
end

-- Plaintext may be any bytes (a sealed private key of a data key pair):
-- plain_text_base64 carries them exactly, and plain_text only when they
-- are text JSON can hold. The cloud adds plain_text_base64 for asymmetric
-- keys; so does kmsemu, and for bytes that are not UTF-8.
function M.decrypt_data(ctx, b)
  local text = p.string(b, "cipher_text", true)
  local id = p.key_id(b, false)
  local alg = algorithm(b, "encryption_algorithm")
  local aad = p.aad(b)
  local key, plaintext = decrypt(ctx, base64_ciphertext(text), id, alg, aad)
  local is_text = utf8.len(plaintext) ~= nil
  local out = { key_id = key.id, plain_text = is_text and plaintext or "" }
  if alg ~= "SYMMETRIC_DEFAULT" or not is_text then
    out.plain_text_base64 = core.b64(plaintext)
  end
  return out
end

-- A data-key ciphertext (hex, with datakey_cipher_length) or a data one
-- (Base64) is decrypted and sealed again in the same encoding.
function M.re_encrypt(ctx, b)
  local text = p.string(b, "cipher_text", true)
  local dest_id = p.key_id(b, true, "destination_key_id")
  local src_id = p.key_id(b, false, "source_key_id")
  local src_alg = algorithm(b, "source_encryption_algorithm")
  local dest_alg = algorithm(b, "destination_encryption_algorithm")
  local src_aad = p.aad(b, "source_additional_authenticated_data")
  local dest_aad = p.aad(b, "destination_additional_authenticated_data")
  local dk_len = p.count(b, "datakey_cipher_length", 1, 1024, nil, false)
  local raw = dk_len and core.unhex(text) or base64_ciphertext(text)
  if not raw then
    errors.raise("INVALID_CIPHERTEXT")
  end
  local src, plaintext = decrypt(ctx, raw, src_id, src_alg, src_aad)
  if dk_len and #plaintext ~= dk_len then
    errors.vendor("KMS.2204")
  end
  local dest = context.usable(ctx, dest_id)
  local out = encrypt(ctx, dest, plaintext, dest_alg, dest_aad)
  return {
    key_id = dest.id, source_key_id = src.id,
    source_encryption_algorithm = src_alg, destination_encryption_algorithm = dest_alg,
    cipher_text = dk_len and util.hex_upper(out) or core.b64(out),
  }
end

function M.gen_random(_, b)
  local s = p.string(b, "random_data_length", true)
  local bits = s:find("^%d+$") and math.tointeger(tonumber(s))
  if not bits or bits < 8 or bits > 8192 then
    errors.vendor("KMS.1801")
  end
  if bits % 8 ~= 0 then
    errors.vendor("KMS.1802")
  end
  return { random_data = util.hex_upper(core.random(bits // 8)) }
end

-- Data key pair specs -> kmsemu.core key kinds.
local PAIRS = {
  RSA_2048 = "rsa2048", RSA_3072 = "rsa3072", RSA_4096 = "rsa4096",
  ECC_NIST_P256 = "ec-p256", ECC_NIST_P384 = "ec-p384", ECC_SECG_P256K1 = "ec-secp256k1",
  SM2 = "sm2", ECC_NIST_P521 = "ec-p521",
}

-- A fresh key pair whose private half comes back sealed under the CMK
-- (private_key_cipher_text, decrypt-data opens it) and, unless
-- with_plain_text is false, in the clear; both as Base64 PKCS#8 DER.
local function datakey_pair(ctx, b, family)
  local id = p.key_id(b, true)
  local spec = p.string(b, "key_spec", true)
  local kind_ = PAIRS[spec]
  if kind_ == nil or (family == "rsa") ~= (spec:find("^RSA_") ~= nil) then
    errors.vendor("KMS.0308", "key_spec")
  end
  local with_plain = p.boolean(b, "with_plain_text", true)
  local aad = p.aad(b)
  local key = symmetric(context.usable(ctx, id))
  local private = assert(core.pkey_generate(kind_))
  local der = assert(core.pkey_private_der(private))
  local out = {
    key_id = key.id, key_spec = spec,
    public_key = core.b64(assert(core.pkey_public_der(private))),
    private_key_cipher_text = core.b64(blob.seal(ctx.keys, key, der, aad)),
  }
  if with_plain then
    out.private_key_plain_text = core.b64(der)
  end
  return out
end

function M.create_rsa_datakey_pair(ctx, b)
  return datakey_pair(ctx, b, "rsa")
end

function M.create_ec_datakey_pair(ctx, b)
  return datakey_pair(ctx, b, "ec")
end

return M
