-- --data-dir through the real binary: every kind of change of both
-- dialects (and of the admin API and faults) survives a restart; a
-- SIGKILL in the middle of a stream of CreateKey calls loses no key that
-- was acknowledged; a torn last record is cut off with a warning, damage
-- in the middle stops start-up; a second process is refused; calls that
-- change nothing write nothing.
local cjson = require "cjson"
local client = require "support.client"
local core = require "kmsemu.core"
local fs = require "support.fs"
local server = require "support.server"

local SCENARIO = "scenarios/default.lua"
local HW_FIXTURE = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
local TC_FIXTURE = "23e80852-1e38-11e9-b129-5cb9019b4b01"

local tmpdir = fs.tmpdir

local function start(dir, scenario)
  local s = server.start { "--scenario", scenario or SCENARIO, "--data-dir", dir .. "/data" }
  assert.is_string(s.url, "kmsemu did not start: " .. tostring(server.wait(s, 0)))
  return s
end

-- SIGKILL: nothing gets a chance to flush on the way out.
local function kill(s)
  assert.are.equal(137, server.stop(s, "KILL"))
end

local function host_of(s)
  return s.url:match("^http://(.*)$")
end

local function size_of(path)
  return #assert(server.read(path))
end

-- Signed requests sent by one curl process over one keep-alive
-- connection, in order: hundreds a second where a curl per request
-- manages tens. Returns the shell command; results(dir, n) reads what
-- came back.
local function batch(s, dir, reqs)
  local cfg = {}
  for i, req in ipairs(reqs) do
    assert(io.open(("%s/req%d"):format(dir, i), "wb")):write(req.body):close()
    cfg[#cfg + 1] = ('%surl = "%s%s"\nrequest = "%s"\ndata-binary = "@%s/req%d"\nhttp1.1\ninclude\noutput = "%s/res%d"')
      :format(i > 1 and "next\n" or "", s.url, req.path, req.method, dir, i, dir, i)
    for k, v in pairs(req.headers) do
      if k ~= "host" then
        cfg[#cfg + 1] = ('header = "%s: %s"'):format(k, v)
      end
    end
  end
  assert(io.open(dir .. "/curl.cfg", "wb")):write(table.concat(cfg, "\n"), "\n"):close()
  return ("curl -s -K %s/curl.cfg >/dev/null 2>&1"):format(dir)
end

-- The decoded body of each complete 200 answer of a batch, nil for the
-- others (no answer, or one cut short).
local function results(dir, n)
  local out = {}
  for i = 1, n do
    local raw = server.read(("%s/res%d"):format(dir, i)) or ""
    local status, body = raw:match("^HTTP/1%.1 (%d+) .-\r\n\r\n(.*)$")
    local ok, decoded = pcall(cjson.decode, body or "")
    out[i] = status == "200" and ok and decoded or false
  end
  return out
end

-- Runs reqs as one batch and returns the decoded answers.
local function run(s, dir, reqs)
  os.execute("rm -f " .. dir .. "/res*")
  assert(os.execute(batch(s, dir, reqs)))
  return results(dir, #reqs)
end

-- Huawei: status and decoded body. o: path (below /kms/), method.
local function hw(s, action, body, o)
  o = o or {}
  local project = client.HUAWEI.project_id
  local req = client.huawei { action = action, body = body, host = host_of(s), method = o.method,
    path = o.path and ("/v1.0/%s/kms/%s"):format(project, o.path), query = o.query }
  local status, _, raw = server.send(s, req)
  return status, raw ~= "" and cjson.decode(raw) or nil
end

local function hw_ok(s, action, body, o)
  local status, b = hw(s, action, body, o)
  assert(status == 200 or status == 204, action .. ": " .. tostring(status) .. " " .. cjson.encode(b or {}))
  return b
end

local function tc(s, action, params)
  local _, _, raw = server.send(s, client.tencent { action = action, params = params, host = host_of(s) })
  return cjson.decode(raw).Response
end

local function tc_ok(s, action, params)
  local r = tc(s, action, params)
  assert(r.Error == nil, action .. ": " .. cjson.encode(r.Error or {}))
  return r
end

local function admin(s, method, path, body)
  local status, _, raw = server.send(s, { method = method, path = "/_kmsemu/" .. path,
    headers = { ["content-type"] = "application/json" }, body = cjson.encode(body) })
  return status, cjson.decode(raw)
end

local function pem(der)
  return "-----BEGIN PUBLIC KEY-----\n" .. core.b64(der):gsub(("."):rep(64), "%0\n")
    .. "\n-----END PUBLIC KEY-----\n"
end

-- A fresh alias, with the extra fields of a create call.
local function fresh(name, extra)
  local t = { [name] = "persist-" .. core.hex(core.random(6)) }
  for k, v in pairs(extra or {}) do
    t[k] = v
  end
  return t
end

local function hw_create(s, extra)
  return hw_ok(s, "create-key", fresh("key_alias", extra)).key_info.key_id
end

local function tc_create(s, extra)
  return tc_ok(s, "CreateKey", fresh("Alias", extra)).KeyId
end

-- n plain keys of a dialect made in one batch; returns a function that
-- hands out the next one.
local function pool(s, dialect, n)
  local reqs = {}
  for i = 1, n do
    reqs[i] = dialect == "huawei"
      and client.huawei { action = "create-key", host = host_of(s), body = fresh("key_alias") }
      or client.tencent { action = "CreateKey", host = host_of(s), params = fresh("Alias") }
  end
  local ids = {}
  for i, r in ipairs(run(s, s.dir, reqs)) do
    ids[i] = assert(r and (dialect == "huawei" and r.key_info.key_id or r.Response.KeyId), "CreateKey failed")
  end
  return function()
    return assert(table.remove(ids), "the pool of keys is spent")
  end
end

local function hw_params(s, id)
  return hw_ok(s, "get-parameters-for-import", { key_id = id, wrapping_algorithm = "RSAES_OAEP_SHA_256" })
end

-- Imports material with parameters p (by default, fresh ones).
local function hw_import(s, id, material, p)
  p = p or hw_params(s, id)
  local wrapped = assert(core.pkey_encrypt(pem(core.unb64(p.public_key)), "rsa-oaep-sha256", material))
  hw_ok(s, "import-key-material", { key_id = id, import_token = p.import_token,
    encrypted_key_material = core.b64(wrapped) })
end

local function tc_wrap(p, material)
  return core.b64(assert(core.pkey_encrypt(pem(core.unb64(p.PublicKey)), "rsa-oaep-sha256", material)))
end

local function tc_params(s, id)
  return tc_ok(s, "GetParametersForImport", { KeyId = id, WrappingAlgorithm = "RSAES_OAEP_SHA_256",
    WrappingKeySpec = "RSA_2048" })
end

local function hw_info(s, id)
  return hw_ok(s, "describe-key", { key_id = id }).key_info
end

local function tc_meta(s, id)
  return tc_ok(s, "DescribeKey", { KeyId = id }).KeyMetadata
end

local function hw_encrypt(s, id, text)
  return hw_ok(s, "encrypt-data", { key_id = id, plain_text = text }).cipher_text
end

local function tc_encrypt(s, id, text)
  return tc_ok(s, "Encrypt", { KeyId = id, Plaintext = core.b64(text) }).CiphertextBlob
end

-- Every state-changing operation of both dialects, applied before a
-- restart. Each returns what to check afterwards: a list of
-- { name, check(s) } run against the restarted process.
local function huawei_changes(s)
  local checks = {}
  local function expect(name, fn) checks[#checks + 1] = { name, fn } end
  local new = pool(s, "huawei", 20)

  -- Each operation is the last change to its own key, so that no later
  -- write of the same key could hide a change that was not written.
  local named, described = hw_create(s, { key_description = "first" }), new()
  hw_ok(s, "update-key-alias", { key_id = named, key_alias = "persist/renamed" })
  hw_ok(s, "update-key-description", { key_id = described, key_description = "second" })
  expect("huawei update-key-alias and update-key-description", function(t)
    assert.are.equal("persist/renamed", hw_info(t, named).key_alias)
    assert.are.equal("second", hw_info(t, described).key_description)
  end)

  local rotated, enabled, interval, disabled = new(), new(), new(), new()
  local before = hw_encrypt(s, rotated, "version one")
  hw_ok(s, "rotate-on-demand", { key_id = rotated })
  local after = hw_encrypt(s, rotated, "version two")
  hw_ok(s, "enable-key-rotation", { key_id = enabled })
  hw_ok(s, "update-key-rotation-interval", { key_id = interval, rotation_interval = 30 })
  hw_ok(s, "enable-key-rotation", { key_id = disabled })
  hw_ok(s, "disable-key-rotation", { key_id = disabled })
  expect("huawei rotations, rotation settings and ciphertexts of both versions", function(t)
    local function status(id)
      local r = hw_ok(t, "get-key-rotation-status", { key_id = id })
      return { r.key_rotation_enabled, r.rotation_interval, r.number_of_rotations }
    end
    assert.are.same({ false, 365, 1 }, status(rotated))
    assert.are.same({ true, 365, 0 }, status(enabled))
    assert.are.same({ false, 30, 0 }, status(interval))
    assert.are.same({ false, 365, 0 }, status(disabled))
    assert.are.equal("version one", hw_ok(t, "decrypt-data", { cipher_text = before }).plain_text)
    assert.are.equal("version two", hw_ok(t, "decrypt-data", { cipher_text = after }).plain_text)
  end)

  local d, e, c, f = new(), new(), new(), new()
  hw_ok(s, "disable-key", { key_id = d })
  hw_ok(s, "disable-key", { key_id = e })
  hw_ok(s, "enable-key", { key_id = e })
  hw_ok(s, "schedule-key-deletion", { key_id = c, pending_days = "7" })
  hw_ok(s, "schedule-key-deletion", { key_id = f, pending_days = "7" })
  hw_ok(s, "cancel-key-deletion", { key_id = f })
  hw_ok(s, "disable-key", { key_id = HW_FIXTURE })
  local sched = hw_info(s, c).scheduled_deletion_date
  expect("huawei enable, disable, schedule and cancel deletion, on a fixture too", function(t)
    assert.are.same({ "3", "2", "4", "3", "3" }, { hw_info(t, d).key_state, hw_info(t, e).key_state,
      hw_info(t, c).key_state, hw_info(t, f).key_state, hw_info(t, HW_FIXTURE).key_state })
    assert.are.equal(sched, hw_info(t, c).scheduled_deletion_date)
  end)

  local tagged = { new(), new(), new(), new() }
  local function tags(id, action, list)
    if action then
      hw_ok(s, "batch-create-kms-tags", { action = action, tags = list }, { path = id .. "/tags/action" })
    else
      hw_ok(s, "create-kms-tag", { tag = list[1] }, { path = id .. "/tags" })
    end
  end
  tags(tagged[1], nil, { { key = "k1", value = "v1" } })
  tags(tagged[2], "create", { { key = "k2", value = "v2" }, { key = "k3", value = "v3" } })
  tags(tagged[3], "create", { { key = "k2", value = "v2" }, { key = "k3", value = "v3" } })
  tags(tagged[3], "delete", { { key = "k3" } })
  tags(tagged[4], "create", { { key = "k2", value = "v2" }, { key = "k3", value = "v3" } })
  hw_ok(s, "delete-tag", nil, { path = tagged[4] .. "/tags/k2", method = "DELETE" })
  expect("huawei tags: create, batch create, batch delete, delete", function(t)
    local function show(id)
      local out = {}
      for _, tag in ipairs(hw_ok(t, "show-kms-tags", nil, { path = id .. "/tags", method = "GET" }).tags) do
        out[#out + 1] = tag.key
      end
      return table.concat(out, ",")
    end
    assert.are.same({ "k1", "k2,k3", "k2", "k3" }, { show(tagged[1]), show(tagged[2]), show(tagged[3]),
      show(tagged[4]) })
  end)

  local al = { new(), new(), new(), new() }
  local function alias(id, name)
    hw_ok(s, "create-alias", { key_id = id, alias = name }, { path = "aliases" })
  end
  alias(al[1], "alias/persist-a")
  alias(al[2], "alias/persist-b")
  alias(al[2], "alias/persist-c")
  hw_ok(s, "delete-alias", { key_id = al[2], aliases = { "alias/persist-c" } }, { path = "aliases", method = "DELETE" })
  alias(al[3], "alias/persist-d")
  hw_ok(s, "associate-alias", { alias = "alias/persist-d", target_key_id = al[4] }, { path = "alias/associate" })
  expect("huawei aliases: create, delete, associate", function(t)
    local function names(id)
      local out = {}
      local r = hw_ok(t, "list-aliases", nil, { path = "aliases", method = "GET", query = "key_id=" .. id })
      for _, x in ipairs(r[1].aliases) do
        out[#out + 1] = x.alias
      end
      return table.concat(out, ",")
    end
    assert.are.same({ "alias/persist-a", "alias/persist-b", "", "alias/persist-d" },
      { names(al[1]), names(al[2]), names(al[3]), names(al[4]) })
  end)

  local gr = { new(), new(), new() }
  local function grant(id, who)
    return hw_ok(s, "create-grant", { key_id = id, grantee_principal = who, operations = { "encrypt-data" } }).grant_id
  end
  local made = grant(gr[1], "user1")
  local kept = grant(gr[2], "user1")
  hw_ok(s, "revoke-grant", { key_id = gr[2], grant_id = grant(gr[2], "user2") })
  hw_ok(s, "retire-grant", { key_id = gr[3], grant_id = grant(gr[3], "user3") })
  expect("huawei grants: create, revoke, retire", function(t)
    local function ids(id)
      local out = {}
      for _, g in ipairs(hw_ok(t, "list-grants", { key_id = id }).grants) do
        out[#out + 1] = g.grant_id
      end
      return table.concat(out, ",")
    end
    assert.are.same({ made, kept, "" }, { ids(gr[1]), ids(gr[2]), ids(gr[3]) })
  end)

  local b, g = hw_create(s, { origin = "external" }), hw_create(s, { origin = "external" })
  hw_import(s, b, core.random(32))
  hw_import(s, g, core.random(32))
  hw_ok(s, "delete-imported-key-material", { key_id = g })
  local imported = hw_encrypt(s, b, "imported")
  local later = hw_create(s, { origin = "external" })
  local pending = hw_params(s, later) -- imported only after the restart
  expect("huawei imported material, its deletion, and import parameters", function(t)
    assert.are.equal("2", hw_info(t, b).key_state)
    assert.are.equal("imported", hw_ok(t, "decrypt-data", { cipher_text = imported }).plain_text)
    assert.are.equal("5", hw_info(t, g).key_state)
    hw_import(t, later, core.random(32), pending)
    assert.are.equal("2", hw_info(t, later).key_state)
  end)

  -- Every spec: symmetric keys keep their ciphertexts, the others their
  -- public key or MAC (derived material comes back the same).
  local specs = {}
  for _, spec in ipairs { "AES_256", "SM4", "HMAC_256", "HMAC_SM3", "EC_P256", "SM2", "ED25519", "SECP256K1" } do
    local id = hw_create(s, { key_spec = spec })
    local kind = spec:match("^HMAC") and "mac" or (spec == "AES_256" or spec == "SM4") and "sym" or "pub"
    local proof
    if kind == "sym" then
      proof = hw_encrypt(s, id, spec)
    elseif kind == "mac" then
      local alg = spec == "HMAC_SM3" and "HMAC_SM3" or "HMAC_SHA_256"
      proof = hw_ok(s, "generate-mac", { key_id = id, mac_algorithm = alg, message = "bWVzc2FnZQ==" })
    else
      proof = hw_ok(s, "get-publickey", { key_id = id }).public_key
    end
    specs[#specs + 1] = { id = id, spec = spec, kind = kind, proof = proof }
  end
  expect("huawei keys of every spec", function(t)
    for _, k in ipairs(specs) do
      assert.are.equal(k.spec, hw_info(t, k.id).key_spec)
      if k.kind == "sym" then
        assert.are.equal(k.spec, hw_ok(t, "decrypt-data", { cipher_text = k.proof }).plain_text)
      elseif k.kind == "mac" then
        local r = hw_ok(t, "verify-mac", { key_id = k.id, mac_algorithm = k.proof.mac_algorithm,
          message = "bWVzc2FnZQ==", mac = k.proof.mac })
        assert.is_true(r.mac_valid)
      elseif k.kind == "pub" then
        assert.are.equal(k.proof, hw_ok(t, "get-publickey", { key_id = k.id }).public_key)
      end
    end
  end)
  return checks
end

local function tencent_changes(s)
  local checks = {}
  local function expect(name, fn) checks[#checks + 1] = { name, fn } end
  local new = pool(s, "tencent", 17)

  local tagged = tc_create(s, { Description = "first", Tags = { { TagKey = "team", TagValue = "blue" } } })
  local named, described = new(), new()
  tc_ok(s, "UpdateAlias", { KeyId = named, Alias = "persist-renamed" })
  tc_ok(s, "UpdateKeyDescription", { KeyId = described, Description = "second" })
  expect("tencent CreateKey with tags, UpdateAlias, UpdateKeyDescription", function(t)
    local r = tc_ok(t, "ListKeyDetail", { TagFilters = { { TagKey = "team", TagValue = { "blue" } } } })
    assert.are.equal(tagged, r.KeyMetadatas[1].KeyId)
    assert.are.equal("first", r.KeyMetadatas[1].Description)
    assert.are.equal("persist-renamed", tc_meta(t, named).Alias)
    assert.are.equal("second", tc_meta(t, described).Description)
  end)

  local rotated, enabled, disabled = new(), new(), new()
  local before = tc_encrypt(s, rotated, "version one")
  tc_ok(s, "EnableKeyRotation", { KeyId = rotated, RotateDays = 30 })
  tc_ok(s, "RotateKey", { KeyId = rotated })
  local after = tc_encrypt(s, rotated, "version two")
  tc_ok(s, "EnableKeyRotation", { KeyId = enabled, RotateDays = 30 })
  tc_ok(s, "EnableKeyRotation", { KeyId = disabled })
  tc_ok(s, "DisableKeyRotation", { KeyId = disabled })
  local meta = tc_meta(s, rotated)
  expect("tencent EnableKeyRotation, RotateKey, DisableKeyRotation and both ciphertexts", function(t)
    assert.are.same(meta, tc_meta(t, rotated))
    assert.is_true(meta.LastRotateTime > 0)
    assert.are.same({ true, 30 }, { tc_meta(t, enabled).KeyRotationEnabled, tc_meta(t, enabled).RotateDays })
    assert.is_false(tc_ok(t, "GetKeyRotationStatus", { KeyId = disabled }).KeyRotationEnabled)
    assert.are.equal("version one", core.unb64(tc_ok(t, "Decrypt", { CiphertextBlob = before }).Plaintext))
    assert.are.equal("version two", core.unb64(tc_ok(t, "Decrypt", { CiphertextBlob = after }).Plaintext))
  end)

  local d, e, c, f = new(), new(), new(), new()
  local x, y, h, i = new(), new(), new(), new()
  tc_ok(s, "DisableKey", { KeyId = d })
  tc_ok(s, "DisableKey", { KeyId = e })
  tc_ok(s, "EnableKey", { KeyId = e })
  tc_ok(s, "DisableKeys", { KeyIds = { x, y } })
  tc_ok(s, "EnableKeys", { KeyIds = { y } })
  tc_ok(s, "DisableKey", { KeyId = c })
  tc_ok(s, "ScheduleKeyDeletion", { KeyId = c, PendingWindowInDays = 7 })
  tc_ok(s, "DisableKey", { KeyId = f })
  tc_ok(s, "ScheduleKeyDeletion", { KeyId = f, PendingWindowInDays = 7 })
  tc_ok(s, "CancelKeyDeletion", { KeyId = f })
  tc_ok(s, "ArchiveKey", { KeyId = h })
  tc_ok(s, "ArchiveKey", { KeyId = i })
  tc_ok(s, "CancelKeyArchive", { KeyId = i })
  tc_ok(s, "DisableKey", { KeyId = TC_FIXTURE })
  local metas = {}
  for _, id in ipairs { d, e, c, f, x, y, h, i, TC_FIXTURE } do
    metas[id] = tc_meta(s, id)
  end
  expect("tencent state changes, one by one and in batches, on a fixture too", function(t)
    local states = {}
    for _, id in ipairs { d, e, c, f, x, y, h, i, TC_FIXTURE } do
      assert.are.same(metas[id], tc_meta(t, id))
      states[#states + 1] = metas[id].KeyState
    end
    assert.are.same({ "Disabled", "Enabled", "PendingDelete", "Disabled", "Disabled", "Enabled", "Archived",
      "Enabled", "Disabled" }, states)
    assert.is_true(metas[c].DeletionDate > 0)
  end)

  local b, g, later = tc_create(s, { Type = 2 }), tc_create(s, { Type = 2 }), tc_create(s, { Type = 2 })
  for _, id in ipairs { b, g } do
    local p = tc_params(s, id)
    tc_ok(s, "ImportKeyMaterial", { KeyId = id, ImportToken = p.ImportToken,
      EncryptedKeyMaterial = tc_wrap(p, core.random(16)) })
  end
  tc_ok(s, "DeleteImportedKeyMaterial", { KeyId = g })
  local imported = tc_encrypt(s, b, "imported")
  local pending = tc_params(s, later) -- imported only after the restart
  expect("tencent imported material, its deletion, and import parameters", function(t)
    assert.are.equal("Enabled", tc_meta(t, b).KeyState)
    assert.are.equal("imported", core.unb64(tc_ok(t, "Decrypt", { CiphertextBlob = imported }).Plaintext))
    assert.are.equal("PendingImport", tc_meta(t, g).KeyState)
    tc_ok(t, "ImportKeyMaterial", { KeyId = later, ImportToken = pending.ImportToken,
      EncryptedKeyMaterial = tc_wrap(pending, core.random(16)) })
    assert.are.equal("Enabled", tc_meta(t, later).KeyState)
  end)

  local bound, unbound = new(), new()
  local res = { ProductId = "cos", ResourceId = "bucket-1" }
  tc_ok(s, "BindCloudResource", { KeyId = bound, ProductId = res.ProductId, ResourceId = res.ResourceId })
  tc_ok(s, "BindCloudResource", { KeyId = unbound, ProductId = res.ProductId, ResourceId = res.ResourceId })
  tc_ok(s, "UnbindCloudResource", { KeyId = unbound, ProductId = res.ProductId, ResourceId = res.ResourceId })
  expect("tencent cloud resource bindings", function(t)
    assert.are.equal("FailedOperation.CmkUsedByCloudProduct", tc(t, "DisableKey", { KeyId = bound }).Error.Code)
    tc_ok(t, "DisableKey", { KeyId = unbound })
  end)

  local sign = tc_create(s, { KeyUsage = "ASYMMETRIC_SIGN_VERIFY_ECC" })
  local public = tc_ok(s, "GetPublicKey", { KeyId = sign }).PublicKey
  expect("tencent asymmetric key", function(t)
    assert.are.equal(public, tc_ok(t, "GetPublicKey", { KeyId = sign }).PublicKey)
  end)
  return checks
end

-- The admin API's state change and a fault's `state` effect.
local function harness_changes(s)
  local by_admin, by_fault = tc_create(s), tc_create(s)
  assert.are.equal(200, (admin(s, "POST", "keys/state", { dialect = "tencent", owner = "ap-guangzhou",
    id = by_admin, state = "disabled" })))
  assert.are.equal(201, (admin(s, "POST", "faults", { dialect = "tencent", action = "Encrypt",
    key_id = by_fault, state = "archived", nth = 1 })))
  tc(s, "Encrypt", { KeyId = by_fault, Plaintext = core.b64("x") })
  return { { "admin key state and fault state effects", function(t)
    assert.are.equal("Disabled", tc_meta(t, by_admin).KeyState)
    assert.are.equal("Archived", tc_meta(t, by_fault).KeyState)
  end } }
end

describe("--data-dir #persist", function()
  local dir, s, checks

  lazy_setup(function()
    dir = tmpdir()
    s = start(dir)
    checks = {}
    for _, group in ipairs { huawei_changes(s), tencent_changes(s), harness_changes(s) } do
      table.move(group, 1, #group, #checks + 1, checks)
    end
    kill(s)
    s = start(dir)
  end)

  lazy_teardown(function()
    server.stop(s)
    os.execute("rm -rf " .. dir)
  end)

  it("keeps every change, each one checked after a SIGKILL and a restart", function()
    assert.is_true(#checks >= 15)
    local failed = {}
    for _, c in ipairs(checks) do
      local ok, err = pcall(c[2], s)
      if not ok then
        failed[#failed + 1] = c[1] .. ": " .. tostring(err)
      end
    end
    assert(#failed == 0, table.concat(failed, "\n"))
  end)

  it("writes nothing for calls that change nothing", function()
    local log = dir .. "/data/log"
    local n = size_of(log)
    tc_ok(s, "Decrypt", { CiphertextBlob = tc_encrypt(s, "6d4f5e70-1e38-11e9-b129-5cb9019b4b06", "read only") })
    tc_ok(s, "GenerateDataKey", { KeyId = "6d4f5e70-1e38-11e9-b129-5cb9019b4b06", KeySpec = "AES_256" })
    tc_ok(s, "ListKeyDetail", { Limit = 200 })
    hw_ok(s, "decrypt-data", { cipher_text = hw_encrypt(s, "5f3c2a10-6b7d-4e8f-9a01-23456789abcd", "x") })
    hw_ok(s, "list-keys", { key_spec = "ALL", limit = "100" })
    hw_ok(s, "describe-key", { key_id = "5f3c2a10-6b7d-4e8f-9a01-23456789abcd" })
    assert.are.equal(n, size_of(log))
  end)

  it("keeps the log readable by its owner only", function()
    local p = io.popen("stat -c %a " .. dir .. "/data/log")
    assert.are.equal("600", p:read("l"))
    p:close()
  end)

  it("refuses a second process on the same directory, naming the holder", function()
    local other = server.start { "--scenario", SCENARIO, "--data-dir", dir .. "/data" }
    local status, err = server.wait(other)
    server.stop(other)
    assert.are.equal(2, status)
    assert.truthy(err:find("is in use by another kmsemu (pid " .. s.pid .. ")", 1, true), err)
    -- and the first one still serves
    tc_ok(s, "DescribeKey", { KeyId = TC_FIXTURE })
  end)
end)

describe("--data-dir after a SIGKILL in the middle of a stream of CreateKey calls #persist", function()
  local ROUND_TENCENT, ROUND_HUAWEI, ACKED = 28, 12, 200

  local function creates(s)
    local reqs = {}
    for i = 1, ROUND_TENCENT + ROUND_HUAWEI do
      local alias = "stream-" .. core.hex(core.random(8))
      reqs[i] = i <= ROUND_TENCENT
        and client.tencent { action = "CreateKey", host = host_of(s), params = { Alias = alias } }
        or client.huawei { action = "create-key", host = host_of(s), body = { key_alias = alias } }
    end
    return reqs
  end

  -- The key id an answer acknowledges, and its dialect.
  local function created(r)
    if r and r.Response and r.Response.KeyId then
      return r.Response.KeyId, "tencent"
    elseif r and r.key_info then
      return r.key_info.key_id, "huawei"
    end
  end

  local function encrypt(s, key, text)
    if key.dialect == "tencent" then
      return client.tencent { action = "Encrypt", host = host_of(s), params = { KeyId = key.id,
        Plaintext = core.b64(text) } }
    end
    return client.huawei { action = "encrypt-data", host = host_of(s), body = { key_id = key.id, plain_text = text } }
  end

  local function decrypt(s, key, blob)
    if key.dialect == "tencent" then
      return client.tencent { action = "Decrypt", host = host_of(s), params = { CiphertextBlob = blob } }
    end
    return client.huawei { action = "decrypt-data", host = host_of(s), body = { cipher_text = blob } }
  end

  local function blob_of(r)
    return r and (r.Response and r.Response.CiphertextBlob or r.cipher_text)
  end

  local function plain_of(key, r)
    if not r then
      return nil
    end
    return key.dialect == "tencent" and core.unb64(r.Response.Plaintext or "") or r.plain_text
  end

  it("finds every acknowledged key, usable, with its ciphertexts", function()
    local dir = tmpdir()
    local s = start(dir)
    local keys = {} -- { id, dialect, text, blob }
    -- Acknowledged rounds: each key made, then a ciphertext made with it.
    while #keys < ACKED do
      local reqs = creates(s)
      local fresh = {}
      for _, r in ipairs(run(s, dir, reqs)) do
        local id, dialect = created(r)
        assert(id, "a CreateKey before the kill failed")
        fresh[#fresh + 1] = { id = id, dialect = dialect, text = "before " .. id }
      end
      local enc = {}
      for i, k in ipairs(fresh) do
        enc[i] = encrypt(s, k, k.text)
      end
      for i, r in ipairs(run(s, dir, enc)) do
        fresh[i].blob = assert(blob_of(r), "an Encrypt before the kill failed")
        keys[#keys + 1] = fresh[i]
      end
    end
    -- The last round is cut by SIGKILL at a random moment while it runs.
    -- Its last call's answer is held back for longer than the test runs,
    -- so that the stream cannot end before the kill however fast the
    -- machine is.
    os.execute("rm -f " .. dir .. "/res*")
    local last = creates(s)
    assert.are.equal(201, (admin(s, "POST", "faults", { action = "create_key", nth = #last, delay_ms = 600000 })))
    os.execute(("(%s; touch %s/done) &"):format(batch(s, dir, last), dir))
    -- Killed once a random number of answers has begun to arrive.
    local target = math.random(1, #last // 2)
    local function begun()
      local n = 0
      for i = 1, #last do
        n = n + (server.read(("%s/res%d"):format(dir, i)) and 1 or 0)
      end
      return n
    end
    while begun() < target and not server.read(dir .. "/done") do
      os.execute("sleep 0.002")
    end
    kill(s)
    while not server.read(dir .. "/done") do
      os.execute("sleep 0.01")
    end
    local late = results(dir, #last)
    assert.is_false(late[#last], "the held answer came before the kill")
    for _, r in ipairs(late) do
      local id, dialect = created(r)
      if id then
        keys[#keys + 1] = { id = id, dialect = dialect }
      end
    end

    s = start(dir)
    local old, new = {}, {}
    for i, k in ipairs(keys) do
      k.text = k.text or ("after " .. k.id)
      new[i] = encrypt(s, k, "after " .. k.id)
    end
    local blobs = run(s, dir, new)
    for i, k in ipairs(keys) do
      old[#old + 1] = decrypt(s, k, k.blob or assert(blob_of(blobs[i]), k.dialect .. " key " .. k.id .. " lost"))
      old[#old + 1] = decrypt(s, k, assert(blob_of(blobs[i]), k.dialect .. " key " .. k.id .. " lost"))
    end
    local plains = run(s, dir, old)
    for i, k in ipairs(keys) do
      assert.are.equal(k.text, plain_of(k, plains[2 * i - 1]), "pre-crash ciphertext of " .. k.id)
      assert.are.equal("after " .. k.id, plain_of(k, plains[2 * i]), "round trip with " .. k.id)
    end
    assert.is_true(#keys >= ACKED)
    server.stop(s)
    os.execute("rm -rf " .. dir)
  end)
end)

describe("--data-dir start-up checks #persist", function()
  local dir, ids, log

  -- A data directory with two keys made at run time.
  before_each(function()
    dir = tmpdir()
    local s = start(dir)
    ids = { tc_create(s), tc_create(s) }
    assert.are.equal(0, server.stop(s))
    log = assert(server.read(dir .. "/data/log"))
  end)

  after_each(function()
    os.execute("rm -rf " .. dir)
  end)

  -- The offset of each record of the log (after the 8-byte magic).
  local function offsets(bytes)
    local out, at = {}, 9
    while at <= #bytes do
      out[#out + 1] = at - 1
      at = at + 10 + string.unpack("<I4", bytes, at + 2)
    end
    return out
  end

  local function put(bytes)
    assert(io.open(dir .. "/data/log", "wb")):write(bytes):close()
  end

  it("skips a torn last record with a warning, cuts it off and keeps the rest", function()
    local torn = "KR" .. string.pack("<I4I4", 300, 12345) .. ("\0"):rep(40)
    put(log .. torn)
    local s = start(dir)
    local err = server.read(s.err)
    for _, id in ipairs(ids) do
      tc_ok(s, "DescribeKey", { KeyId = id })
    end
    server.stop(s)
    assert.truthy(err:find(("kmsemu: warning: %s/data/log: offset %d: torn last record (record longer "
      .. "than the rest of the file), 50 bytes skipped and truncated"):format(dir, #log), 1, true), err)
    -- Start-up compaction rewrote the log: the same records, torn one gone.
    local now = server.read(dir .. "/data/log")
    assert.are.equal(#log, #now)
    assert.are.equal(3, #offsets(now))
  end)

  for _, damage in ipairs {
    { "checksum mismatch", function(b, at) return b:sub(1, at + 20) .. "#" .. b:sub(at + 22) end },
    { "impossible record length", function(b, at) return b:sub(1, at + 2) .. "\255\255\255\255" .. b:sub(at + 7) end },
    { "no record marker", function(b, at) return b:sub(1, at) .. "XX" .. b:sub(at + 3) end },
  } do
    it("refuses to start, with file, offset and reason, on damage before the end: " .. damage[1], function()
      local at = offsets(log)[2] -- the first key; the second follows it
      local bad = damage[2](log, at)
      assert.are.equal(#log, #bad)
      put(bad)
      local s = server.start { "--scenario", SCENARIO, "--data-dir", dir .. "/data" }
      local status, err = server.wait(s)
      server.stop(s)
      assert.are.equal(2, status)
      assert.truthy(err:find(("kmsemu: %s/data/log: offset %d: %s, with whole records after it"):format(dir, at,
        damage[1]), 1, true), err)
      assert.are.equal(bad, server.read(dir .. "/data/log"), "the damaged log must stay as it was")
    end)
  end

  it("refuses a scenario whose seed differs from the one the keys were made under", function()
    local other = dir .. "/other.lua"
    local src = assert(server.read(SCENARIO)):gsub('seed "kmsemu%-default"', 'seed "another"')
    assert(io.open(other, "wb")):write(src):close()
    local s = server.start { "--scenario", other, "--data-dir", dir .. "/data" }
    local status, err = server.wait(s)
    server.stop(s)
    assert.are.equal(2, status)
    assert.truthy(err:find("made under another scenario seed", 1, true), err)
  end)

  it("starts afresh after the admin API's reset, and keeps a scenario replaced through it", function()
    local s = start(dir)
    assert.are.equal(200, (admin(s, "POST", "reset", {})))
    local replaced = assert(server.read(SCENARIO)) .. '\ncmk { id = "11111111-2222-4333-8444-555555555555", '
      .. 'dialect = "tencent" }\n'
    local status = server.send(s, { method = "PUT", path = "/_kmsemu/scenario", headers = {}, body = replaced })
    assert.are.equal(200, status)
    local made = tc_create(s)
    kill(s)
    s = start(dir)
    assert.are.equal("ResourceUnavailable.CmkNotFound", tc(s, "DescribeKey", { KeyId = ids[1] }).Error.Code)
    tc_ok(s, "DescribeKey", { KeyId = "11111111-2222-4333-8444-555555555555" })
    tc_ok(s, "DescribeKey", { KeyId = made })
    local _, body = admin(s, "GET", "scenario")
    assert.are.equal("admin:scenario", body.path)
    server.stop(s)
  end)

  -- Reading the log back runs into the Lua heap's ceiling: start-up stops
  -- with the reason (under AddressSanitizer, make asan: without leaking
  -- the buffer the log was read into).
  it("refuses to start, saying why, when the log does not fit in --lua-heap-mb", function()
    local h = assert(core.store_open(dir .. "/data"))
    local big = {}
    for i = 1, 40 do
      big[i] = ("x"):rep(1 << 20) .. i
    end
    assert(core.store_append(h, big))
    core.store_close(h)
    local s = server.start { "--scenario", SCENARIO, "--data-dir", dir .. "/data", "--lua-heap-mb", "16" }
    local status, err = server.wait(s)
    server.stop(s)
    assert.are.equal(2, status)
    assert.truthy(err:find("not enough memory", 1, true), err)
  end)
end)

describe("--data-dir when a write fails #persist", function()
  it("answers the dialect's internal error, keeps the log whole and the acknowledged keys", function()
    local dir = tmpdir()
    -- Files of this process may not grow past 4 KiB: appends start to
    -- fail (EFBIG, SIGXFSZ ignored) after a dozen keys.
    local wrapper = dir .. "/kmsemu"
    local bin = server.BIN:sub(1, 1) == "/" and server.BIN or os.getenv("PWD") .. "/" .. server.BIN
    assert(io.open(wrapper, "wb")):write("#!/bin/sh\ntrap '' XFSZ\nulimit -f 8\nexec ", bin, ' "$@"\n'):close()
    assert(os.execute("chmod +x " .. wrapper))
    local s = server.with_bin(wrapper, start, dir)
    local acked, refused = {}, nil
    for _ = 1, 40 do
      local r = tc(s, "CreateKey", fresh("Alias"))
      if r.Error then
        refused = r.Error.Code
        break
      end
      acked[#acked + 1] = r.KeyId
    end
    assert.are.equal("InternalError", refused)
    assert.are.equal(500, (hw(s, "create-key", fresh("key_alias"))))
    tc_ok(s, "DescribeKey", { KeyId = TC_FIXTURE }) -- still serving
    assert.truthy(server.read(s.err):find("kmsemu: data directory: .*/data/log: write: File too large"))
    kill(s)
    s = start(dir)
    assert.is_nil(server.read(s.err):find("warning"), "the failed appends left nothing behind")
    assert.is_true(#acked > 0)
    for _, id in ipairs(acked) do
      tc_ok(s, "DescribeKey", { KeyId = id })
    end
    server.stop(s)
    os.execute("rm -rf " .. dir)
  end)
end)
