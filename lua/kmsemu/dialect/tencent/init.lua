-- Tencent Cloud KMS, API 3.0, version 2019-01-18. Three request styles
-- reach the same actions: POST with a JSON body and GET with a query
-- string, both signed with TC3-HMAC-SHA256 and naming the action in
-- X-TC-* headers; and the legacy v1 style, where the action, the common
-- parameters and an HmacSHA1/HmacSHA256 signature are form parameters of
-- the body or the query.
local errors = require "kmsemu.errors"
local util = require "kmsemu.util"
local auth = require "kmsemu.dialect.tencent.auth"
local blob = require "kmsemu.dialect.tencent.blob"
local keys = require "kmsemu.dialect.tencent.keys"
local limits = require "kmsemu.dialect.tencent.limits"
local P = require "kmsemu.dialect.tencent.params"
local render = require "kmsemu.dialect.tencent.errors"
local v1 = util.later "kmsemu.dialect.tencent.v1"

local M = {}

M.VERSION = "2019-01-18"

-- Every action of the API, from the modules of its group (section 13.1 to
-- 13.10). The groups most runs never call load with the first call of one
-- of their actions, which LATER lists (start-up is shorter without them;
-- spec/coverage_tencent_spec.lua holds the lists to the modules); pairs()
-- loads them all.
local NOW = { "crypto", "keys", "listing", "datakeys" }
M.LATER = {
  rotation = { "DisableKeyRotation", "EnableKeyRotation", "GetKeyRotationStatus", "RotateKey" },
  asymmetric = { "AsymmetricRsaDecrypt", "AsymmetricSm2Decrypt", "GetPublicKey", "SignByAsymmetricKey",
                 "VerifyByAsymmetricKey" },
  import = { "DeleteImportedKeyMaterial", "GetParametersForImport", "ImportKeyMaterial" },
  service = { "GetRegions", "GetServiceStatus", "ListAlgorithms" },
  binding = { "BindCloudResource", "UnbindCloudResource" },
  whitebox = { "CreateWhiteBoxKey", "DeleteWhiteBoxKey", "DescribeWhiteBoxDecryptKey",
               "DescribeWhiteBoxDeviceFingerprints", "DescribeWhiteBoxKey", "DescribeWhiteBoxKeyDetails",
               "DescribeWhiteBoxServiceStatus", "DisableWhiteBoxKey", "DisableWhiteBoxKeys",
               "EnableWhiteBoxKey", "EnableWhiteBoxKeys", "EncryptByWhiteBox",
               "OverwriteWhiteBoxDeviceFingerprints" },
  pqc = { "PostQuantumCryptoDecrypt", "PostQuantumCryptoEncrypt", "PostQuantumCryptoSign",
          "PostQuantumCryptoVerify" },
}

local ACTIONS, GROUP_OF, NAMES, ADDED = {}, {}, {}, {}

local function add(group)
  ADDED[group] = true
  for name, action in pairs(require("kmsemu.dialect.tencent." .. group).ACTIONS) do
    assert(rawget(ACTIONS, name) == nil, name)
    rawset(ACTIONS, name, action)
  end
end

for _, group in ipairs(NOW) do
  add(group)
