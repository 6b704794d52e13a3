-- Tencent's CiphertextBlob keeps the public shape of the cloud's: three
-- standard-Base64 segments joined by "-k-".
--
--   segment 1 (64 bytes): key id (36 bytes ASCII) | key version (uint32 BE)
--                         | format (1 byte, 1) | 23 zero bytes
--   segment 2 (16 bytes): IV (12 bytes for AES-256-GCM then 4 zero bytes,
--                         16 for SM4-CTR)
--   segment 3:            ciphertext | tag (16 bytes GCM, 32 HMAC-SM3)
--
-- Segments 1 and 2 are authenticated with the EncryptionContext, so a
-- changed key id, version or IV fails like a changed ciphertext. Decrypt
-- needs no KeyId: the blob names its key, looked up in the request's region.
local core = require "kmsemu.core"
local envelope = require "kmsemu.envelope"
local util = require "kmsemu.util"

local M = {}

local FORMAT = 1
local SEP = "-k-"

-- The cipher of a key's blobs: its own spec, but AES-256-GCM for a
-- post-quantum Kyber_AES key (pqc.lua), whose KEM step is not emulated.
local CIPHER = { KYBER = "AES_256" }

local function cipher(key)
  return CIPHER[key.spec] or key.spec
end

-- Whether a key's blobs can be made and opened here.
function M.seals(key)
  return envelope.IV_BYTES[cipher(key)] ~= nil
end

local function header(key_id, version)
  return key_id .. string.pack(">I4B", version, FORMAT) .. ("\0"):rep(23)
end

-- Encrypts plaintext under the key's current version.
function M.seal(keys, key, plaintext, context)
  local h = header(key.id, key.version)
  local spec = cipher(key)
  local iv = envelope.new_iv(spec)
  local seg2 = iv .. ("\0"):rep(16 - #iv)
  local _, ct, tag = envelope.seal(spec, keys:material(key, key.version),
    plaintext, h .. seg2 .. context, iv)
  return core.b64(h) .. SEP .. core.b64(seg2) .. SEP .. core.b64(ct .. tag)
end

-- Splits a blob. Returns { key_id, version, seg1, seg2, body } or nil.
function M.parse(blob)
  if type(blob) ~= "string" then
    return nil
  end
  local a, b, c = blob:match("^([^-]+)%-k%-([^-]+)%-k%-([^-]+)$")
  if not a then
    return nil
  end
  local seg1, seg2, body = core.unb64(a), core.unb64(b), core.unb64(c)
  if not (seg1 and seg2 and body) or #seg1 ~= 64 or #seg2 ~= 16 then
    return nil
  end
  local version, format = string.unpack(">I4B", seg1, 37)
  if format ~= FORMAT or version < 1 then
    return nil
  end
  return { key_id = seg1:sub(1, 36), version = version, seg1 = seg1, seg2 = seg2, body = body }
end

-- The key id a blob names, or nil; read, not checked. The first segment
-- is decoded alone: a request's blob may be long.
function M.key_of(blob)
  local a = blob and blob:match("^([^-]+)%-k%-")
  local seg1 = a and core.unb64(util.replace(a, "\\/", "/"))
  return seg1 and #seg1 == 64 and seg1:sub(1, 36) or nil
end

-- Decrypts a parsed blob with its key. Returns the plaintext or nil.
function M.open(keys, key, p, context)
  local spec = cipher(key)
  local tag_len = envelope.TAG_BYTES[spec]
  if #p.body < tag_len or p.version > key.version then
    return nil
  end
  local iv = p.seg2:sub(1, envelope.IV_BYTES[spec])
  return envelope.open(spec, keys:material(key, p.version), iv,
    p.body:sub(1, -tag_len - 1), p.body:sub(-tag_len), p.seg1 .. p.seg2 .. context)
end

return M
