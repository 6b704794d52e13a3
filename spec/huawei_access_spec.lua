-- Who may do what in the Huawei dialect: grants (created, listed,
-- revoked, retired, and enforced for a grantee principal), IAM tokens
-- (issued by POST /v3/auth/tokens or fixed by the scenario) and their
-- project scope.
local client = require "support.client"
local huawei = require "support.huawei"
local cjson = require "cjson"
local kmsemu = require "kmsemu"

local P = client.HUAWEI.project_id
local AES = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
local SM4 = "5f3c2a10-6b7d-4e8f-9a01-23456789abcd"
local DEFAULT_KEY = "c0000001-0000-4000-8000-000000000001"
local PENDING_DELETION = "8a9b0c1d-2e3f-4051-8617-28394a5b6c7d"
local OWNER_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
local GRANTEE_ID = "b1b2b3b4b5b6b7b8b9babbbcbdbebfb0"
local GRANTEE = { ak = "HWAKGRANTEE000000000", sk = "HWSKGRANTEEsecret000000000000000000000", project_id = P }

local function call(action, body, opts)
  return client.huawei_call(kmsemu, action, body, opts)
end

local function as_grantee(action, body)
  return call(action, body, { creds = GRANTEE })
end

local assert_error = huawei.assert_error

local function grant(fields)
  fields.key_id = fields.key_id or AES
  fields.grantee_principal = fields.grantee_principal or GRANTEE_ID
  local status, r = call("create-grant", fields)
  assert.are.equal(200, status, cjson.encode(r))
  return r.grant_id
end

before_each(function()
  assert(kmsemu.start { scenario = "scenarios/huawei.lua" } == nil)
end)

