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
local json = require "kmsemu.dialect.tencent.json"
local keys = require "kmsemu.dialect.tencent.keys"
local limits = require "kmsemu.dialect.tencent.limits"
local P = require "kmsemu.dialect.tencent.params"
local render = require "kmsemu.dialect.tencent.errors"
local v1 = require "kmsemu.dialect.tencent.v1"

local M = {}

M.VERSION = "2019-01-18"

-- Every action, from the modules of its group (section 13.1 to 13.7).
local ACTIONS = {}
for _, group in ipairs { "crypto", "keys", "listing", "rotation", "asymmetric",
    "import", "service", "binding" } do
  for name, action in pairs(require("kmsemu.dialect.tencent." .. group).ACTIONS) do
    assert(not ACTIONS[name], name)
    ACTIONS[name] = action
  end
end
M.ACTIONS = ACTIONS

-- Actions of the API that kmsemu does not emulate (sections 13.8 to
-- 13.10: hosted data keys, white-box keys, post-quantum). They answer
-- UnsupportedOperation rather than InvalidAction: they exist.
M.NOT_EMULATED = {}
for name in ([[
  ImportDataKey DescribeDataKey DescribeDataKeys ListDataKeys ListDataKeyDetail EnableDataKey
  DisableDataKey EnableDataKeys DisableDataKeys ScheduleDataKeyDeletion CancelDataKeyDeletion
  GetDataKeyPlaintext GetDataKeyCiphertextBlob UpdateDataKeyName UpdateDataKeyDescription
  CreateWhiteBoxKey DeleteWhiteBoxKey DescribeWhiteBoxKey DescribeWhiteBoxKeyDetails
  DescribeWhiteBoxDecryptKey DescribeWhiteBoxDeviceFingerprints OverwriteWhiteBoxDeviceFingerprints
  DescribeWhiteBoxServiceStatus EnableWhiteBoxKey DisableWhiteBoxKey EnableWhiteBoxKeys
  DisableWhiteBoxKeys EncryptByWhiteBox PostQuantumCryptoEncrypt PostQuantumCryptoDecrypt
  PostQuantumCryptoSign PostQuantumCryptoVerify
]]):gmatch("%S+") do
  M.NOT_EMULATED[name] = true
end

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
-- JSON object (POST) or flattened pairs in the query (GET).
local function tc3(creds, req, state)
  state.action = header(req, "x-tc-action")
  local timestamp = header(req, "x-tc-timestamp")
  local version = header(req, "x-tc-version")
  auth.verify(creds, req, timestamp, util.wall())
  local raw
  if req.method == "GET" then
    raw = P.unflatten(util.parse_query(req.query))
  elseif req.body == "" then
    raw = {}
  else
    raw = util.decode_object(req.body)
    if not raw then
      errors.raise("MALFORMED_BODY")
    end
  end
  return version, req.headers["x-tc-region"], raw
end

local function legacy(creds, req, state)
  local form = util.parse_query(req.method == "GET" and req.query or req.body)
  local common, rest = v1.verify(creds, req, form, util.wall(), state)
  return common.Version, common.Region, P.unflatten(rest)
end

-- Request size limits (API 3.0 call guide): 10 MB for a TC3 POST, 1 MB
-- for a v1 form POST, 32 KB for a GET. --max-body tencent=BYTES changes
-- the first; the others never exceed it.
M.DEFAULT_MAX_BODY = 10 * 1024 * 1024
M.MAX_BODY = M.DEFAULT_MAX_BODY
local V1_MAX_BODY, GET_MAX = 1024 * 1024, 32 * 1024

