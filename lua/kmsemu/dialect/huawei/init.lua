-- Huawei Cloud KMS, API v1.0: /v1.0/{project_id}/kms/... with JSON bodies in
-- snake_case, numbers carried as strings, signed with SDK-HMAC-SHA256 or
-- carrying an IAM token. Keys belong to the project named in the path.
--
-- This file is the index: the route table, and the envelope every answer
-- shares (X-Request-Id, nested KMS errors, flat gateway errors). The
-- operations live in the modules the table names.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local util = require "kmsemu.util"
local access_points = util.later "kmsemu.dialect.huawei.access_points"
local aliases = util.later "kmsemu.dialect.huawei.aliases"
local auth = require "kmsemu.dialect.huawei.auth"
local blob = require "kmsemu.dialect.huawei.blob"
local capsules = util.later "kmsemu.dialect.huawei.capsules"
local context = require "kmsemu.dialect.huawei.context"
local crypto = require "kmsemu.dialect.huawei.crypto"
local grants = require "kmsemu.dialect.huawei.grants"
local iam = require "kmsemu.dialect.huawei.iam"
local import = util.later "kmsemu.dialect.huawei.import"
local keys = require "kmsemu.dialect.huawei.keys"
local keystores = require "kmsemu.dialect.huawei.keystores"
local params = require "kmsemu.dialect.huawei.params"
local policies = util.later "kmsemu.dialect.huawei.policies"
local regions = util.later "kmsemu.dialect.huawei.regions"
local render = require "kmsemu.dialect.huawei.errors"
local rotation = util.later "kmsemu.dialect.huawei.rotation"
local sign = util.later "kmsemu.dialect.huawei.sign"
local tags = util.later "kmsemu.dialect.huawei.tags"
local versions = util.later "kmsemu.dialect.huawei.versions"

local M = {}

-- Every operation: its name (the path's action, or the SDK's name where
-- the path has none), method, path under its API's base ({x} matches one
-- segment), handler, and the success status when not 200. `api`: the base,
-- "kms" /v1.0/{project_id}/kms/ (the default), "project" /v1.0/{project_id}/
-- or "v2" /v2/{project_id}/kms/. `tail`: the last {x} takes the rest of the
-- path, as a tag key with a "/" (%2F on the wire) reaches it decoded.
-- `bodyless`: a POST the SDKs send without a body.
-- `coverage` is what README's table says of it (spec/coverage_huawei_spec).
local function route(op, method, path, run, extra)
  local r = { op = op, method = method, path = path, run = run, status = 200, coverage = "supported",
              api = "kms" }
  for k, v in pairs(extra or {}) do
    r[k] = v
  end
  return r
end

-- The gateway's 429 says when to come back; the SDK's HTTP stack honours it.
M.RETRY_AFTER = true

