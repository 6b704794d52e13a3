-- Key material import, BYOK (section 13.5). GetParametersForImport hands
-- out an RSA-2048 wrapping key and a token valid for 24 hours;
-- ImportKeyMaterial unwraps the material with it. A key accepts only the
-- material it first received, ever: its digest outlives a deletion.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"
local P = require "kmsemu.dialect.tencent.params"
local cmk = require "kmsemu.dialect.tencent.cmk"

local M = {}

local S, I, req, opt = P.S, P.I, P.req, P.opt
local TOKEN_LIFETIME = 86400
local MAX_VALID_TO = 2147443200

local WRAPPING = cmk.RSA_PADDING

local invalid = P.invalid

local function external(ctx, id)
  local key = cmk.find(ctx, id)
  if key.origin ~= "external" then
    errors.vendor("UnsupportedOperation.NotExternalCmk")
  end
  return key
end

-- One RSA-2048 wrapping key pair for the process, made on first use:
-- generating one takes tens to hundreds of milliseconds under the Lua
-- lock, enough to stall every other request (and, on a loaded machine,
-- the request's own time budget). Tokens stay per call and per key.
local wrapping_pem

local function wrapping_key()
  wrapping_pem = wrapping_pem or assert(core.pkey_generate("rsa2048"))
  return wrapping_pem
end

-- Each call replaces the key's token.
local function get_parameters_for_import(ctx, p)
  if not WRAPPING[p.WrappingAlgorithm] then
    invalid("`WrappingAlgorithm` must be RSAES_PKCS1_V1_5, RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256.")
  end
  if p.WrappingKeySpec ~= "RSA_2048" then
    invalid("`WrappingKeySpec` must be RSA_2048.")
  end
  local key = external(ctx, p.KeyId)
  local pem = wrapping_key()
  local token = core.b64(core.random(96))
  ctx.keys:touch(key).import = {
    token = token, pem = pem, algorithm = WRAPPING[p.WrappingAlgorithm],
    expires = ctx.now + TOKEN_LIFETIME,
  }
  return {
    KeyId = key.id, ImportToken = token,
    PublicKey = core.b64(assert(core.pkey_public_der(pem))),
    ParametersValidTo = key.import.expires,
  }
end

local function check_valid_to(ctx, t)
  if t ~= 0 and (t <= ctx.now or t > MAX_VALID_TO) then
    invalid("`ValidTo` must be 0, or later than now and at most %d.", MAX_VALID_TO)
  end
end

local function unwrap(key, p)
  local wrapped = core.unb64(p.EncryptedKeyMaterial)
  local material = wrapped and core.pkey_decrypt(key.import.pem, key.import.algorithm, wrapped)
  if not material then
    errors.vendor("InvalidParameter.DecryptMaterialError")
  end
  local bytes = keystore.SPECS[key.spec].bytes
  if #material ~= bytes then
    errors.vendor("InvalidParameter.DecryptMaterialError",
      ("The key material of this CMK is %d bits."):format(bytes * 8))
  end
  return material
end

-- The digest of the material the key has, or had: a scenario may give
-- material that never went through ImportKeyMaterial.
function M.known_digest(keys, key)
  if not key.material_digest and key.state ~= "pending_import" then
    key.material_digest = core.digest("sha256", keys:material(key))
  end
  return key.material_digest
end

local function import_key_material(ctx, p)
  local valid_to = p.ValidTo or 0
  check_valid_to(ctx, valid_to)
  local key = external(ctx, p.KeyId)
  if key.state ~= "enabled" and key.state ~= "pending_import" then
    cmk.state_error()
  end
  local imp = key.import
  if not imp or imp.token ~= p.ImportToken then
    invalid("`ImportToken` was not issued for this CMK by GetParametersForImport.")
  end
  if imp.expires <= ctx.now then
    errors.vendor("ResourceUnavailable.TokenExpired")
  end
  local material = unwrap(key, p)
  local digest = core.digest("sha256", material)
  local known = M.known_digest(ctx.keys, key)
  if known and not core.equal(known, digest) then
    errors.vendor("InvalidParameterValue.MaterialNotMatch")
  end
  key.material_digest = digest
  ctx.keys:set_material(key, material)
  key.valid_to = valid_to
  key.state = "enabled"
  return {}
end

local function delete_imported_key_material(ctx, p)
  local key = external(ctx, p.KeyId)
  if key.state ~= "enabled" and key.state ~= "disabled" and key.state ~= "pending_import" then
    cmk.state_error()
  end
  cmk.not_bound(key)
  M.known_digest(ctx.keys, key)
  ctx.keys:set_material(key, nil)
  key.state, key.valid_to = "pending_import", 0
  return {}
end

M.ACTIONS = {
  GetParametersForImport = { run = get_parameters_for_import, params = {
    KeyId = req(S), WrappingAlgorithm = req(S), WrappingKeySpec = req(S) } },
  ImportKeyMaterial = { run = import_key_material, params = {
    KeyId = req(S), ImportToken = req(S), EncryptedKeyMaterial = req(S), ValidTo = opt(I) } },
  DeleteImportedKeyMaterial = { run = delete_imported_key_material, params = { KeyId = req(S) } },
}

return M
