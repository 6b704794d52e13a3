-- Tencent Cloud KMS, API 3.0, version 2019-01-18: POST / with a JSON body
-- or GET / with a query string, the action and common parameters in
-- X-TC-* headers, signed with TC3-HMAC-SHA256.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local util = require "kmsemu.util"
local auth = require "kmsemu.dialect.tencent.auth"
local blob = require "kmsemu.dialect.tencent.blob"
local render = require "kmsemu.dialect.tencent.errors"

local M = {}

M.VERSION = "2019-01-18"

local MAX_PLAINTEXT = 4096
local MAX_CONTEXT = 1024
local DATA_KEY_SPECS = { AES_128 = 16, AES_256 = 32 }

-- How each EncryptionAlgorithm wraps a plaintext for EncryptionPublicKey.
local WRAP = {
  SM2 = "sm2", SM2_C1C3C2_ASN1 = "sm2",
  RSAES_PKCS1_V1_5 = "rsa-pkcs1",
  RSAES_OAEP_SHA_1 = "rsa-oaep-sha1",
  RSAES_OAEP_SHA_256 = "rsa-oaep-sha256",
}

local function invalid(fmt, ...)
  errors.raise("INVALID_PARAMETER", fmt:format(...))
end

-- EncryptionContext is a JSON object given as a string. It is bound to
-- the ciphertext in a canonical form (keys sorted), so the same pairs in
-- another order or spacing still decrypt.
local function context(s)
  if s == nil or s == "" then
    return ""
  end
  if #s > MAX_CONTEXT then
    invalid("`EncryptionContext` is longer than %d characters.", MAX_CONTEXT)
  end
  local t = util.decode_object(s)
  if not t then
    invalid("`EncryptionContext` must be a JSON object of key/value pairs.")
  end
  local names = {}
  for k in pairs(t) do
    names[#names + 1] = k
  end
  table.sort(names)
  local pairs_ = {}
  for i, k in ipairs(names) do
    pairs_[i] = { k, t[k] }
  end
  return util.encode(pairs_)
end

local function check_key_id(id)
  if not util.is_uuid(id) then
    errors.raise("INVALID_KEY_ID", id)
  end
  return id
end

-- The Plaintext returned to the caller: Base64 of the bytes, or of the
-- bytes encrypted to EncryptionPublicKey when one is given.
local function deliver(p, plaintext)
  local pem = p.EncryptionPublicKey
  if pem == nil or pem == "" then
    return core.b64(plaintext)
  end
  local alg = p.EncryptionAlgorithm or "SM2"
  if alg == "" then
    alg = "SM2"
  end
  if not WRAP[alg] then
    invalid("`EncryptionAlgorithm` must be one of SM2, SM2_C1C3C2_ASN1, "
      .. "RSAES_PKCS1_V1_5, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256.")
  end
  local ct, err = core.pkey_encrypt(pem, WRAP[alg], plaintext)
  if not ct then
    invalid("`EncryptionPublicKey` cannot be used with %s: %s.", alg, err)
  end
  if alg == "SM2" then -- the cloud returns C1C3C2 as raw bytes, not DER
    ct = assert(core.sm2_der_to_raw(ct))
  end
  return core.b64(ct)
end

local function encrypt(ctx, p)
  local key = ctx.keys:usable("tencent", ctx.region, check_key_id(p.KeyId))
  local plaintext = core.unb64(p.Plaintext)
  if not plaintext or #plaintext == 0 or #plaintext > MAX_PLAINTEXT then
    errors.vendor("InvalidParameterValue.InvalidPlaintext",
      "It must be Base64 of 1 to 4096 bytes.")
  end
  return {
    CiphertextBlob = blob.seal(ctx.keys, key, plaintext, context(p.EncryptionContext)),
    KeyId = key.id,
  }
end

-- Finds the key a blob names and opens it; tampering, a foreign key, and a
-- different EncryptionContext all look alike from here.
local function open(ctx, ciphertext, ctx_string)
  local parsed = blob.parse(ciphertext)
  if not parsed then
    errors.raise("INVALID_CIPHERTEXT")
  end
  local key = ctx.keys:usable("tencent", ctx.region, parsed.key_id)
  local plaintext = blob.open(ctx.keys, key, parsed, context(ctx_string))
  if not plaintext then
    errors.raise("CONTEXT_MISMATCH")
  end
  return key, plaintext
end

local function decrypt(ctx, p)
  local key, plaintext = open(ctx, p.CiphertextBlob, p.EncryptionContext)
  return { KeyId = key.id, Plaintext = deliver(p, plaintext) }
end

local function generate_data_key(ctx, p)
  local n = p.NumberOfBytes
  if n == nil then
    if p.KeySpec == nil then
      invalid("Either `KeySpec` or `NumberOfBytes` must be given.")
    end
    n = DATA_KEY_SPECS[p.KeySpec]
    if not n then
      invalid("`KeySpec` must be AES_128 or AES_256.")
    end
  elseif n < 1 or n > 1024 then
    invalid("`NumberOfBytes` must be from 1 to 1024.")
  end
  local key = ctx.keys:usable("tencent", ctx.region, check_key_id(p.KeyId))
  local data_key = core.random(n)
  return {
    KeyId = key.id,
    Plaintext = deliver(p, data_key),
    CiphertextBlob = blob.seal(ctx.keys, key, data_key, context(p.EncryptionContext)),
  }
end

-- Parameter schemas: type, and whether the action requires it. Anything
-- not listed is refused with UnknownParameter, as the real gateway does.
local S, I, A = "string", "integer", "array"
local function req(t) return { t, true } end
local function opt(t) return { t, false } end

local ACTIONS = {
  Encrypt = { run = encrypt, params = {
    KeyId = req(S), Plaintext = req(S), EncryptionContext = opt(S) } },
  Decrypt = { run = decrypt, params = {
    CiphertextBlob = req(S), EncryptionContext = opt(S),
    EncryptionPublicKey = opt(S), EncryptionAlgorithm = opt(S) } },
  GenerateDataKey = { run = generate_data_key, params = {
    KeyId = req(S), KeySpec = opt(S), NumberOfBytes = opt(I),
    EncryptionContext = opt(S), EncryptionPublicKey = opt(S),
    EncryptionAlgorithm = opt(S), IsHostedByKms = opt(I), DataKeyName = opt(S),
    Description = opt(S), HsmClusterId = opt(S), Tags = opt(A) } },
}

M.ACTIONS = ACTIONS

-- Collects the parameters: the JSON body of a POST, or the query string
-- of a GET, where every value is a string and arrays are flattened as
-- Name.0, Name.1.Field ... (kept here as the presence of Name).
local function raw_params(req)
  if req.method == "GET" then
    local p = {}
    for _, kv in ipairs(util.parse_query(req.query)) do
      local base = kv[1]:match("^([^.]+)%.")
      if base then
        p[base] = p[base] or {}
      else
        p[kv[1]] = kv[2]
      end
    end
    return p, true
  end
  if req.body == "" then
    return {}
  end
  local t = util.decode_object(req.body)
  if not t then
    errors.raise("MALFORMED_BODY")
  end
  return t
end

local function coerce(name, t, v, from_query)
  if t == S then
    if type(v) ~= "string" then
      invalid("The parameter `%s` type error.", name)
    end
    return v
  end
  if t == I then
    local n = from_query and v:find("^%-?%d+$") and math.tointeger(tonumber(v))
      or (type(v) == "number" and math.tointeger(v))
    if not n then
      invalid("The parameter `%s` type error.", name)
    end
    return n
  end
  if type(v) ~= "table" then
    invalid("The parameter `%s` type error.", name)
  end
  return v
end

local function params(action, req)
  local raw, from_query = raw_params(req)
  local p = {}
  for name, v in pairs(raw) do
    local spec = action.params[name]
    if not spec then
      errors.raise("UNKNOWN_PARAMETER", name)
    end
    if v ~= util.null then
      p[name] = coerce(name, spec[1], v, from_query)
    end
  end
  for name, spec in pairs(action.params) do
    if spec[2] and p[name] == nil then
      errors.raise("MISSING_PARAMETER", name)
    end
  end
  return p
end

local function header(req, name)
  local v = req.headers[name]
  if v == nil or v == "" then
    errors.raise("MISSING_PARAMETER", name:sub(6, 6):upper() .. name:sub(7))
  end
  return v
end

local function dispatch(world, req, state)
  local creds = world.credentials.tencent
  state.action = header(req, "x-tc-action")
  local timestamp = header(req, "x-tc-timestamp")
  local version = header(req, "x-tc-version")
  auth.verify(creds, req, timestamp, util.now())
  local action = ACTIONS[state.action]
  if not action then
    errors.raise("UNKNOWN_ACTION")
  end
  if version ~= M.VERSION then
    errors.vendor("NoSuchVersion")
  end
  local ctx = {
    keys = world.keys,
    region = req.headers["x-tc-region"] or creds.region,
  }
  return action.run(ctx, params(action, req))
end

local HEADERS = { ["Content-Type"] = "application/json" }

local function respond(body)
  return { status = 200, headers = HEADERS, body = util.encode { Response = body } }
end

function M.handle(world, req)
  local state = {}
  local ok, out = pcall(dispatch, world, req, state)
  local rid = util.uuid()
  if ok then
    out.RequestId = rid
    return respond(out)
  end
  if not errors.is(out) then
    io.stderr:write("kmsemu: tencent ", tostring(state.action), ": ", tostring(out), "\n")
    out = { code = "InternalError", vendor = true }
  end
  local code, message = render.render(state.action, out)
  return respond { Error = { Code = code, Message = message }, RequestId = rid }
end

return M