-- req.oversize: the core did not keep a body over its own --max-body;
-- that is over every limit here.
local function check_size(req)
  local size = req.oversize and math.huge or #req.body
  if req.method == "GET" then
    size = math.max(size, #req.path + #req.query + 1)
    if size > math.min(GET_MAX, M.MAX_BODY) then
      errors.vendor("RequestSizeLimitExceeded")
    end
  elseif is_v1(req) then
    if size > math.min(V1_MAX_BODY, M.MAX_BODY) then
      errors.vendor("AuthFailure.SignatureFailure", nil, render.V1_TOO_LARGE)
    end
  elseif size > M.MAX_BODY then
    errors.vendor("RequestSizeLimitExceeded")
  end
end

local function dispatch(world, req, state)
  local creds = world.credentials.tencent
  if req.method ~= "POST" and req.method ~= "GET" then
    errors.vendor("UnsupportedProtocol")
  end
  check_size(req)
  local version, region, raw = (is_v1(req) and legacy or tc3)(creds, req, state)
  local action = ACTIONS[state.action]
  if M.NOT_EMULATED[state.action] then
    errors.vendor("UnsupportedOperation", "kmsemu does not emulate " .. state.action .. ".")
  elseif not action then
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
  }
  limits.admit(world, ctx, state.action)
  return action.run(ctx, P.check(action.params, raw))
end

local HEADERS = { ["Content-Type"] = "application/json" }

local function respond(body)
  return { status = 200, headers = HEADERS, body = json.encode { Response = body } }
end

-- A whole error response for a raised error table (also an injected fault).
function M.fail(e, action)
  local code, message = render.render(action, e)
  return respond { Error = { Code = code, Message = message }, RequestId = util.uuid() }
end

M.NAME = "tencent"

-- Whether an action name is one of the API's, emulated or not.
function M.known(action)
  return ACTIONS[action] ~= nil or M.NOT_EMULATED[action] ~= nil
end

local ACTION_NAMES = {}
for _, set in ipairs { ACTIONS, M.NOT_EMULATED } do
  for name in pairs(set) do
    ACTION_NAMES[#ACTION_NAMES + 1] = name
  end
end
table.sort(ACTION_NAMES)

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

-- The key a call names (KeyId, else the one its CiphertextBlob carries)
-- and the SecretId it is signed with.
function M.describe(req, action)
  local id = util.field(req, "KeyId", "KeyId")
  if id == nil and CIPHERTEXT_ACTIONS[action] then
    id = blob.key_of(util.field(req, "CiphertextBlob", "CiphertextBlob"))
  end
  local auth = req.headers.authorization
  if not auth then
    return id, util.field(req, "SecretId", "SecretId")
  end
  local at = auth:find("Credential=", 1, true)
  return id, at and auth:match("^Credential=([^/,%s]+)", at)
end

-- The code and message of an error answer (Response.Error).
function M.error_of(res)
  local body = res.body
  local at = body:find('"Error":', 1, true)
  local err = at and body:match('^"Error"%s*:%s*(%b{})', at)
  if not err then
    return nil
  end
  return util.json_string(err, "Code"), util.json_string(err, "Message")
end

-- Every error is HTTP 200.
function M.error_info(code)
  local msg = render.CATALOG[code]
  if msg then
    return 200, msg
  end
end

local CODES = {}
for code in pairs(render.CATALOG) do
  CODES[#CODES + 1] = code
end
table.sort(CODES)

function M.error_codes()
  return CODES
end

M.FAULT_CODES = { throttled = "RequestLimitExceeded", internal = "InternalError",
                  unavailable = "ServiceUnavailable", timeout = "InternalError" }

function M.fault_error(code, key_id)
  return errors.new(code, render.NAMES_KEY[code] and key_id or nil, true)
end

M.default_deletion_date = keys.default_deletion_date

-- The action a request names (X-TC-Action, or a v1 Action parameter), or
-- nil; reads nothing else, changes nothing.
function M.action_of(req)
  if not is_v1(req) then
    return req.headers["x-tc-action"]
  end
  local form = req.method == "GET" and req.query or req.body
  local action = ("&" .. form):match("&Action=([^&]*)")
  return action and util.uri_decode(action)
end

function M.handle(world, req)
  local state = {}
  local ok, out = pcall(dispatch, world, req, state)
  if ok then
    out.RequestId = util.uuid()
    return respond(out)
  end
  if not errors.is(out) then
    io.stderr:write("kmsemu: tencent ", tostring(state.action), ": ", tostring(out), "\n")
    out = { code = "InternalError", vendor = true }
  end
  return M.fail(out, state.action)
end

return M
