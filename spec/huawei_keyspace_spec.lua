-- Huawei trusted keyspaces: key policies, access points and data-key
-- capsules, through the router; each error path.
local cjson = require "cjson"
local core = require "kmsemu.core"
local client = require "support.client"
local huawei = require "support.huawei"
local kmsemu = require "kmsemu"

local P = client.HUAWEI.project_id
local AES = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
local DISABLED = "7e1d2c3b-4a59-4687-9abc-def012345678"
local RSA_SIGN = "a0000001-0000-4000-8000-000000000001"
local KS = "11111111-2222-4333-8444-555555555555"
local MISSING = "99999999-2222-4333-8444-555555555555"

local assert_error, ok = huawei.assert_error, huawei.ok

local function call(method, rest, body, query)
  return client.huawei_call(kmsemu, nil, body or "", {
    method = method, path = ("/v1.0/%s/kms/%s"):format(P, rest), query = query })
end

local function policy(doc)
  return ok(call("POST", "key-policies", { keyspace_id = KS, policy_name = doc.name or "p",
                                           policy = cjson.encode(doc.policy or {}) })).policy_id
end

local function custom_ap(name)
  return ok(call("POST", "access-points", { keyspace_id = KS, access_point_name = name, type = 3 })).access_point_id
end

-- The custom access point's public key, from the private key it downloads.
local function public_of(ap)
  local der = core.unb64(ok(call("POST", "access-points/" .. ap .. "/get-privatekey", {})).private_key)
  return core.b64(core.pkey_public_der(core.pkey_from_der(der)))
end

local function attestation(ap, expire)
  return { custom_public_key = public_of(ap), custom_signature = "c2ln", expire_time = expire or "2099-01-01T00:00:00Z" }
end

before_each(function()
  assert(kmsemu.start { scenario = "scenarios/huawei.lua" } == nil)
end)

describe("huawei key policies", function()
  it("creates, shows, lists (camelCase fields), updates and deletes a policy", function()
    local id = policy { name = "p1", policy = { version = "1.0", allowed_access_point = { "ap-1" },
                                               validity_period = { start_time = "1", end_time = "4102444800" } } }
    local shown = ok(call("GET", "key-policies/" .. id))
    assert.are.same({ id, "p1", KS }, { shown.policy_id, shown.policy_name, shown.keyspace_id })
    assert.are.same({ version = "1.0", allowed_access_point = { "ap-1" }, allowed_data_security_zone = {},
                      validity_period = { start_time = "1", end_time = "4102444800" } }, shown.policy)
    assert.are.equal("a1b2c3d4e5f60718293a4b5c6d7e8f90", shown.created_by)
    local _, list, res = call("GET", "key-policies", nil, "keyspace_id=" .. KS)
    assert.are.same({ next_marker = "", current_count = 1 }, list.page_info)
    assert.are.same({ "ap-1" }, list.keyspace_policies[1].policy.allowedAccessPoint)
    assert.matches('"allowed_data_security_zone":%[%]', res.body)
    local up = ok(call("PUT", "key-policies/" .. id, { policy = cjson.encode { allowed_data_security_zone = { "z" } },
                                                       description = "d" }))
    assert.are.same({ id, "d", { "z" } }, { up.policy_id, up.description, up.policy.allowed_data_security_zone })
    assert.are.same({}, ok(call("DELETE", "key-policies/" .. id)))
    assert_error(400, "KMS.0308", call("GET", "key-policies/" .. id))
  end)

  it("pages a keyspace's policies with limit and marker", function()
    for i = 1, 3 do
      policy { name = "n" .. i }
    end
    local r = ok(call("GET", "key-policies", nil, "keyspace_id=" .. KS .. "&limit=2"))
    assert.are.same({ next_marker = "2", current_count = 2 }, r.page_info)
    r = ok(call("GET", "key-policies", nil, "keyspace_id=" .. KS .. "&limit=2&marker=2"))
    assert.are.same({ next_marker = "", current_count = 1 }, r.page_info)
    assert.are.equal(0, ok(call("GET", "key-policies", nil, "keyspace_id=" .. MISSING)).page_info.current_count)
    assert_error(400, "KMS.0204", call("GET", "key-policies"))
    assert_error(400, "KMS.1601", call("GET", "key-policies", nil, "keyspace_id=" .. KS .. "&limit=0"))
    assert_error(400, "KMS.1602", call("GET", "key-policies", nil, "keyspace_id=" .. KS .. "&marker=x"))
  end)

  it("refuses a policy that is not a valid document", function()
    local function create(b)
      return call("POST", "key-policies", b)
    end
    assert_error(400, "KMS.0204", create { keyspace_id = KS, policy_name = "a" })
    assert_error(400, "KMS.0204", create { keyspace_id = KS, policy = "{}" })
    assert_error(400, "KMS.0308", create { keyspace_id = "ks", policy_name = "a", policy = "{}" })
    assert_error(400, "KMS.0308", create { keyspace_id = KS, policy_name = "a b", policy = "{}" })
    assert_error(400, "KMS.0308", create { keyspace_id = KS, policy_name = "a", policy = "not json" })
    assert_error(400, "KMS.0308", create { keyspace_id = KS, policy_name = "a", policy = "[1]" })
    assert_error(400, "KMS.0308", create { keyspace_id = KS, policy_name = "a", policy = '{"allow":true}' })
    assert_error(400, "KMS.0308", create { keyspace_id = KS, policy_name = "a",
                                           policy = '{"allowed_access_point":[1]}' })
    assert_error(400, "KMS.0308", create { keyspace_id = KS, policy_name = "a",
                                           policy = '{"validity_period":{"start_time":"soon"}}' })
    assert_error(400, "KMS.2801", create { keyspace_id = KS, policy_name = "a",
                                           policy = '{"validity_period":{"start_time":"20","end_time":"10"}}' })
    policy { name = "dup" }
    assert_error(400, "KMS.0308", create { keyspace_id = KS, policy_name = "dup", policy = "{}" })
    assert_error(400, "KMS.0204", call("PUT", "key-policies/" .. policy { name = "u" }, {}))
    assert_error(400, "KMS.0308", call("PUT", "key-policies/" .. MISSING, { policy = "{}" }))
    assert_error(400, "KMS.0308", call("DELETE", "key-policies/" .. MISSING))
  end)
end)