end
for name in pairs(ACTIONS) do
  NAMES[#NAMES + 1] = name
end
for group, names in pairs(M.LATER) do
  for _, name in ipairs(names) do
    GROUP_OF[name] = group
    NAMES[#NAMES + 1] = name
  end
end
table.sort(NAMES)

setmetatable(ACTIONS, {
  __index = function(_, name)
    local group = GROUP_OF[name]
    if group and not ADDED[group] then
      add(group)
      return rawget(ACTIONS, name)
    end
  end,
  __pairs = function(t)
    for group in pairs(M.LATER) do
      if not ADDED[group] then
        add(group)
      end
    end
    return next, t, nil
  end,
})
M.ACTIONS = ACTIONS

local DEFAULT_UIN = 100000000001

local function header(req, name)
  local v = req.headers[name]
  if v == nil or v == "" then
    errors.raise("MISSING_PARAMETER", name:sub(6, 6):upper() .. name:sub(7))
  end
  return v
end

-- v1 requests carry no Authorization header and send their parameters
-- form-encoded: in the query of a GET, in the body of a POST.
local function is_v1(req)
  if req.headers.authorization then
    return false
  end
  local ctype = req.headers["content-type"] or ""
  return req.method == "GET" or ctype:find("^application/x%-www%-form%-urlencoded") ~= nil
end

-- TC3: the action and common parameters in headers; the parameters a
-- JSON object (POST) or flattened pairs in the query (GET), as parse()
-- read them.
local function tc3(creds, req, p)
  header(req, "x-tc-action")
  local timestamp = header(req, "x-tc-timestamp")
  local version = header(req, "x-tc-version")
  auth.verify(creds, req, timestamp, util.wall(), p.auth)
  local raw = p.raw
  if p.pairs then
    raw = P.unflatten(p.pairs)
  elseif not raw then
    errors.raise("MALFORMED_BODY")
  end
  return version, req.headers["x-tc-region"], raw
end

local function legacy(creds, req, p)
  v1.verify(creds, req, p.pairs, p.common, util.wall())
  return p.common.Version, p.common.Region, P.unflatten(p.rest)
end

-- Request size limits (API 3.0 call guide): 10 MB for a TC3 POST, 1 MB
-- for a v1 form POST, 32 KB for a GET. --max-body tencent=BYTES changes
-- the first; the others never exceed it.
M.DEFAULT_MAX_BODY = 10 * 1024 * 1024
M.MAX_BODY = M.DEFAULT_MAX_BODY
local V1_MAX_BODY, GET_MAX = 1024 * 1024, 32 * 1024

-- The refusal of a request over its limit (code, message), or nil.
-- req.oversize: the core did not keep a body over its own --max-body;
-- that is over every limit here.
local function oversized(req, legacy_style)
  local size = req.oversize and math.huge or #req.body
  if req.method == "GET" then
    size = math.max(size, #req.path + #req.query + 1)
    if size > math.min(GET_MAX, M.MAX_BODY) then
      return "RequestSizeLimitExceeded"
    end
  elseif legacy_style then
    if size > math.min(V1_MAX_BODY, M.MAX_BODY) then
      return "AuthFailure.SignatureFailure", render.V1_TOO_LARGE
    end
  elseif size > M.MAX_BODY then
    return "RequestSizeLimitExceeded"
  end
end

local function dispatch(world, req, p, call)
  local creds = world.credentials.tencent
  if req.method ~= "POST" and req.method ~= "GET" then
    errors.vendor("UnsupportedProtocol")
  end
  local code, message = oversized(req, p.v1)
  if code then
    errors.vendor(code, nil, message)
  end
  local version, region, raw = (p.v1 and legacy or tc3)(creds, req, p)
  local name = call.action
  local action = ACTIONS[name]
  if not action then
    errors.raise("UNKNOWN_ACTION")
  end
  if version ~= M.VERSION then
    errors.vendor("NoSuchVersion")
  end
  local ctx = {
    keys = world.keys,
    region = (region ~= nil and region ~= "") and region or creds.region,
    now = util.now(),
    uin = math.tointeger(tonumber(creds.uin or "")) or DEFAULT_UIN,
    cmk_limit = limits.cmk_limit(world),
    data_key_limit = limits.data_key_limit(world),
    whitebox = limits.whitebox(world),
    whitebox_limit = limits.WHITEBOX_LIMIT,
  }
  limits.admit(world, ctx, name)
  return action.run(ctx, P.check(action.params, raw))
end

local HEADERS = { ["Content-Type"] = "application/json" }

local function respond(body)
  return { status = 200, headers = HEADERS, json = { Response = body } }
end

-- A whole error response for a raised error table (also an injected fault).
function M.fail(e, call)
  local code, message = render.render(call.action, e)
  call.error, call.message, call.diagnostic = code, message, e.diagnostic
  return respond { Error = { Code = code, Message = message }, RequestId = util.uuid() }
end

M.NAME = "tencent"

-- Whether an action name is one of the API's.
function M.known(action)
  return ACTIONS[action] ~= nil
end

local ACTION_NAMES = NAMES

function M.action_names()
  return ACTION_NAMES
end

-- Neutral names are the CamelCase ones in snake_case ("DescribeKey":
-- describe_key), but for the operations both clouds share under other
-- names.
local NEUTRAL = { SignByAsymmetricKey = "sign", VerifyByAsymmetricKey = "verify" }

function M.neutral(native)
  return NEUTRAL[native] or native:gsub("(%l)(%u)", "%1_%2"):gsub("(%u)(%u%l)", "%1_%2"):lower()
end

-- Key ids have the UUID shape.
M.is_key_id = util.is_uuid
M.KEY_ID_SHAPE = "a UUID"

local CIPHERTEXT_ACTIONS = { Decrypt = true, ReEncrypt = true }

-- Every error is HTTP 200.
function M.error_info(code)
  local msg = render.CATALOG[code]
  if msg then
    return 200, msg
  end
end

local CODES = util.sorted_keys(render.CATALOG)

function M.error_codes()
  return CODES
end

M.FAULT_CODES = { throttled = "RequestLimitExceeded", internal = "InternalError",
                  unavailable = "ServiceUnavailable", timeout = "InternalError" }

function M.fault_error(code, key_id)
  return errors.new(code, render.NAMES_KEY[code] and key_id or nil, true)
end

M.default_deletion_date = keys.default_deletion_date

-- API 3.0 lives at "/" alone: POST, or a GET naming its action.
function M.claims(req)
  return req.path == "/" and (req.method == "POST" or req.headers["x-tc-action"] ~= nil
    or ("&" .. req.query):find("&Action=", 1, true) ~= nil)
end

-- The first of a request's pairs called `name`.
local function pair(pairs_, name)
  for _, kv in ipairs(pairs_) do
    if kv[1] == name then
      return kv[2]
    end
  end
end

-- Reads a request once: its style, the signature's fields, and its
-- parameters as a decoded JSON object (raw; nil when the body is not one)
-- or decoded pairs (a GET's query, a v1 form). Raises nothing: handle()
-- refuses what is wrong in the order the gateway checks it. Fills in the
-- call's action, key (KeyId, else the one inside CiphertextBlob) and
-- caller (the SecretId).
function M.parse(req, call)
  local legacy_style = is_v1(req)
  local p = { v1 = legacy_style }
  local big = oversized(req, legacy_style) ~= nil
  if legacy_style then
    p.pairs = big and {} or util.parse_query(req.method == "GET" and req.query or req.body)
    p.common, p.rest = v1.split(p.pairs)
    call.action, call.caller = p.common.Action, p.common.SecretId
  else
    call.action = req.headers["x-tc-action"]
    local header = req.headers.authorization
    p.auth = header and auth.parse(header)
    call.caller = p.auth and p.auth.secret_id
    if req.method == "GET" then
      p.pairs = big and {} or util.parse_query(req.query)
    elseif req.body == "" then
      p.raw = {}
    elseif not big then
      p.raw = util.decode_object(req.body)
    end
  end
  local id = M.param(p, "KeyId")
  if id == nil and CIPHERTEXT_ACTIONS[call.action] then
    id = blob.key_of(M.param(p, "CiphertextBlob"))
  end
  call.key_id = id
  return p
end

-- A top-level parameter's string value: a JSON string field, or a pair.
function M.param(p, name)
  if p.raw then
    local v = p.raw[name]
    return type(v) == "string" and v or nil
  end
  return p.pairs and pair(p.pairs, name)
end

function M.handle(world, req, p, call)
  local ok, out = pcall(dispatch, world, req, p, call)
  if ok then
    out.RequestId = util.uuid()
    return respond(out)
  end
  if not errors.is(out) then
    io.stderr:write("kmsemu: tencent ", tostring(call.action), ": ", tostring(out), "\n")
    out = { code = "InternalError", vendor = true }
  end
  return M.fail(out, call)
end

-- The id the answer carries (Response.RequestId), for the journal and
-- the log.
function M.request_id(res)
  local r = type(res.json) == "table" and res.json.Response
  return type(r) == "table" and type(r.RequestId) == "string" and r.RequestId or nil
end

-- The code and message of an answer a hook changed (Response.Error).
function M.error_of(res)
  local doc = res.json or util.decode_object(res.body or "")
  local r = doc and doc.Response
  local e = type(r) == "table" and r.Error
  if type(e) ~= "table" then
    return nil
  end
  return type(e.Code) == "string" and e.Code or nil, type(e.Message) == "string" and e.Message or nil
end

M.scenario = require "kmsemu.dialect.tencent.scenario"
M.client = util.later "kmsemu.dialect.tencent.client"

-- The start-up banner's line for credentials.tencent.
function M.endpoint(c, url)
  return ("  tencent  %s/  region %s  SecretId %s  SecretKey %s"):format(url, c.region, c.secret_id, c.secret_key)
end

return M
