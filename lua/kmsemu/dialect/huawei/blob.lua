-- Huawei's ciphertext frame, as its published examples show it:
--
--   offset  size  content
--   0       2     02 00
--   2       2     L, uint16 little-endian = total length - 36
--   4       4     key version, uint32 big-endian      \
--   8       16    IV (12 bytes + 4 zero for AES-GCM)   | the opaque body
--   24      n     ciphertext                           /
--   24+n    36    key id, ASCII
--   60+n    4     00 00 00 00
--   64+n    32    tag: AES-GCM tag + 16 zero bytes, or HMAC-SM3
--
-- Everything but the tag is authenticated together with the caller's
-- additional_authenticated_data. Data-key ciphertexts travel as hex, data
-- ciphertexts as Base64; both carry the key id, so decrypt-data needs none.
-- The cloud's body is 48 bytes plus the padded plaintext; ours is 20 plus
-- the plaintext (README, Known differences).
local envelope = require "kmsemu.envelope"

local M = {}

local TAG_FIELD = 32
local OVERHEAD = 96

local function aad_of(head, key_id, user_aad)
  return head .. key_id .. "\0\0\0\0" .. user_aad
end

function M.seal(keys, key, plaintext, user_aad)
  local iv = envelope.new_iv(key.spec)
  local n = #plaintext
  local head = "\2\0" .. string.pack("<I2>I4", OVERHEAD + n - 36, key.version)
    .. iv .. ("\0"):rep(16 - #iv)
  local _, ct, tag = envelope.seal(key.spec, keys:material(key, key.version),
    plaintext, aad_of(head, key.id, user_aad), iv)
  return head .. ct .. key.id .. "\0\0\0\0" .. tag .. ("\0"):rep(TAG_FIELD - #tag)
end

-- Splits a frame. Returns { key_id, version, head, ct, tag_field } or nil.
function M.parse(raw)
  if type(raw) ~= "string" or #raw < OVERHEAD or raw:sub(1, 2) ~= "\2\0" then
    return nil
  end
  local l, version = string.unpack("<I2>I4", raw, 3)
  local n = #raw - OVERHEAD
  if l ~= #raw - 36 or version < 1 or raw:sub(61 + n, 64 + n) ~= "\0\0\0\0" then
    return nil
  end
  return {
    key_id = raw:sub(25 + n, 60 + n), version = version,
    head = raw:sub(1, 24), ct = raw:sub(25, 24 + n), tag_field = raw:sub(65 + n),
  }
end

function M.open(keys, key, p, user_aad)
  local tag_len = envelope.TAG_BYTES[key.spec]
  local tag, pad = p.tag_field:sub(1, tag_len), p.tag_field:sub(tag_len + 1)
  if p.version > key.version or pad ~= ("\0"):rep(TAG_FIELD - tag_len) then
    return nil
  end
  local iv = p.head:sub(9, 8 + envelope.IV_BYTES[key.spec])
  return envelope.open(key.spec, keys:material(key, p.version), iv, p.ct, tag,
    aad_of(p.head, p.key_id, user_aad))
end

return M