M.ROUTES = {
  route("create-key", "POST", "create-key", keys.create),
  route("describe-key", "POST", "describe-key", keys.describe),
  route("list-keys", "POST", "list-keys", keys.list),
  route("enable-key", "POST", "enable-key", keys.enable),
  route("disable-key", "POST", "disable-key", keys.disable),
  route("schedule-key-deletion", "POST", "schedule-key-deletion", keys.schedule_deletion),
  route("cancel-key-deletion", "POST", "cancel-key-deletion", keys.cancel_deletion),
  route("update-key-alias", "POST", "update-key-alias", keys.update_alias),
  route("update-key-description", "POST", "update-key-description", keys.update_description),
  route("user-instances", "GET", "user-instances", keys.user_instances),
  route("user-quotas", "GET", "user-quotas", keys.user_quotas),
  route("create-alias", "POST", "aliases", aliases.create, { coverage = "differs" }),
  route("delete-alias", "DELETE", "aliases", aliases.delete, { coverage = "differs" }),
  route("list-aliases", "GET", "aliases", aliases.list, { coverage = "differs" }),
  route("associate-alias", "POST", "alias/associate", aliases.associate, { coverage = "differs" }),
  route("create-datakey", "POST", "create-datakey", crypto.create_datakey),
  route("create-datakey-without-plaintext", "POST", "create-datakey-without-plaintext",
    crypto.create_datakey_without_plaintext),
  route("encrypt-datakey", "POST", "encrypt-datakey", crypto.encrypt_datakey),
  route("decrypt-datakey", "POST", "decrypt-datakey", crypto.decrypt_datakey),
  route("encrypt-data", "POST", "encrypt-data", crypto.encrypt_data),
  route("decrypt-data", "POST", "decrypt-data", crypto.decrypt_data),
  route("re-encrypt", "POST", "re-encrypt", crypto.re_encrypt),
  route("gen-random", "POST", "gen-random", crypto.gen_random),
  route("create-rsa-datakey-pair", "POST", "create-rsa-datakey-pair", crypto.create_rsa_datakey_pair),
  route("create-ec-datakey-pair", "POST", "create-ec-datakey-pair", crypto.create_ec_datakey_pair,
    { coverage = "differs" }),
  route("get-publickey", "POST", "get-publickey", sign.public_key),
  route("sign", "POST", "sign", sign.sign, { coverage = "differs" }),
  route("verify", "POST", "verify", sign.verify, { coverage = "differs" }),
  route("derive-shared-secret", "POST", "derive-shared-secret", sign.derive_shared_secret,
    { coverage = "differs" }),
  route("generate-mac", "POST", "generate-mac", sign.generate_mac),
  route("verify-mac", "POST", "verify-mac", sign.verify_mac),
  route("enable-key-rotation", "POST", "enable-key-rotation", rotation.enable),
  route("disable-key-rotation", "POST", "disable-key-rotation", rotation.disable),
  route("get-key-rotation-status", "POST", "get-key-rotation-status", rotation.status),
  route("update-key-rotation-interval", "POST", "update-key-rotation-interval", rotation.update_interval),
  route("rotate-on-demand", "POST", "rotate-on-demand", rotation.rotate_on_demand),
  route("get-parameters-for-import", "POST", "get-parameters-for-import", import.parameters),
  route("import-key-material", "POST", "import-key-material", import.import, { coverage = "differs" }),
  route("delete-imported-key-material", "POST", "delete-imported-key-material", import.delete),
  route("create-grant", "POST", "create-grant", grants.create),
  route("list-grants", "POST", "list-grants", grants.list),
  route("list-retirable-grants", "POST", "list-retirable-grants", grants.list_retirable),
  route("revoke-grant", "POST", "revoke-grant", grants.revoke),
  route("retire-grant", "POST", "retire-grant", grants.retire),
  route("list-kms-tags", "GET", "tags", tags.project),
  route("list-kms-by-tags", "POST", "resource_instances/action", tags.resource_instances),
  route("create-kms-tag", "POST", "{key_id}/tags", tags.create, { status = 204 }),
  route("batch-create-kms-tags", "POST", "{key_id}/tags/action", tags.batch, { status = 204 }),
  route("show-kms-tags", "GET", "{key_id}/tags", tags.show),
  route("delete-tag", "DELETE", "{key_id}/tags/{tag}", tags.delete, { status = 204, tail = true }),
  route("create-key-store", "POST", "keystores", keystores.create, { api = "project" }),
  route("list-key-stores", "GET", "keystores", keystores.list, { api = "project", coverage = "differs" }),
  route("show-key-store", "GET", "keystores/{keystore_id}", keystores.show, { api = "project" }),
  route("delete-key-store", "DELETE", "keystores/{keystore_id}", keystores.delete, { api = "project" }),
  route("enable-key-store", "POST", "keystores/{keystore_id}/enable", keystores.enable,
    { api = "project", bodyless = true, coverage = "differs" }),
  route("disable-key-store", "POST", "keystores/{keystore_id}/disable", keystores.disable,
    { api = "project", bodyless = true, coverage = "differs" }),
  route("create-pin", "POST", "create-pin", keystores.create_pin, { coverage = "differs" }),
  route("create-key-policy", "POST", "key-policies", policies.create),
  route("list-key-policy", "GET", "key-policies", policies.list),
  route("show-key-policy", "GET", "key-policies/{policy_id}", policies.show),
  route("update-key-policy", "PUT", "key-policies/{policy_id}", policies.update),
  route("delete-key-policy", "DELETE", "key-policies/{policy_id}", policies.delete),
  route("create-access-point", "POST", "access-points", access_points.create),
  route("list-access-point", "GET", "access-points", access_points.list),
  route("delete-access-point", "DELETE", "access-points/{access_point_id}", access_points.delete),
  route("enable-access-point", "POST", "access-points/{access_point_id}/enable", access_points.enable,
    { bodyless = true }),
  route("disable-access-point", "POST", "access-points/{access_point_id}/disable", access_points.disable,
    { bodyless = true }),
  route("download-access-point-private-key", "POST", "access-points/{access_point_id}/get-privatekey",
    access_points.private_key_of, { coverage = "differs", bodyless = true }),
  route("create-datakey-capsule", "POST", "datakey-capsule/create", capsules.create, { coverage = "differs" }),
  route("decrypt-datakey-capsule", "POST", "datakey-capsule/decrypt", capsules.decrypt,
    { coverage = "differs" }),
  route("list-support-regions", "GET", "regions", regions.list, { api = "v2", coverage = "differs" }),
  route("replicate-key", "POST", "keys/{key_id}/replicate", regions.replicate, { api = "v2" }),
  route("update-primary-region", "PUT", "keys/{key_id}/update-primary-region", regions.update_primary,
    { api = "v2", coverage = "differs" }),
}

