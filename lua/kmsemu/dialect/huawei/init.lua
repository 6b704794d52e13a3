-- Huawei Cloud KMS, API v1.0: POST /v1.0/{project_id}/kms/<action> with a
-- JSON body in snake_case, numbers carried as strings, signed with
-- SDK-HMAC-SHA256. Keys belong to the project named in the path.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"
local util = require "kmsemu.util"
local auth = require "kmsemu.dialect.huawei.auth"
local blob = require "kmsemu.dialect.huawei.blob"
local render = require "kmsemu.dialect.huawei.errors"

local M = {}

local MAX_AAD = 128
local MAX_DATA = 4096

-- Data-key specs of create-datakey, in bytes.
local DATA_KEY_SPECS = {
  AES_256 = 32, AES_128 = 16, SM4 = 16,
  HMAC_256 = 32, HMAC_384 = 48, HMAC_512 = 64, HMAC_SM3 = 32,
}

-- Field access. The SDK models type every field here as a string, numbers
-- included; anything else is refused as an invalid parameter.
local function field(b, name, required)
  local v = b[name]
  if v == nil or v == util.null then
    if required then
      errors.raise("MISSING_PARAMETER", name)
    end
    return nil
  end
  if type(v) ~= "string" then
    errors.raise("INVALID_PARAMETER", name .. " must be a string")
  end
  return v
end

-- A number-as-string field, checked against [min, max].
local function count(b, name, min, max, code)
  local s = field(b, name, true)
  local n = s:find("^%d+$") and math.tointeger(tonumber(s))
  if not n or n < min or n > max then
    errors.vendor(code or "KMS.0308", name)
  end
  return n
end

-- The SDK models' key_id pattern: [0-9a-z]{8}-{4}-{4}-{4}-{12}.
local KEY_ID = "^" .. table.concat({
  ("[0-9a-z]"):rep(8), ("[0-9a-z]"):rep(4), ("[0-9a-z]"):rep(4),
  ("[0-9a-z]"):rep(4), ("[0-9a-z]"):rep(12) }, "%-") .. "$"

local function key_id(b, required)
  local id = field(b, "key_id", required)
  if id ~= nil and not id:find(KEY_ID) then
    errors.raise("INVALID_KEY_ID", id)
  end
  return id
end

local function aad(b)
  local s = field(b, "additional_authenticated_data") or ""
  if #s > MAX_AAD then
    errors.vendor("KMS.0208")
  end
  return s
end

local function digest(key, data)
  return core.digest(keystore.SPECS[key.spec].digest, data)
end

local function create_datakey(ctx, b, with_plaintext)
  local id = key_id(b, true)
  local bytes = 32
  if field(b, "datakey_length") then
    local s = b.datakey_length
    local bits = s:find("^%d+$") and math.tointeger(tonumber(s))
    if not bits or bits < 8 or bits > 8192 then
      errors.vendor("KMS.1901")
    end
    if bits % 8 ~= 0 then
      errors.vendor("KMS.1903")
    end
    bytes = bits // 8
  elseif field(b, "key_spec") then
    bytes = DATA_KEY_SPECS[b.key_spec] or errors.vendor("KMS.1902")
  end
  local user_aad = aad(b)
  local key = ctx.keys:usable("huawei", ctx.project, id)
  local dek = core.random(bytes)
  local out = {
    key_id = key.id,
    cipher_text = util.hex_upper(blob.seal(ctx.keys, key, dek, user_aad)),
  }
  if with_plaintext then
    out.plain_text = util.hex_upper(dek)
  end
  return out
end

-- plain_text is hex(DEK || digest(DEK)): SHA-256, or SM3 for an SM4 key.
local function encrypt_datakey(ctx, b)
  local id = key_id(b, true)
  local hex = field(b, "plain_text", true)
  local len = count(b, "datakey_plain_length", 1, 1024)
  local user_aad = aad(b)
  local raw = core.unhex(hex)
  if not raw then
    errors.vendor("KMS.2101")
  end
  local key = ctx.keys:usable("huawei", ctx.project, id)
  if #raw ~= len + 32 then
    errors.vendor("KMS.2104")
  end
  local dek = raw:sub(1, len)
  if not core.equal(digest(key, dek), raw:sub(len + 1)) then
    errors.vendor("KMS.2103")
  end
  return {
    key_id = key.id,
    cipher_text = util.hex_upper(blob.seal(ctx.keys, key, dek, user_aad)),
    datakey_length = tostring(len),
  }
end