describe("huawei access points", function()
  it("creates each type, lists them with state and type as integers", function()
    local ecs = ok(call("POST", "access-points", { keyspace_id = KS, access_point_name = "ecs", type = 1,
                                                   identity = "ecs-1" })).access_point_id
    ok(call("POST", "access-points", { keyspace_id = KS, access_point_name = "cce", type = 2, identity = "pub",
                                       cluster_id = "cce-1", description = "c" }))
    custom_ap("custom")
    local _, r, res = call("GET", "access-points", nil, "keyspace_id=" .. KS)
    assert.are.same({ next_marker = "", current_count = 3 }, r.page_info)
    local by_id = {}
    for _, a in ipairs(r.access_points) do
      by_id[a.access_point_id] = a
    end
    local first = by_id[ecs]
    assert.are.same({ KS, "ecs", 1, 1 }, { first.keyspace_id, first.access_point_name, first.state, first.type })
    assert.matches('"lsat_modify_time":"%d+"', res.body)
    assert.are.same({}, ok(call("POST", "access-points/" .. ecs .. "/disable", {})))
    for _, a in ipairs(ok(call("GET", "access-points", nil, "keyspace_id=" .. KS)).access_points) do
      assert.are.equal(a.access_point_id == ecs and 0 or 1, a.state)
    end
    assert.are.same({}, ok(call("POST", "access-points/" .. ecs .. "/enable", {})))
    assert.are.same({}, ok(call("DELETE", "access-points/" .. ecs)))
    assert.are.equal(2, ok(call("GET", "access-points", nil, "keyspace_id=" .. KS)).page_info.current_count)
  end)

  it("hands out a custom access point's private key, the same each time", function()
    local ap = custom_ap("c1")
    local r = ok(call("POST", "access-points/" .. ap .. "/get-privatekey", {}))
    assert.are.equal(ap, r.access_point_id)
    assert.is_true(core.pkey_info(core.pkey_from_der(core.unb64(r.private_key))).private)
    assert.are.equal(r.private_key, ok(call("POST", "access-points/" .. ap .. "/get-privatekey", {})).private_key)
  end)

  it("refuses bad access points and unknown ids", function()
    local function create(b)
      return call("POST", "access-points", b)
    end
    assert_error(400, "KMS.0204", create { keyspace_id = KS, type = 3 })
    assert_error(400, "KMS.0204", create { keyspace_id = KS, access_point_name = "a" })
    assert_error(400, "KMS.0308", create { keyspace_id = KS, access_point_name = "a", type = 4 })
    assert_error(400, "KMS.0308", create { keyspace_id = KS, access_point_name = "a", type = "3" })
    assert_error(400, "KMS.0204", create { keyspace_id = KS, access_point_name = "a", type = 1 })
    assert_error(400, "KMS.0204", create { keyspace_id = KS, access_point_name = "a", type = 2, identity = "p" })
    assert_error(400, "KMS.0308", create { keyspace_id = "x", access_point_name = "a", type = 3 })
    custom_ap("same")
    assert_error(400, "KMS.0308", create { keyspace_id = KS, access_point_name = "same", type = 3 })
    local ecs = ok(create { keyspace_id = KS, access_point_name = "e", type = 1, identity = "i" }).access_point_id
    assert_error(400, "KMS.0308", call("POST", "access-points/" .. ecs .. "/get-privatekey", {}))
    assert_error(400, "KMS.0308", call("POST", "access-points/" .. MISSING .. "/enable", {}))
    assert_error(400, "KMS.0308", call("DELETE", "access-points/" .. MISSING))
    assert_error(400, "KMS.0204", call("GET", "access-points"))
  end)
end)

