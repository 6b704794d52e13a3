-- Bring your own key: get-parameters-for-import hands out a real wrapping
-- public key and a token, import-key-material unwraps the material with
-- its private half, delete-imported-key-material forgets it again.
--
-- Asymmetric keys import in two layers: encrypted_key_material wraps a
-- temporary AES key (16 or 32 bytes) as above, and encrypted_privatekey is
-- the PKCS#8 DER private key wrapped with that key by AES key wrap with
-- padding (RFC 5649). Imported private keys cannot be deleted.
--
-- The token keeps the cloud's visible start (00 00, a length, the key id)
-- and carries its expiry, the wrapping algorithm and the wrapping public
-- key, sealed with an HMAC under a secret derived from the scenario seed:
-- nothing about it needs storing, and a forged or altered one fails.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"
local context = require "kmsemu.dialect.huawei.context"
local p = require "kmsemu.dialect.huawei.params"

local M = {}

M.TOKEN_TTL = 86400

local WRAPPING = {
  RSAES_OAEP_SHA_256 = { id = 1, kind = "rsa2048", padding = "rsa-oaep-sha256" },
  RSAES_OAEP_SHA_1 = { id = 2, kind = "rsa2048", padding = "rsa-oaep-sha1" },
  SM2_ENCRYPT = { id = 3, kind = "sm2", padding = "sm2" },
}

local BY_ID = {}
for name, w in pairs(WRAPPING) do
  BY_ID[w.id] = name
end

-- One wrapping key pair per kind and world, made on first use: RSA key
-- generation is slow, and a fresh pair per call buys a test nothing. It
-- is derived from the scenario seed, as the token secret is, so that a
-- token handed out before a restart (--data-dir) still imports after it.
local function wrapping_key(ctx, kind)
  local w = ctx.runtime.wrapping
  if not w[kind] then
    local seed = core.hkdf("sha256", ctx.keys.seed, "kmsemu huawei wrapping key", kind, 32)
    w[kind] = assert(core.pkey_derive(kind, seed))
  end
  return w[kind]
end

local function token_secret(ctx)
  return core.hkdf("sha256", ctx.keys.seed, "kmsemu huawei import token", "", 32)
end

local function seal_token(ctx, key_id, expires, alg, spki)
  local body = key_id .. string.pack(">I8B", expires, WRAPPING[alg].id) .. spki
  local raw = "\0\0" .. string.pack("<I2", #body + 32) .. body
  return raw .. core.hmac("sha256", token_secret(ctx), raw)
end

-- Returns key_id, expires, wrapping algorithm name; KMS.2605 if forged.
local function open_token(ctx, raw)
  if #raw < 4 + 36 + 9 + 32 or raw:sub(1, 2) ~= "\0\0"
      or string.unpack("<I2", raw, 3) ~= #raw - 4 then
    errors.vendor("KMS.2605")
  end
  local signed, mac = raw:sub(1, -33), raw:sub(-32)
  if not core.equal(core.hmac("sha256", token_secret(ctx), signed), mac) then
    errors.vendor("KMS.2605")
  end
  local expires, alg = string.unpack(">I8B", raw, 41)
  return raw:sub(5, 40), expires, BY_ID[alg]
end

local function importable(ctx, b)
  local key = context.key(ctx, p.key_id(b, true))
  if key.origin ~= "external" then
    errors.vendor("KMS.0309")
  end
  if key.replica then
    errors.vendor("KMS.1404")
  end
  if key.state == "pending_deletion" then
    errors.raise("KEY_PENDING_DELETION", key.id)
  end
  if key.state ~= "pending_import" then
    errors.vendor("KMS.0310")
  end
  return key
end

function M.parameters(ctx, b)
  local alg = p.enum(b, "wrapping_algorithm", WRAPPING, nil)
  if not alg then
    errors.raise("MISSING_PARAMETER", "wrapping_algorithm")
  end
  local key = importable(ctx, b)
  local spki = assert(core.pkey_public_der(wrapping_key(ctx, WRAPPING[alg].kind)))
  local expires = ctx.now + M.TOKEN_TTL
  return {
    key_id = key.id,
    import_token = core.b64(seal_token(ctx, key.id, expires, alg, spki)),
    expiration_time = expires,
    public_key = core.b64(spki),
  }
end

-- The private PEM an asymmetric import installs: the temporary key
-- unwraps the PKCS#8 DER, which must be a private key of the key's spec.
local function private_key(key, temporary, wrapped)
  if #temporary ~= 16 and #temporary ~= 32 then
    errors.vendor("KMS.2610")
  end
  local der = core.cipher(#temporary == 32 and "aes-256-wrap-pad" or "aes-128-wrap-pad",
    temporary, nil, wrapped, false)
  local pem = der and core.pkey_from_der(der)
  local info = pem and core.pkey_info(pem)
  if not info or not info.private or info.kind ~= keystore.SPECS[key.spec].pkey then
    errors.vendor("KMS.2609")
  end
  return pem
end

function M.import(ctx, b)
  local token = p.base64(b, "import_token", 150, 4608, "KMS.2605")
  local wrapped = p.base64(b, "encrypted_key_material", 1, 1024, "KMS.0308")
  local expires_at = p.integer(b, "expiration_time", false, "KMS.2602")
  local key = importable(ctx, b)
  local token_key, token_expires, alg = open_token(ctx, token)
  if token_key ~= key.id then
    errors.vendor("KMS.2603")
  end
  if token_expires <= ctx.now then
    errors.vendor("KMS.2601")
  end
  if expires_at and expires_at <= ctx.now then
    errors.vendor("KMS.2602")
  end
  local w = WRAPPING[alg]
  local asymmetric = keystore.is_asymmetric(key.spec)
  local wrapped_private
  if asymmetric then
    if not p.string(b, "encrypted_privatekey") then
      errors.vendor("KMS.2608")
    end
    wrapped_private = p.base64(b, "encrypted_privatekey", 16, 4608, "KMS.2609")
  end
  local material = core.pkey_decrypt(wrapping_key(ctx, w.kind), w.padding, wrapped)
  if not material then
    errors.vendor("KMS.0311")
  end
  if asymmetric then
    material = private_key(key, material, wrapped_private)
  elseif #material ~= keystore.SPECS[key.spec].bytes then
    errors.vendor("KMS.2604")
  end
  -- Material once imported may come back, but only the same bytes.
  local fingerprint = core.digest("sha256",
    asymmetric and assert(core.pkey_private_der(material)) or material)
  if key.imported and not core.equal(key.imported, fingerprint) then
    errors.vendor("KMS.2606")
  end
  key.imported = fingerprint
  ctx.keys:set_material(key, material)
  key.material_expires = expires_at
  key.awaiting_material = nil
  key.state = "enabled"
  return {}
end

function M.delete(ctx, b)
  local key = context.key(ctx, p.key_id(b, true))
  if key.origin ~= "external" then
    errors.vendor("KMS.0309")
  end
  if key.state ~= "enabled" and key.state ~= "disabled" then
    errors.vendor("KMS.2701")
  end
  if keystore.is_asymmetric(key.spec) then
    errors.vendor("KMS.2702")
  end
  ctx.keys:set_material(key, nil)
  key.material_expires = nil
  key.state = "pending_import"
  return {}
end

return M
