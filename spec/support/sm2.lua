-- SM2 helpers the specs need and kmsemu does not: the digest e of a
-- message (GB/T 32918.2 Z_A, default ID) and the raw C1C3C2 ciphertext
-- back into the DER form OpenSSL decrypts.
local core = require "kmsemu.core"

local M = {}

-- The curve's a, b, xG, yG (GB/T 32918.5).
local CURVE = assert(core.unhex((([[
  FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
  28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
  32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
  BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0]]):gsub("%s", ""))))

M.ID = "1234567812345678"

-- e = SM3(Z_A || msg) for an SM2 public or private PEM key.
function M.e(pem, msg)
  local der = assert(core.pkey_public_der(pem))
  local z = core.digest("sm3", string.pack(">I2", 8 * #M.ID) .. M.ID .. CURVE .. der:sub(-64))
  return core.digest("sm3", z .. msg)
end

local function tlv(tag, body)
  local n = #body
  local len = n < 128 and string.char(n) or n < 256 and "\129" .. string.char(n)
    or "\130" .. string.pack(">I2", n)
  return string.char(tag) .. len .. body
end

local function integer(bytes)
  bytes = bytes:gsub("^\0+", "")
  if bytes == "" or bytes:byte(1) >= 128 then
    bytes = "\0" .. bytes
  end
  return tlv(2, bytes)
end

-- 04 || X || Y || C3 || C2 -> SEQUENCE { INTEGER x, INTEGER y, OCTET STRING
-- C3, OCTET STRING C2 } (GM/T 0009).
function M.raw_to_der(raw)
  assert(#raw >= 97 and raw:byte(1) == 4, "not a raw SM2 ciphertext")
  return tlv(48, integer(raw:sub(2, 33)) .. integer(raw:sub(34, 65))
    .. tlv(4, raw:sub(66, 97)) .. tlv(4, raw:sub(98)))
end

return M