describe("huawei data-key capsules", function()
  it("seals a data key under a stored policy and opens it for an allowed custom access point", function()
    local ap = custom_ap("opener")
    local pid = policy { name = "cap", policy = { allowed_access_point = { ap } } }
    local made = ok(call("POST", "datakey-capsule/create", { key_id = AES, datakey_length = "256", policy_id = pid }))
    assert.are.equal(AES, made.key_id)
    assert.matches("^%x+$", made.datakey)
    assert.are.equal(64, #made.datakey)
    local opened = ok(call("POST", "datakey-capsule/decrypt", { key_id = AES, datakey_capsule = made.datakey_capsule,
                                                                  attestation_document = attestation(ap) }))
    assert.are.same({ AES, ap, made.datakey }, { opened.key_id, opened.instance_id, opened.datakey })
  end)

  it("takes an inline policy and a Go-style length, and wraps the key for an RSA public key", function()
    local ap = custom_ap("wrapped")
    local pem = core.pkey_derive("rsa2048", ("k"):rep(32))
    local pub = core.b64(core.pkey_public_der(pem))
    local made = ok(call("POST", "datakey-capsule/create", { key_id = AES, datakey_length = "SM4", public_key = pub,
                                                             key_policy = "{}" }))
    assert.is_nil(made.datakey)
    local dek = core.pkey_decrypt(pem, "rsa-oaep-sha256", core.unb64(made.datakey_cipher))
    assert.are.equal(16, #dek)
    local opened = ok(call("POST", "datakey-capsule/decrypt", { key_id = AES, datakey_capsule = made.datakey_capsule,
                                                                  attestation_document = attestation(ap) }))
    assert.are.equal(core.hex(dek):upper(), opened.datakey)
  end)

  it("refuses a capsule the policy, the time or the key does not allow", function()
    local ap, other = custom_ap("in"), custom_ap("out")
    local pid = policy { name = "only", policy = { allowed_access_point = { ap },
                                                   validity_period = { end_time = "4102444800" } } }
    local made = ok(call("POST", "datakey-capsule/create", { key_id = AES, datakey_length = "128", policy_id = pid }))
    local function open(b)
      b.key_id = b.key_id or AES
      b.datakey_capsule = b.datakey_capsule or made.datakey_capsule
      return call("POST", "datakey-capsule/decrypt", b)
    end
    assert_error(403, "KMS.0330", open { attestation_document = attestation(other) })
    ok(call("POST", "access-points/" .. ap .. "/disable", {}))
    assert_error(403, "KMS.0330", open { attestation_document = attestation(ap) })
    assert_error(400, "KMS.3804", open { attestation_document = attestation(ap, "2001-01-01T00:00:00Z") })
    assert_error(400, "KMS.3804", open { attestation_document = { ecs_signature = "x" } })
    assert_error(400, "KMS.3804", open { attestation_document = { custom_public_key = "AAAA", custom_signature = "x",
                                                                 expire_time = "2099-01-01T00:00:00Z" } })
    assert_error(400, "KMS.0204", open {})
    assert_error(400, "KMS.2201", open { datakey_capsule = "bm90IGEgY2Fwc3VsZQ==", attestation_document = {} })
    assert_error(400, "KMS.2201", open { key_id = "5f3c2a10-6b7d-4e8f-9a01-23456789abcd", attestation_document = {} })
    ok(call("DELETE", "key-policies/" .. pid))
    ok(call("POST", "access-points/" .. ap .. "/enable", {}))
    assert_error(400, "KMS.0308", open { attestation_document = attestation(ap) })
  end)

  it("refuses a bad capsule request", function()
    local function create(b)
      b.key_id = b.key_id or AES
      return call("POST", "datakey-capsule/create", b)
    end
    assert_error(400, "KMS.0204", create { datakey_length = "256" })
    assert_error(400, "KMS.0308", create { datakey_length = "256", policy_id = MISSING })
    assert_error(400, "KMS.0308", create { datakey_length = "256", policy_id = MISSING, key_policy = "{}" })
    assert_error(400, "KMS.0308", create { datakey_length = "512", key_policy = "{}" })
    assert_error(400, "KMS.0308", create { datakey_length = "256", key_policy = "[1]" })
    assert_error(400, "KMS.0308", create { datakey_length = "256", key_policy = "{}", public_key = "AAAA" })
    assert_error(400, "KMS.0205", create { key_id = "nope", datakey_length = "256", key_policy = "{}" })
    assert_error(400, "KMS.0209", create { key_id = DISABLED, datakey_length = "256", key_policy = "{}" })
    assert_error(400, "KMS.0325", create { key_id = RSA_SIGN, datakey_length = "256", key_policy = "{}" })
    assert_error(404, "KMS.0207", create { key_id = MISSING, datakey_length = "256", key_policy = "{}" })
  end)
end)
