-- Fuzz driver: the ciphertext parsers of both dialects. The input is read
-- for the key id it names, as the journal does, then tried as a raw
-- Huawei frame, as a Tencent blob, and (decoded from Base64 when it is
-- some) as a Huawei frame again; a frame that parses is
-- opened with a key of the spec its first byte picks, which must fail
-- quietly (nil) or decrypt, never raise.
local core = require "kmsemu.core"
local keystore = require "kmsemu.keystore"
local huawei = require "kmsemu.dialect.huawei.blob"
local tencent = require "kmsemu.dialect.tencent.blob"

local keys = keystore.new("fuzz")
local SPECS = { "AES_256", "SM4" }
local by_spec = {}
for _, spec in ipairs(SPECS) do
  by_spec[spec] = keys:add { dialect = "huawei", owner = "fuzz", spec = spec,
                             id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f" }
end

local function key_for(data)
  return by_spec[SPECS[(data:byte(1) or 0) % #SPECS + 1]]
end

local function try_huawei(raw, key)
  local p = huawei.parse(raw)
  if p then
    assert(#p.key_id == 36 and math.type(p.version) == "integer")
    local pt = huawei.open(keys, key, p, "")
    assert(pt == nil or type(pt) == "string")
  end
end

local function try_tencent(blob, key)
  local p = tencent.parse(blob)
  if p then
    assert(#p.seg1 == 64 and #p.seg2 == 16 and math.type(p.version) == "integer")
    local pt = tencent.open(keys, key, p, "")
    assert(pt == nil or type(pt) == "string")
  end
end

return function(data)
  -- What the journal reads of a request's ciphertext: 36 bytes or nil.
  for _, read in ipairs { huawei.key_of, tencent.key_of } do
    local id = read(data)
    assert(id == nil or #id == 36)
  end
  local key = key_for(data)
  try_huawei(data, key)
  try_tencent(data, key)
  local raw = core.unb64(data)
  if raw then
    try_huawei(raw, key)
  end
end