-- Opens a frame under the key the request names (or, for decrypt-data,
-- the key the frame names).
local function open(ctx, raw, id, user_aad)
  local p = blob.parse(raw)
  if not p or (id and p.key_id ~= id) then
    errors.raise("INVALID_CIPHERTEXT")
  end
  local key = ctx.keys:usable("huawei", ctx.project, p.key_id)
  local plaintext = blob.open(ctx.keys, key, p, user_aad)
  if not plaintext then
    errors.raise("CONTEXT_MISMATCH")
  end
  return key, plaintext
end

local function decrypt_datakey(ctx, b)
  local id = key_id(b, true)
  local hex = field(b, "cipher_text", true)
  local len = count(b, "datakey_cipher_length", 1, 1024)
  local user_aad = aad(b)
  local raw = core.unhex(hex)
  if not raw then
    errors.raise("INVALID_CIPHERTEXT")
  end
  local key, dek = open(ctx, raw, id, user_aad)
  if #dek ~= len then
    errors.vendor("KMS.2204")
  end
  return {
    data_key = util.hex_upper(dek),
    datakey_length = tostring(#dek),
    datakey_dgst = util.hex_upper(digest(key, dek)),
  }
end

local function algorithm(b)
  local alg = field(b, "encryption_algorithm")
  if alg ~= nil and alg ~= "SYMMETRIC_DEFAULT" then
    errors.vendor("KMS.2105")
  end
end

local function encrypt_data(ctx, b)
  local id = key_id(b, true)
  local text = field(b, "plain_text", true)
  if #text < 1 or #text > MAX_DATA then
    errors.raise("INVALID_PARAMETER", "plain_text must be 1 to 4096 bytes")
  end
  algorithm(b)
  local user_aad = aad(b)
  local key = ctx.keys:usable("huawei", ctx.project, id)
  return { key_id = key.id, cipher_text = core.b64(blob.seal(ctx.keys, key, text, user_aad)) }
end

local function decrypt_data(ctx, b)
  local text = field(b, "cipher_text", true)
  local id = key_id(b, false)
  algorithm(b)
  local user_aad = aad(b)
  if #text < 128 or #text > 5648 then
    errors.raise("INVALID_CIPHERTEXT")
  end
  local raw = core.unb64(text)
  if not raw then
    errors.raise("INVALID_CIPHERTEXT")
  end
  local key, plaintext = open(ctx, raw, id, user_aad)
  return { key_id = key.id, plain_text = plaintext }
end

-- action -> method, handler. Every route answers 200 with a JSON object.
local ROUTES = {
  ["create-datakey"] = { "POST", function(ctx, b) return create_datakey(ctx, b, true) end },
  ["create-datakey-without-plaintext"] = { "POST", function(ctx, b) return create_datakey(ctx, b, false) end },
  ["encrypt-datakey"] = { "POST", encrypt_datakey },
  ["decrypt-datakey"] = { "POST", decrypt_datakey },
  ["encrypt-data"] = { "POST", encrypt_data },
  ["decrypt-data"] = { "POST", decrypt_data },
}

M.ROUTES = ROUTES

local function body_of(req)
  local b = util.decode_object(req.body)
  if not b then
    errors.raise("MALFORMED_BODY")
  end
  local seq = b.sequence
  if seq ~= nil and (type(seq) ~= "string" or #seq ~= 36) then
    errors.vendor("KMS.0206")
  end
  return b
end

-- The gateway answers an unknown path or method before it looks at the
-- credentials; KMS validates the body after them.
local function dispatch(world, req, state)
  local project, action = req.path:match("^/v1%.0/([^/]+)/kms/([%w%-]+)$")
  local route = ROUTES[action or ""]
  if not route or route[1] ~= req.method then
    errors.raise("UNKNOWN_ACTION")
  end
  state.action = action
  auth.verify(world.credentials.huawei, req, util.now())
  local ctx = { keys = world.keys, project = project }
  return route[2](ctx, body_of(req))
end

local function request_id()
  return core.hex(core.random(16))
end

function M.handle(world, req)
  local state = {}
  local rid = request_id()
  local headers = { ["Content-Type"] = "application/json", ["X-Request-Id"] = rid }
  local ok, out = pcall(dispatch, world, req, state)
  if ok then
    return { status = 200, headers = headers, body = util.encode(out) }
  end
  if not errors.is(out) then
    io.stderr:write("kmsemu: huawei ", tostring(state.action), ": ", tostring(out), "\n")
    out = { code = "KMS.0101", vendor = true }
  end
  local status, body = render.render(out, rid)
  return { status = status, headers = headers, body = util.encode(body) }
end

return M
