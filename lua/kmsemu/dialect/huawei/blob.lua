-- Huawei's ciphertext frame, with the cloud's lengths: 124 bytes plus the
-- plaintext padded to whole 16-byte blocks (P), as its published examples
-- and FAQ give them (a 64-byte data key: 188 bytes, 02 00 98 00, the key
-- id at offset 116).
--
--   offset  size  content
--   0       2     02 00
--   2       2     L, uint16 little-endian = total length - 36
--   4       4     key version, uint32 big-endian          \
--   8       16    IV (12 bytes + 4 zero for AES-GCM)       |
--   24      4     plaintext length, uint32 big-endian      | the opaque body,
--   28      24    zero                                     | 48 + P bytes
--   52      P     ciphertext of the plaintext, zero-padded /
--   52+P    36    key id, ASCII
--   88+P    4     00 00 00 00
--   92+P    32    tag: AES-GCM tag + 16 zero bytes, or HMAC-SM3
--
-- Everything but the tag is authenticated together with the caller's
-- additional_authenticated_data. Data-key ciphertexts travel as hex, data
-- ciphertexts as Base64; both carry the key id, so decrypt-data needs none.
local core = require "kmsemu.core"
local envelope = require "kmsemu.envelope"
local util = require "kmsemu.util"

local M = {}

local HEAD = 52
local TAG_FIELD = 32
local OVERHEAD = 124
local RESERVED = ("\0"):rep(24)

local function padded(n)
  return (n + 15) // 16 * 16
end

local function aad_of(head, key_id, user_aad)
  return head .. key_id .. "\0\0\0\0" .. user_aad
end

function M.seal(keys, key, plaintext, user_aad)
  local iv = envelope.new_iv(key.spec)
  local n = #plaintext
  local p = padded(n)
  local head = "\2\0" .. string.pack("<I2>I4", OVERHEAD + p - 36, key.version)
    .. iv .. ("\0"):rep(16 - #iv) .. string.pack(">I4", n) .. RESERVED
  local _, ct, tag = envelope.seal(key.spec, keys:material(key, key.version),
    plaintext .. ("\0"):rep(p - n), aad_of(head, key.id, user_aad), iv)
  return head .. ct .. key.id .. "\0\0\0\0" .. tag .. ("\0"):rep(TAG_FIELD - #tag)
end

-- Splits a frame. Returns { key_id, version, length, head, ct, tag_field }
-- or nil.
function M.parse(raw)
  if type(raw) ~= "string" or #raw < OVERHEAD or raw:sub(1, 2) ~= "\2\0" then
    return nil
  end
  local l, version = string.unpack("<I2>I4", raw, 3)
  local n = string.unpack(">I4", raw, 25)
  local p = #raw - OVERHEAD
  if l ~= #raw - 36 or version < 1 or p ~= padded(n) or raw:sub(29, HEAD) ~= RESERVED
      or raw:sub(HEAD + p + 37, HEAD + p + 40) ~= "\0\0\0\0" then
    return nil
  end
  return {
    key_id = raw:sub(HEAD + p + 1, HEAD + p + 36), version = version, length = n,
    head = raw:sub(1, HEAD), ct = raw:sub(HEAD + 1, HEAD + p), tag_field = raw:sub(HEAD + p + 41),
  }
end

function M.open(keys, key, f, user_aad)
  local tag_len = envelope.TAG_BYTES[key.spec]
  local tag, pad = f.tag_field:sub(1, tag_len), f.tag_field:sub(tag_len + 1)
  if f.version > key.version or pad ~= ("\0"):rep(TAG_FIELD - tag_len) then
    return nil
  end
  local iv = f.head:sub(9, 8 + envelope.IV_BYTES[key.spec])
  local padded_text = envelope.open(key.spec, keys:material(key, f.version), iv, f.ct, tag,
    aad_of(f.head, f.key_id, user_aad))
  return padded_text and padded_text:sub(1, f.length)
end

-- The key id a ciphertext as a request carries it (hex or Base64, maybe
-- with JSON's escaped slashes) names, or nil; read, not checked.
function M.key_of(text)
  if not text then
    return nil
  end
  local raw = text:find("^%x+$") and core.unhex(text) or core.unb64(util.replace(text, "\\/", "/"))
  if not raw or #raw < OVERHEAD or raw:sub(1, 2) ~= "\2\0" then
    return nil
  end
  local l = string.unpack("<I2", raw, 3)
  return (l >= 36 and l <= #raw) and raw:sub(l - 35, l) or nil
end

return M
