-- Who a request comes from. Two ways in, as on the cloud: an AK/SK
-- signature (auth.lua), or an X-Auth-Token that IAM issued. IAM's token
-- call, POST /v3/auth/tokens, is emulated here too, so a client that logs
-- in with a password (or an AK/SK pair) gets a token kmsemu accepts.
--
-- Principals are the scenario's key owner (credentials.huawei) and its
-- huawei_user entries. Ids a scenario leaves out are derived from the AK,
-- so they are stable from run to run.
local core = require "kmsemu.core"
local errors = require "kmsemu.errors"
local util = require "kmsemu.util"
local auth = require "kmsemu.dialect.huawei.auth"
local context = require "kmsemu.dialect.huawei.context"

local M = {}

M.TOKEN_TTL = 86400 -- IAM tokens last 24 hours

local function derived_id(what, seed)
  return core.hex(core.digest("sha256", what .. "\0" .. seed)):sub(1, 32)
end

local function principal(u, owner)
  local seed = u.ak or u.name or u.user or "kmsemu"
  return {
    name = u.name or u.user or "kmsemu", ak = u.ak, sk = u.sk, password = u.password,
    token = u.token, grantee = u.grantee == true,
    project_id = u.project_id or (owner and owner.project_id),
    user_id = u.user_id or derived_id("user", seed),
    domain_id = u.domain_id or (owner and owner.domain_id) or derived_id("domain", seed),
    domain = u.domain or (owner and owner.domain) or "kmsemu",
  }
end

-- The world's principals, the key owner first.
function M.principals(world)
  local rt = context.runtime(world)
  if not rt.principals then
    local list = {}
    local creds = world.credentials.huawei
    if creds then
      list[1] = principal(creds)
    end
    for _, u in ipairs(world.huawei_users or {}) do
      list[#list + 1] = principal(u, list[1])
    end
    rt.principals = list
  end
  return rt.principals
end

local function find(world, field, value)
  for _, pr in ipairs(M.principals(world)) do
    if value ~= nil and pr[field] == value then
      return pr
    end
  end
end

-- A token: a scenario's fixed one (never expires, scoped to the
-- principal's project) or one issued by /v3/auth/tokens.
local function check_token(world, token, project, now)
  local t = context.runtime(world).tokens[token]
  if not t then
    local pr = find(world, "token", token)
    if not pr then
      errors.raise("AUTH_SIGNATURE", "decrypt token fail", ("X-Auth-Token (%d bytes) is neither one "
        .. "/v3/auth/tokens issued nor a scenario user's token"):format(#token))
    end
    t = { principal = pr, project_id = pr.project_id }
  end
  if t.expires and t.expires <= now then
    local at = os.date("!%Y-%m-%dT%H:%M:%SZ", t.expires)
    errors.raise("AUTH_EXPIRED", "token expires, expires_at: " .. at,
      ("X-Auth-Token of %s expired at %s (emulated clock %s)"):format(t.principal.name, at,
        os.date("!%Y-%m-%dT%H:%M:%SZ", now)))
  end
  if t.project_id ~= project then
    errors.vendor("KMS.0321", nil, nil, ("X-Auth-Token of %s is scoped to project %s, the path names %s")
      :format(t.principal.name, tostring(t.project_id), project))
  end
  return t.principal
end

-- The account's projects: its principals', its declared regions' and those its
-- scenario put keys in. IAM issues no project-scoped token for any other, so the gateway
-- turns an AK/SK request naming one away before KMS sees it.
local function account_projects(world)
  local rt = context.runtime(world)
  if not rt.projects then
    local set = {}
    for _, pr in ipairs(M.principals(world)) do
      set[pr.project_id or ""] = true
    end
    for _, key in pairs(world.keys.keys) do
      if key.dialect == "huawei" then
        set[key.owner] = true
      end
    end
    for _, r in ipairs(world.huawei_regions or {}) do
      set[r.project_id] = true
    end
    rt.projects = set
  end
  return rt.projects
end

-- The principal behind a KMS request for `project`, or a raised error.
-- a: its Authorization header as auth.parse read it (nil: none, or not
-- parsed).
function M.authenticate(world, req, project, now, a)
  local token = req.headers["x-auth-token"]
  if (req.headers.authorization or "") == "" and token and token ~= "" then
    return check_token(world, token, project, now)
  end
  local pr = a and find(world, "ak", a.ak)
  auth.verify(pr, req, util.wall(), a, function() -- the SDK signs with wall time
    local aks = {}
    for _, p in ipairs(M.principals(world)) do
      aks[#aks + 1] = p.ak
    end
    return aks
  end)
  local projects = account_projects(world)
  if not projects[project] then
    errors.raise("AUTH_SIGNATURE", "the project " .. project .. " is not in the account of AK " .. a.ak,
      ("project %s is not in the account of AK %s: its projects are %s"):format(project, a.ak,
        table.concat(util.sorted_keys(projects), ", ")))
  end
  return pr
end

-- Keystone's own error shape, which IAM keeps.
local function iam_error(status, title, message)
  return { status = status, body = { error = { code = status, title = title, message = message } } }
end

local function identity_of(world, identity)
  local methods = type(identity) == "table" and identity.methods
  local method = type(methods) == "table" and methods[1]
  if method == "password" then
    local user = ((identity.password or {}).user) or {}
    local pr = find(world, "name", user.name) or find(world, "user_id", user.id)
    local domain = type(user.domain) == "table" and user.domain.name
    if pr and pr.password and pr.password == user.password and (not domain or domain == pr.domain) then
      return pr, method
    end
  elseif method == "hw_ak_sk" then
    local v = identity.hw_ak_sk or {}
    local pr = find(world, "ak", (v.access or {}).key)
    if pr and pr.sk == (v.secret or {}).key then
      return pr, method
    end
  end
  return nil, method
end

local function token_body(pr, method, project, now, expires)
  local domain = { id = pr.domain_id, name = pr.domain }
  return { token = {
    methods = { method },
    issued_at = os.date("!%Y-%m-%dT%H:%M:%S.000000Z", now),
    expires_at = os.date("!%Y-%m-%dT%H:%M:%S.000000Z", expires),
    user = { id = pr.user_id, name = pr.name, domain = domain },
    project = project and { id = project, name = project, domain = domain } or nil,
    catalog = {}, roles = { { id = "0", name = "op_service" } },
  } }
end

-- POST /v3/auth/tokens. Answers 201 with the token in X-Subject-Token.
function M.issue(world, req)
  local b = util.decode_object(req.body)
  local a = b and type(b.auth) == "table" and b.auth
  if not a then
    return iam_error(400, "Bad Request", "The request you have made requires authentication.")
  end
  local pr, method = identity_of(world, a.identity)
  if not method then
    return iam_error(400, "Bad Request", "Invalid identity methods.")
  end
  if not pr then
    return iam_error(401, "Unauthorized", "The username or password is wrong.")
  end
  local scope = type(a.scope) == "table" and type(a.scope.project) == "table" and a.scope.project
  local project = scope and (scope.id or pr.project_id) or nil
  local now = util.now()
  local token = "MII" .. core.b64(core.random(96)):gsub("[+/=]", "x")
  context.runtime(world).tokens[token] = { principal = pr, project_id = project, expires = now + M.TOKEN_TTL }
  return { status = 201, headers = { ["X-Subject-Token"] = token },
           body = token_body(pr, method, project, now, now + M.TOKEN_TTL) }
end

return M