describe("huawei create-grant and list-grants", function()
  it("creates a grant with a 64-hex id and lists it with every field", function()
    local id = grant { operations = { "encrypt-data", "describe-key" }, name = "app-grant",
      retiring_principal = GRANTEE_ID }
    assert.matches("^" .. ("%x"):rep(64) .. "$", id)
    local status, r, res = call("list-grants", { key_id = AES })
    assert.are.equal(200, status)
    assert.matches('"total":1', res.body)
    assert.are.equal("false", r.truncated)
    assert.are.equal("", r.next_marker)
    local g = r.grants[1]
    assert.are.same({ key_id = AES, grant_id = id, grantee_principal = GRANTEE_ID,
      grantee_principal_type = "user", operations = { "encrypt-data", "describe-key" },
      issuing_principal = OWNER_ID, creation_date = g.creation_date, name = "app-grant",
      retiring_principal = GRANTEE_ID }, g)
    assert.matches("^%d+000$", g.creation_date)
  end)

  it("pages grants", function()
    for _ = 1, 3 do
      grant { operations = { "encrypt-data" } }
    end
    local _, r = call("list-grants", { key_id = AES, limit = "2" })
    assert.are.equal(2, #r.grants)
    assert.are.equal("true", r.truncated)
    assert.are.equal("2", r.next_marker)
    assert.are.equal(3, r.total)
    local _, empty, res = call("list-grants", { key_id = SM4 })
    assert.are.equal(0, empty.total)
    assert.matches('"grants":%[%]', res.body)
  end)

  it("refuses bad grants with their codes", function()
    local function try(f)
      f.key_id = f.key_id or AES
      return call("create-grant", f)
    end
    assert_error(400, "KMS.2401", try { grantee_principal = GRANTEE_ID, operations = { "create-grant" } })
    assert_error(400, "KMS.0308", try { grantee_principal = GRANTEE_ID, operations = { "sign" } })
    assert_error(400, "KMS.0308", try { grantee_principal = GRANTEE_ID, operations = {} })
    assert_error(400, "KMS.2402", try { grantee_principal = "not valid!", operations = { "encrypt-data" } })
    assert_error(400, "KMS.2402", try { grantee_principal = ("a"):rep(65), operations = { "encrypt-data" } })
    assert_error(400, "KMS.0308", try { grantee_principal = GRANTEE_ID, operations = { "encrypt-data" },
      grantee_principal_type = "group" })
    assert_error(400, "KMS.0204", try { operations = { "encrypt-data" } })
    assert_error(400, "KMS.0211", try { key_id = DEFAULT_KEY, grantee_principal = GRANTEE_ID,
      operations = { "encrypt-data" } })
    assert_error(400, "KMS.0210", try { key_id = PENDING_DELETION, grantee_principal = GRANTEE_ID,
      operations = { "encrypt-data" } })
  end)

  it("stops at 100 grants per key with KMS.2404", function()
    for _ = 1, 100 do
      grant { operations = { "encrypt-data" } }
    end
    assert_error(400, "KMS.2404", call("create-grant", { key_id = AES, grantee_principal = GRANTEE_ID,
      operations = { "encrypt-data" } }))
    local _, q = call("user-quotas", "", { method = "GET" })
    assert.are.equal(100, q.quotas.resources[2].used)
  end)
end)

describe("huawei revoke-grant and retire-grant", function()
  it("revokes a grant, answering {}", function()
    local id = grant { operations = { "encrypt-data" } }
    local status, r = call("revoke-grant", { key_id = AES, grant_id = id })
    assert.are.equal(200, status)
    assert.are.same({}, r)
    assert.are.equal(0, select(2, call("list-grants", { key_id = AES })).total)
  end)

  it("refuses a malformed grant id (KMS.2501) and one of another key (KMS.2502)", function()
    local id = grant { operations = { "encrypt-data" } }
    assert_error(400, "KMS.2501", call("revoke-grant", { key_id = AES, grant_id = "abc" }))
    assert_error(400, "KMS.2502", call("revoke-grant", { key_id = SM4, grant_id = id }))
    assert_error(400, "KMS.2502", call("retire-grant", { key_id = AES, grant_id = ("0"):rep(64) }))
  end)

  it("lets the retiring principal list and retire its grants", function()
    local id = grant { operations = { "encrypt-data" }, retiring_principal = GRANTEE_ID }
    grant { key_id = SM4, operations = { "encrypt-data" } }
    local status, r = as_grantee("list-retirable-grants", {})
    assert.are.equal(200, status)
    assert.are.equal(1, r.total)
    assert.are.equal(id, r.grants[1].grant_id)
    assert.are.equal(0, select(2, call("list-retirable-grants", {})).total)
    status = as_grantee("retire-grant", { key_id = AES, grant_id = id })
    assert.are.equal(200, status)
    assert.are.equal(0, select(2, call("list-grants", { key_id = AES })).total)
  end)

  it("refuses retirement by a grantee that neither retires nor holds retire-grant", function()
    local id = grant { operations = { "encrypt-data" } }
    assert_error(403, "KMS.0306", as_grantee("retire-grant", { key_id = AES, grant_id = id }))
    local id2 = grant { operations = { "encrypt-data", "retire-grant" } }
    assert.are.equal(200, (as_grantee("retire-grant", { key_id = AES, grant_id = id2 })))
  end)
end)

describe("huawei grant enforcement for a grantee principal", function()
  it("refuses every call no grant covers with 403 KMS.0306", function()
    assert_error(403, "KMS.0306", as_grantee("encrypt-data", { key_id = AES, plain_text = "x" }))
    assert_error(403, "KMS.0306", as_grantee("describe-key", { key_id = AES }))
    assert_error(403, "KMS.0306", as_grantee("list-keys", {}))
    assert_error(403, "KMS.0306", as_grantee("create-key", { key_alias = "mine" }))
  end)

  it("allows exactly the granted operations on the granted key", function()
    grant { operations = { "encrypt-data", "create-datakey" } }
    local status, c = as_grantee("encrypt-data", { key_id = AES, plain_text = "via grant" })
    assert.are.equal(200, status)
    assert.are.equal(200, (as_grantee("create-datakey", { key_id = AES })))
    assert_error(403, "KMS.0306", as_grantee("decrypt-data", { cipher_text = c.cipher_text }))
    assert_error(403, "KMS.0306", as_grantee("encrypt-data", { key_id = SM4, plain_text = "x" }))
    assert_error(403, "KMS.0306", as_grantee("disable-key", { key_id = AES }))
    grant { operations = { "decrypt-data" } }
    local _, d = as_grantee("decrypt-data", { cipher_text = c.cipher_text })
    assert.are.equal("via grant", d.plain_text)
  end)

  it("honours a grant to the grantee's domain", function()
    local domain = "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    grant { grantee_principal = domain, grantee_principal_type = "domain", operations = { "describe-key" } }
    assert.are.equal(200, (as_grantee("describe-key", { key_id = AES })))
  end)

  it("loses access once the grant is revoked", function()
    local id = grant { operations = { "describe-key" } }
    assert.are.equal(200, (as_grantee("describe-key", { key_id = AES })))
    call("revoke-grant", { key_id = AES, grant_id = id })
    assert_error(403, "KMS.0306", as_grantee("describe-key", { key_id = AES }))
  end)
end)

-- POST /v3/auth/tokens as IAM takes it.
local function issue(identity, project)
  local body = { auth = { identity = identity, scope = project and { project = { id = project } } or nil } }
  local res = kmsemu.handle { method = "POST", path = "/v3/auth/tokens", query = "",
    headers = { ["content-type"] = "application/json" }, body = cjson.encode(body) }
  return res, cjson.decode(res.body)
end

local function password(name, pw, domain)
  return { methods = { "password" }, password = { user = { name = name, password = pw,
    domain = domain and { name = domain } or nil } } }
end

describe("huawei IAM tokens", function()
  it("issues a token for a password, in X-Subject-Token with 201", function()
    local res, body = issue(password("owner", "owner-password", "kmsemu-domain"), P)
    assert.are.equal(201, res.status)
    local token = res.headers["X-Subject-Token"]
    assert.matches("^MII", token)
    assert.are.same({ "password" }, body.token.methods)
    assert.are.equal(OWNER_ID, body.token.user.id)
    assert.are.equal(P, body.token.project.id)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT", body.token.expires_at)
    local status, r = call("describe-key", { key_id = AES }, { token = token })
    assert.are.equal(200, status)
    assert.are.equal(AES, r.key_info.key_id)
  end)

  it("issues a token for an AK/SK pair", function()
    local res = issue({ methods = { "hw_ak_sk" }, hw_ak_sk = { access = { key = client.HUAWEI.ak },
      secret = { key = client.HUAWEI.sk } } }, P)
    assert.are.equal(201, res.status)
    assert.are.equal(200, (call("list-keys", {}, { token = res.headers["X-Subject-Token"] })))
  end)

  it("refuses a wrong password or secret with IAM's 401", function()
    local res, body = issue(password("owner", "wrong"), P)
    assert.are.equal(401, res.status)
    assert.are.equal(401, body.error.code)
    assert.is_string(body.error.message)
    assert.is_nil(res.headers["X-Subject-Token"])
    res = issue({ methods = { "hw_ak_sk" }, hw_ak_sk = { access = { key = client.HUAWEI.ak },
      secret = { key = "nope" } } }, P)
    assert.are.equal(401, res.status)
    res = issue(password("owner", "owner-password", "other-domain"), P)
    assert.are.equal(401, res.status)
    res = kmsemu.handle { method = "POST", path = "/v3/auth/tokens", query = "", headers = {}, body = "{}" }
    assert.are.equal(400, res.status)
  end)

  it("accepts the scenario's fixed tokens, a grantee's included", function()
    assert.are.equal(200, (call("list-keys", {}, { token = "MIIfixed-owner-token" })))
    assert_error(403, "KMS.0306", call("list-keys", {}, { token = "MIIfixed-grantee-token" }))
  end)

  it("refuses an unknown token, an expired one, and one of another project", function()
    local status, body = call("list-keys", {}, { token = "MIIforged" })
    assert.are.equal(401, status)
    assert.are.equal("APIGW.0301", body.error_code)
    assert.matches("decrypt token fail", body.error_msg)
    local res = issue(password("owner", "owner-password"), P)
    local token = res.headers["X-Subject-Token"]
    local util = require "kmsemu.util"
    local now = util.now
    util.now = function() return now() + 86401 end
    local ok, err = pcall(function()
      local s, b = call("list-keys", {}, { token = token })
      assert.are.equal(401, s)
      assert.matches("token expires", b.error_msg)
    end)
    util.now = now
    assert(ok, err)
    assert_error(403, "KMS.0321", call("list-keys", {}, { token = token,
      project_id = "ffffffffffffffffffffffffffffffff" }))
  end)
end)
