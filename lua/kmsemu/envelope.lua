-- Authenticated encryption under a CMK's material, shared by both dialects'
-- ciphertext formats. Each dialect frames the pieces its own way and passes
-- its frame header in `aad`, so the key id and version inside a blob are
-- authenticated along with the caller's AAD / EncryptionContext.
--
--   AES_256: AES-256-GCM, 12-byte nonce, 16-byte tag.
--   SM4:     OpenSSL 3.0 has no SM4-GCM, so SM4-CTR then HMAC-SM3 over
--            (length of aad, aad, iv, ciphertext): encrypt-then-MAC with a
--            MAC key derived from the material. 16-byte IV, 32-byte tag.
local core = require "kmsemu.core"

local M = {}

local function sm4_keys(material)
  return material, core.hmac("sm3", material, "kmsemu sm4 mac key")
end

local function sm4_mac(mac_key, aad, iv, ct)
  return core.hmac("sm3", mac_key, string.pack(">s8", aad) .. iv .. ct)
end

M.IV_BYTES = { AES_256 = 12, SM4 = 16 }
M.TAG_BYTES = { AES_256 = 16, SM4 = 32 }

function M.new_iv(spec)
  return core.random(M.IV_BYTES[spec])
end

-- Returns iv, ciphertext, tag. A caller that must authenticate the IV as
-- part of its frame draws it itself (M.new_iv) and passes it in.
function M.seal(spec, material, plaintext, aad, iv)
  iv = iv or M.new_iv(spec)
  if spec == "AES_256" then
    local ct, tag = core.aead_seal("aes-256-gcm", material, iv, plaintext, aad)
    return iv, ct, tag
  end
  local enc, mac = sm4_keys(material)
  local ct = assert(core.cipher("sm4-ctr", enc, iv, plaintext, true))
  return iv, ct, sm4_mac(mac, aad, iv, ct)
end

-- Returns the plaintext, or nil when anything was altered.
function M.open(spec, material, iv, ct, tag, aad)
  if #iv ~= M.IV_BYTES[spec] or #tag ~= M.TAG_BYTES[spec] then
    return nil
  end
  if spec == "AES_256" then
    return (core.aead_open("aes-256-gcm", material, iv, ct, aad, tag))
  end
  local enc, mac = sm4_keys(material)
  if not core.equal(sm4_mac(mac, aad, iv, ct), tag) then
    return nil
  end
  return (core.cipher("sm4-ctr", enc, iv, ct, false))
end

return M