-- Outside /v1.0/{project_id}/kms/, without KMS credentials.
M.ROOT_ROUTES = {
  { op = "show-versions", method = "GET", path = "/", coverage = "supported" },
  { op = "show-version", method = "GET", path = "/{version_id}", coverage = "supported" },
  { op = "iam-tokens", method = "POST", path = "/v3/auth/tokens", coverage = "differs" },
}

local function segments(s)
  local out = {}
  for seg in s:gmatch("[^/]+") do
    out[#out + 1] = seg
  end
  return out
end

-- Routes by method and segment count, in their order, each segment a
-- literal or, in r.names, the name of its {x}: this runs on every request,
-- so nothing is parsed then but the request's own path. Tail routes are
-- matched apart, by a pattern, after every other.
local by_shape, tails = {}, {}
for _, r in ipairs(M.ROUTES) do
  r.segments = segments(r.path)
  r.names = {}
  local pattern = {}
  for i, seg in ipairs(r.segments) do
    r.names[i] = seg:match("^{(.+)}$") or false
    pattern[i] = not r.names[i] and seg:gsub("%p", "%%%0") or (i == #r.segments and "(.+)" or "([^/]+)")
  end
  if r.tail then
    r.pattern = "^" .. table.concat(pattern, "/") .. "$"
    tails[#tails + 1] = r
  else
    local shape = r.api .. " " .. r.method .. " " .. #r.segments
    by_shape[shape] = by_shape[shape] or {}
    table.insert(by_shape[shape], r)
  end
end

-- The route whose path matches `rest`, with its {x} captures, the first in
-- declaration order. Captures are the path as civetweb decoded it.
local function scan(api, method, rest)
  local segs = segments(rest)
  for _, r in ipairs(by_shape[api .. " " .. method .. " " .. #segs] or {}) do
    local params, ok = {}, true
    for i, want in ipairs(r.segments) do
      local name = r.names[i]
      if name then
        params[name] = segs[i]
      elseif want ~= segs[i] then
        ok = false
        break
      end
    end
    if ok then
      return r, params
    end
  end
  for _, r in ipairs(tails) do
    local caps = r.api == api and r.method == method and table.pack(rest:match(r.pattern))
    if caps and caps[1] ~= nil then
      local params, n = {}, 0
      for i, name in ipairs(r.names) do
        if name then
          n = n + 1
          params[name] = caps[n]
        end
      end
      return r, params
    end
  end
end

-- Whether route a, in the scan, would take route b's own path.
local function takes(a, b)
  for i, want in ipairs(a.segments) do
    if not a.names[i] and want ~= b.segments[i] then
      return false
    end
  end
  return true
end

-- Routes without {x}, by "METHOD path" as a request spells them: most
-- calls (create-datakey, encrypt-data, ...) are one of these, and the scan
-- went through up to 40 routes of the same shape. Only a route that no
-- earlier route of its shape takes is listed, so both ways agree (two
-- literal routes never share a path, so only routes with {x} can).
local NO_PARAMS = setmetatable({}, { __newindex = error }) -- shared: read only
local literal = {}
for _, list in pairs(by_shape) do
  local with_params = {}
  for _, r in ipairs(list) do
    if r.path:find("{", 1, true) then
      with_params[#with_params + 1] = r
    else
      local first = true
      for _, earlier in ipairs(with_params) do
        first = first and not takes(earlier, r)
      end
      if first then
        literal[r.api .. " " .. r.method .. " " .. r.path] = r
      end
    end
  end
end

-- The route for a request's method and path below /kms/ and its {x}
-- captures, or nil (the gateway's 404 for both a wrong method and an
-- unknown path).
local function match(api, method, rest)
  local r = literal[api .. " " .. method .. " " .. rest]
  if r then
    return r, NO_PARAMS
  end
  return scan(api, method, rest)
end

-- A KMS path's project, API base and the rest of the path below it.
local BASES = {
  { "^/v1%.0/([^/]+)/kms/(.+)$", "kms" },
  { "^/v2/([^/]+)/kms/(.+)$", "v2" },
  { "^/v1%.0/([^/]+)/(keystores.*)$", "project" },
}

local function base_of(path)
  for _, b in ipairs(BASES) do
    local project, rest = path:match(b[1])
    if project then
      return project, b[2], rest
    end
  end
end

M.NAME = "huawei"

-- The gateway answers every path: those it does not know with its 404.
function M.claims()
  return true
end

-- The gateway refuses a body over 12 MB before anything else; kmsemu's
-- --max-body huawei=BYTES changes the figure. req.oversize: the core did
-- not keep a body over its own --max-body.
M.DEFAULT_MAX_BODY = 12 * 1024 * 1024
M.MAX_BODY = M.DEFAULT_MAX_BODY

local function too_big(req)
  return req.oversize or #req.body > M.MAX_BODY
end

-- Operations that may name their key only through the ciphertext.
local CIPHERTEXT_OPS = { ["decrypt-data"] = true, ["decrypt-datakey"] = true, ["re-encrypt"] = true }

-- Reads a KMS request once: its project, route and path captures, its
-- body decoded (nil and malformed = true when it is not a JSON object),
-- its signature's fields. Raises nothing: handle() refuses what is wrong
-- in the order the cloud checks it. Fills in the call's action, key (in
-- the body, else in its ciphertext or the path) and caller (the AK).
function M.parse(req, call)
  local p = { query = req.query }
  local header = req.headers.authorization
  p.auth = header and auth.parse(header)
  call.caller = p.auth and p.auth.ak
  local project, api, rest = base_of(req.path)
  if not project then
    return p -- the version documents, IAM's token call, or the gateway's 404
  end
  p.project = project
  local r, params = match(api, req.method, rest)
  if not r then
    return p
  end
  p.route, p.params, call.action = r, params, r.op
  local optional = req.method == "DELETE" or r.bodyless
  if (req.method == "POST" or req.method == "PUT" or req.method == "DELETE") and not (optional and req.body == "")
      and not too_big(req) then
    p.body = util.decode_object(req.body)
    p.malformed = p.body == nil
  end
  local b = p.body
  local id = b and b.key_id
  if type(id) ~= "string" then
    id = params.key_id
    if id == nil and b and CIPHERTEXT_OPS[r.op] then
      id = blob.key_of(b.cipher_text)
    end
  end
  call.key_id = id
  return p
end

-- A body parameter (a JSON string field) or, without one, a query one.
function M.param(p, name)
  local v = p.body and p.body[name]
  if type(v) == "string" then
    return v
  end
  for _, kv in ipairs(util.parse_query(p.query)) do
    if kv[1] == name then
      return kv[2]
    end
  end
end

local function body_of(p)
  if p.malformed then
    errors.raise("MALFORMED_BODY")
  end
  local b = p.body
  if not b then
    return {}
  end
  local seq = b.sequence
  if seq ~= nil and (type(seq) ~= "string" or #seq ~= 36) then
    errors.vendor("KMS.0206")
  end
  return b
end

-- The gateway answers an unknown path or method before it looks at the
-- credentials; KMS validates the body after them.
local function dispatch(world, req, p)
  local r = p.route
  if not r then
    errors.raise("UNKNOWN_ACTION")
  end
  local principal = iam.authenticate(world, req, p.project, util.now(), p.auth)
  if principal.grantee and not grants.GRANTEE_ACTIONS[r.op] then
    errors.vendor("KMS.0306")
  end
  local ctx = context.new(world, p.project, principal, r.op)
  return r.run(ctx, body_of(p), p.params, req.query)
end

local function request_id()
  return core.hex(core.random(16))
end

local function answer(status, headers, doc)
  if doc == nil then
    return { status = status, headers = headers, body = "" }
  end
  return { status = status, headers = headers, json = doc }
end

local function fail(e, headers, call)
  if not errors.is(e) then
    io.stderr:write("kmsemu: huawei ", tostring(call.action), ": ", tostring(e), "\n")
    e = { code = "KMS.0101", vendor = true }
  end
  local status, doc
  status, doc, call.error, call.message = render.render(e, headers["X-Request-Id"])
  call.diagnostic = e.diagnostic
  return answer(status, headers, doc)
end

-- GET / and GET /{version}, and IAM's token call; nil for anything else.
local function root(world, req, headers, call)
  if req.method == "GET" and req.path == "/" then
    return answer(200, headers, versions.list(req))
  end
  local version = req.method == "GET" and req.path:match("^/(v[%d.]+)/?$")
  if version then
    local ok, out = pcall(versions.show, req, version)
    return ok and answer(200, headers, out) or fail(out, headers, call)
  end
  if req.method == "POST" and req.path == "/v3/auth/tokens" then
    local out = iam.issue(world, req)
    for k, v in pairs(out.headers or {}) do
      headers[k] = v
    end
    return answer(out.status, headers, out.body)
  end
end

local function new_headers()
  return { ["Content-Type"] = "application/json", ["X-Request-Id"] = request_id() }
end

-- A whole error response for a raised error table (an injected fault).
function M.fail(e, call)
  return fail(e, new_headers(), call)
end

-- The id the answer carries (X-Request-Id), for the journal and the log.
function M.request_id(res)
  return res.headers and res.headers["X-Request-Id"]
end

function M.handle(world, req, p, call)
  local headers = new_headers()
  if too_big(req) then
    return fail(errors.new("APIGW.0201", nil, true), headers, call)
  end
  local r = root(world, req, headers, call)
  if r then
    return r
  end
  local ok, out = pcall(dispatch, world, req, p)
  if not ok then
    return fail(out, headers, call)
  end
  if p.route.status == 204 then
    return answer(204, headers, nil)
  end
  return answer(200, headers, out)
end

-- The code and message of an answer a hook changed: nested KMS errors
-- and the gateway's flat ones alike.
function M.error_of(res)
  if res.status < 400 then
    return nil
  end
  local doc = res.json or util.decode_object(res.body or "")
  local e = doc and (type(doc.error) == "table" and doc.error or doc)
  if not e then
    return nil
  end
  local code, msg = e.error_code, e.error_msg
  return type(code) == "string" and code or nil, type(msg) == "string" and msg or nil
end

local OPS, OP_NAMES = {}, {}
for _, r in ipairs(M.ROUTES) do
  OPS[r.op], OP_NAMES[#OP_NAMES + 1] = true, r.op
end

function M.known(action)
  return OPS[action] ~= nil
end

function M.action_names()
  return OP_NAMES
end

-- Neutral names follow from the path ("describe-key": describe_key), but
-- for the operations both clouds share under other names.
local NEUTRAL = {
  ["create-datakey"] = "generate_data_key", ["encrypt-data"] = "encrypt", ["decrypt-data"] = "decrypt",
  ["gen-random"] = "generate_random", ["get-publickey"] = "get_public_key",
}

function M.neutral(native)
  return NEUTRAL[native] or (native:gsub("%-", "_"))
end

-- Key ids as the SDK models' pattern has them.
M.is_key_id = params.is_key_id
M.KEY_ID_SHAPE = "8-4-4-4-12 lower-case letters and digits"

function M.error_info(code)
  return render.info(code)
end

local CODES = util.sorted_keys(render.CATALOG)

function M.error_codes()
  return CODES
end

M.FAULT_CODES = { throttled = "APIGW.0308", internal = "KMS.0101", unavailable = "APIGW.0202",
                  timeout = "APIGW.0203" }

-- KMS messages never name the key.
function M.fault_error(code)
  return errors.new(code, nil, true)
end

M.default_deletion_date = keys.default_deletion_date

M.scenario = require "kmsemu.dialect.huawei.scenario"
M.client = util.later "kmsemu.dialect.huawei.client"

-- The start-up banner's line for credentials.huawei.
function M.endpoint(c, url)
  return ("  huawei   %s/v1.0/%s/kms/...  AK %s  SK %s"):format(url, c.project_id or "{project_id}", c.ak, c.sk)
end

return M
