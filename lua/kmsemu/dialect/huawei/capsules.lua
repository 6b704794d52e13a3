-- Data-key capsules: a data key sealed under a CMK together with the key
-- policy that says who may open it (a stored policy's id, or a policy
-- inline). decrypt-datakey-capsule opens it for a custom access point the
-- policy allows. The capsule's format is kmsemu's own (the cloud's is not
-- published): a ciphertext of the CMK, as encrypt-data makes, over JSON
-- holding the data key and the policy.
local cjson = require "cjson.safe"
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local util = require "kmsemu.util"
local p = require "kmsemu.dialect.huawei.params"
local access_points = require "kmsemu.dialect.huawei.access_points"
local blob = require "kmsemu.dialect.huawei.blob"
local context = require "kmsemu.dialect.huawei.context"
local crypto = require "kmsemu.dialect.huawei.crypto"
local policies = require "kmsemu.dialect.huawei.policies"

local M = {}

-- datakey_length: bits in the Python model's words, a spec in Go's enum.
local LENGTHS = { ["128"] = 16, ["256"] = 32, AES_256 = 32, SM4 = 16 }

-- The key the capsule is made or opened with: the models' UUID pattern.
local function key_of(ctx, b)
  local id = p.string(b, "key_id", true)
  if not p.is_uuid(id) then
    errors.raise("INVALID_KEY_ID", id)
  end
  return crypto.symmetric(context.usable(ctx, id:lower()))
end

-- public_key: an RSA public key, Base64 DER or PEM; the data key comes
-- back under RSAES_OAEP_SHA_256 instead of in the clear.
local function recipient(b)
  local s = p.string(b, "public_key")
  if s == nil then
    return nil
  end
  local der = not s:find("-----BEGIN", 1, true) and s:find("^[%w+/]+=?=?$") and core.unb64(s)
  local pem = der and core.pkey_from_der(der) or s
  local info = core.pkey_info(pem)
  if not info or info.private or info.kind:sub(1, 3) ~= "rsa" then
    errors.vendor("KMS.0308", "public_key")
  end
  return pem
end

local function hand_over(out, dek, pem)
  if pem then
    out.datakey_cipher = core.b64(assert(core.pkey_encrypt(pem, "rsa-oaep-sha256", dek)))
  else
    out.datakey = util.hex_upper(dek)
  end
  return out
end

function M.create(ctx, b)
  local key = key_of(ctx, b)
  local bytes = LENGTHS[p.string(b, "datakey_length", true)] or errors.vendor("KMS.0308", "datakey_length")
  local pem = recipient(b)
  local policy_id, inline = p.string(b, "policy_id"), p.string(b, "key_policy")
  if policy_id and inline then
    errors.vendor("KMS.0308", "key_policy")
  elseif not policy_id and not inline then
    errors.raise("MISSING_PARAMETER", "policy_id")
  end
  local sealed = { policy_id = policy_id }
  if policy_id then
    policies.get(ctx, policy_id)
  else
    sealed.policy = policies.parse(inline, "key_policy")
  end
  local dek = core.random(bytes)
  sealed.datakey = core.hex(dek)
  local capsule = core.b64(blob.seal(ctx.keys, key, cjson.encode(sealed), ""))
  return hand_over({ key_id = key.id, datakey_capsule = capsule }, dek, pem)
end

-- What the capsule holds, opened with the request's key; KMS.2201 for a
-- capsule of another key, or not a capsule at all.
local function open(ctx, key, text)
  local raw = text:find("^[%w+/]+=?=?$") and core.unb64(text)
  local f = raw and blob.parse(raw)
  local plain = f and f.key_id == key.id and blob.open(ctx.keys, key, f, "")
  local sealed = plain and util.decode_object(plain)
  if not sealed or type(sealed.datakey) ~= "string" then
    errors.vendor("KMS.2201")
  end
  return sealed
end

-- The access point an attestation document speaks for. kmsemu can check
-- only a custom access point's: its public key must be one it issued and
-- the signature must not have expired; the signature itself is not
-- verified, as the signed text is not published.
local function attested(ctx, doc, now)
  if type(doc) ~= "table" then
    errors.raise("MISSING_PARAMETER", "attestation_document")
  end
  local public = p.string(doc, "custom_public_key")
  local expires = p.string(doc, "expire_time")
  if not public or not p.string(doc, "custom_signature") or not expires then
    errors.vendor("KMS.3804")
  end
  local at = util.parse_instant(expires)
  if not at or at <= now then
    errors.vendor("KMS.3804")
  end
  for _, ap in ipairs(access_points.each(ctx)) do
    if ap.type == access_points.CUSTOM and access_points.public_key(ctx, ap) == public then
      return ap
    end
  end
  errors.vendor("KMS.3804")
end

function M.decrypt(ctx, b)
  local key = key_of(ctx, b)
  local text = p.string(b, "datakey_capsule", true)
  local doc = b.attestation_document
  if doc == nil or doc == util.null then
    errors.raise("MISSING_PARAMETER", "attestation_document")
  end
  local pem = recipient(b)
  local sealed = open(ctx, key, text)
  local ap = attested(ctx, doc, ctx.now)
  local policy = sealed.policy or policies.get(ctx, sealed.policy_id).policy
  if ap.state ~= "enabled" or not policies.allows(policy, ap.id, ctx.now) then
    errors.vendor("KMS.0330")
  end
  return hand_over({ key_id = key.id, instance_id = ap.id }, core.unhex(sealed.datakey), pem)
end

return M
