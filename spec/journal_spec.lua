-- The journal, shaping hooks and the admin API, through the router.
local cjson = require "cjson"
local client = require "support.client"
local kmsemu = require "kmsemu"
local journal = require "kmsemu.journal"

local HW_KEY = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
local TC_KEY = "23e80852-1e38-11e9-b129-5cb9019b4b01"

local function start(path, token)
  assert(kmsemu.start { scenario = path, admin_token = token } == nil)
end

local function tc(action, params)
  return cjson.decode(kmsemu.handle(client.tencent { action = action, params = params }).body).Response
end

local function hw(action, body)
  return kmsemu.handle(client.huawei { action = action, body = body })
end

local function admin(...)
  return client.admin(kmsemu, ...)
end

describe("the journal", function()
  before_each(function() start("scenarios/faults/throttling.lua") end)

  it("records each call with neutral and native names, key, caller, status, error and faults", function()
    hw("create-datakey", { key_id = HW_KEY, datakey_length = "256" })
    tc("GenerateDataKey", { KeyId = TC_KEY, KeySpec = "AES_256" })
    local entries = kmsemu.world().journal:query {}
    assert.are.equal(2, #entries)
    local h, t = entries[1], entries[2]
    assert.are.same({ "huawei", "create-datakey", "generate_data_key", HW_KEY, client.HUAWEI.ak, 429, "APIGW.0308" },
      { h.dialect, h.action, h.neutral, h.key_id, h.caller, h.status, h.error })
    assert.are.same({ "1" }, h.faults)
    assert.are.same({ "tencent", "GenerateDataKey", TC_KEY, client.TENCENT.secret_id, 200 },
      { t.dialect, t.action, t.key_id, t.caller, t.status })
    assert.is_nil(t.error)
    assert.are.same({}, t.faults)
  end)

  it("counts by action (either name), key, error and fault", function()
    for _ = 1, 3 do
      hw("create-datakey", { key_id = HW_KEY, datakey_length = "256" })
    end
    for _ = 1, 4 do
      tc("Encrypt", { KeyId = TC_KEY, Plaintext = "aGk=" })
    end
    local j = kmsemu.world().journal
    assert.are.equal(3, j:count { action = "generate_data_key" })
    assert.are.equal(3, j:count { action = "create-datakey", key_id = HW_KEY })
    assert.are.equal(2, j:count { error = "APIGW.0308" })
    assert.are.equal(1, j:count { action = "Encrypt", error = "RequestLimitExceeded" })
    assert.are.equal(1, j:count { fault = "2" })
    assert.are.equal(0, j:count { action = "decrypt" })
    assert.are.equal(7, j:count {})
  end)

  it("sees the key inside a ciphertext or the path, the method, the path and why a call was refused", function()
    local blob = tc("Encrypt", { KeyId = TC_KEY, Plaintext = "aGk=" }).CiphertextBlob
    tc("Decrypt", { CiphertextBlob = blob })
    tc("ReEncrypt", { CiphertextBlob = blob })
    local enc = cjson.decode(hw("encrypt-data", { key_id = HW_KEY, plain_text = "x" }).body)
    hw("decrypt-data", { cipher_text = enc.cipher_text })
    hw("decrypt-data", { cipher_text = enc.cipher_text, additional_authenticated_data = "other" })
    hw("re-encrypt", { destination_key_id = HW_KEY, cipher_text = enc.cipher_text })
    kmsemu.handle(client.huawei { method = "GET", body = "",
      path = ("/v1.0/%s/kms/%s/tags"):format(client.HUAWEI.project_id, HW_KEY) })
    local j = kmsemu.world().journal
    assert.are.equal(3, j:count { dialect = "tencent", key_id = TC_KEY })
    assert.are.equal(5, j:count { dialect = "huawei", key_id = HW_KEY })
    assert.are.equal(1, j:count { action = "show-kms-tags", key_id = HW_KEY, method = "GET" })
    local refused = j:query({ action = "decrypt-data", status = 400 })[1]
    assert.are.same({ "POST", "/v1.0/" .. client.HUAWEI.project_id .. "/kms/decrypt-data", "KMS.2201",
      "Invalid cipher_text." }, { refused.method, refused.path, refused.error, refused.message })
    assert.are.equal(3, j:count { path = "/", method = "POST" })
  end)

  it("keeps only the newest entries once full", function()
    local j = journal.new(3)
    for i = 1, 5 do
      j:record { dialect = "tencent", action = "Encrypt", neutral = "encrypt", status = 200, faults = {},
                 key_id = "k" .. i }
    end
    local got = {}
    for _, e in ipairs(j:query {}) do
      got[#got + 1] = e.key_id .. "#" .. e.seq
    end
    assert.are.same({ "k3#3", "k4#4", "k5#5" }, got)
    assert.are.equal(3, j:count { action = "encrypt" })
    assert.are.equal(0, j:count { key_id = "k2" })
    assert.are.same({ "k5" }, { j:query({}, 1)[1].key_id })
    j:clear()
    assert.are.equal(0, j:count {})
  end)

  it("wraps around a ring of several chunks (256 slots each), its last one partial", function()
    local j = journal.new(600)
    for i = 1, 1500 do
      j:record { dialect = "tencent", action = "Encrypt", neutral = "encrypt", status = i % 2 == 0 and 200 or 400,
                 faults = {}, key_id = "k" .. i }
    end
    local all = j:query {}
    assert.are.equal(600, #all)
    for i, e in ipairs(all) do
      assert.are.equal(900 + i, e.seq)
      assert.are.equal("k" .. (900 + i), e.key_id)
    end
    assert.are.equal(300, j:count { status = 200 })
    assert.are.equal(99, j:count { since = 1401 })
    assert.are.equal(1, j:count { key_id = "k1024" })
    j:clear()
    assert.are.equal(0, j:count {})
    j:record { dialect = "huawei", action = "create-key", neutral = "create_key", status = 200, faults = {} }
    assert.are.same({ 1501 }, { j:query({})[1].seq })
  end)

  it("names a client makes up past the name table's room still read back and filter", function()
    local j = journal.new(2000)
    for i = 1, 1500 do
      j:record { dialect = "tencent", action = "Made" .. i, method = "POST", status = 200, path = "/",
                 key_id = "key-" .. i, caller = "AK" .. (i % 7), time = 1700000000 + i, latency_ms = i % 3 }
    end
    assert.is_true(#j.strs <= 1024) -- the table stops growing
    assert.are.equal(1, j:count { action = "Made1400" })
    assert.are.equal(1, j:count { action = "Made3", caller = "AK3", key_id = "key-3" })
    assert.are.equal(1500, j:count { dialect = "tencent", method = "POST", path = "/" })
    local e = j:query({}, 1)[1]
    assert.are.same({ "Made1500", "key-1500", "AK2", 1700001500, 0, 1500, "tencent" },
      { e.action, e.key_id, e.caller, e.time, e.latency_ms, e.seq, e.dialect })
  end)

  it("forgets an error's fields when its slot is reused by an answer without one", function()
    local j = journal.new(2)
    j:record { dialect = "tencent", action = "Encrypt", status = 200, error = "ResourceUnavailable.CmkDisabled",
               message = "disabled", faults = { "f1" }, connection = "reset", request_id = "r-1", reason = "fault f1" }
    j:record { dialect = "tencent", action = "Encrypt", status = 200 }
    assert.are.same({ 1, 1, 1 }, { j:count { fault = "f1" }, j:count { request_id = "r-1" },
                                   j:count { connection = "reset" } })
    j:record { dialect = "tencent", action = "Decrypt", status = 200, faults = {} }
    assert.are.same({ 0, 0, 0, 0 }, { j:count { fault = "f1" }, j:count { request_id = "r-1" },
                                      j:count { connection = "reset" }, j:count { error = "ResourceUnavailable.CmkDisabled" } })
    local e = j:query({ action = "Decrypt" })[1]
    assert.are.same({}, e.faults)
    assert.is_nil(e.error)
    assert.is_nil(e.message)
  end)

  it("reads back a key id and path past the name table's room until their slot is reused", function()
    local j = journal.new(2)
    for i = 1, 1100 do
      j:record { dialect = "tencent", action = "Encrypt", status = 200, key_id = "key-" .. i, path = "/p" .. i }
    end
    assert.are.same({ "key-1100", "/p1100", 1 }, { j:query({}, 1)[1].key_id, j:query({}, 1)[1].path,
                                                 j:count { key_id = "key-1099", path = "/p1099" } })
    j:record { dialect = "tencent", action = "ListKeys", status = 200, path = "/" }
    j:record { dialect = "tencent", action = "Encrypt", status = 200, key_id = "key-1", path = "/p1" }
    local e = j:query {}
    assert.are.same({ "/", "key-1", "/p1" }, { e[1].path, e[2].key_id, e[2].path })
    assert.is_nil(e[1].key_id)
    assert.are.same({ 0, 0, 1 }, { j:count { key_id = "key-1100" }, j:count { path = "/p1099" },
                                   j:count { key_id = "key-1", path = "/p1" } })
  end)
end)

describe("response shaping (scenarios/faults/shaping.lua)", function()
  before_each(function() start("scenarios/faults/shaping.lua") end)

  it("changes the decoded JSON of an answer", function()
    local r = tc("DescribeKey", { KeyId = TC_KEY })
    assert.are.equal("shaped by the scenario", r.KeyMetadata.Description)
    assert.are.equal(TC_KEY, r.KeyMetadata.KeyId)
  end)

  it("replaces status and body with raw bytes", function()
    local res = hw("describe-key", { key_id = HW_KEY })
    assert.are.equal(503, res.status)
    assert.are.equal("upstream connect error", res.body)
  end)

  it("reads the journal from a hook, without touching other answers' headers", function()
    local req = client.tencent { action = "Encrypt", params = { KeyId = TC_KEY, Plaintext = "aGk=" } }
    assert.are.equal("0", kmsemu.handle(req).headers["X-Encrypts-Before"])
    assert.are.equal("1", hw("encrypt-data", { key_id = HW_KEY, plain_text = "x" }).headers["X-Encrypts-Before"])
    req = client.tencent { action = "ListKeys", params = {} }
    assert.is_nil(kmsemu.handle(req).headers["X-Encrypts-Before"])
  end)
end)

describe("the admin API", function()
  before_each(function() start("scenarios/faults/errors.lua") end)

  it("answers health", function()
    local status, body = admin("GET", "health")
    assert.are.equal(200, status)
    assert.are.same({ status = "ok", scenario = "scenarios/faults/errors.lua" }, body)
  end)

  it("lists, adds, removes and clears faults; an added fault acts at once", function()
    local _, body = admin("GET", "faults")
    assert.are.equal(4, #body.faults)
    assert.is_true(body.faults[3].when)
    local status, added = admin("POST", "faults",
      '{"dialect":"tencent","action":"ListKeys","nth":1,"error":"InternalError"}')
    assert.are.equal(201, status)
    assert.are.equal("5", added.id)
    assert.are.equal("InternalError", tc("ListKeys", {}).Error.Code)
    assert.is_nil(tc("ListKeys", {}).Error)
    assert.are.equal(409, (admin("POST", "faults", '{"id":"5","action":"encrypt","error":"internal"}')))
    local _, named = admin("POST", "faults", '{"id":"6","action":"encrypt","error":"internal"}')
    assert.are.equal("6", named.id)
    assert.are.equal("7", select(2, admin("POST", "faults", '{"action":"encrypt","error":"internal"}')).id)
    assert.are.equal(200, (admin("DELETE", "faults/5")))
    assert.are.equal(404, (admin("DELETE", "faults/5")))
    assert.are.equal(200, (admin("DELETE", "faults")))
    assert.are.same({}, select(2, admin("GET", "faults")).faults)
  end)

  it("refuses a bad fault with the reason", function()
    local status, body = admin("POST", "faults", '{"action":"encrypt","nth":0,"error":"internal"}')
    assert.are.equal(400, status)
    assert.is_truthy(body.error:find("nth must be a positive integer"), body.error)
    assert.are.equal(400, (admin("POST", "faults", "[1]")))
  end)

  it("queries, counts and clears the journal with query filters", function()
    for _ = 1, 3 do
      tc("GenerateDataKey", { KeyId = TC_KEY, KeySpec = "AES_256" })
    end
    tc("ListKeys", {})
    local _, c = admin("GET", "journal/count?action=generate_data_key&error=ResourceUnavailable.CmkDisabled")
    assert.are.equal(1, c.count)
    local _, q = admin("GET", "journal?action=GenerateDataKey&limit=2")
    assert.are.equal(2, q.count)
    assert.are.same({ "1" }, q.entries[2].faults)
    assert.is_truthy(select(3, admin("GET", "journal?action=ListKeys")).body:find('"faults":[]', 1, true))
    assert.are.equal(4, select(2, admin("GET", "journal/count")).count)
    admin("DELETE", "journal")
    assert.are.equal(0, select(2, admin("GET", "journal/count")).count)
    assert.is_truthy(select(3, admin("GET", "journal")).body:find('"entries":[]', 1, true))
  end)

  it("lists keys and changes a key's state", function()
    local _, body = admin("GET", "keys")
    assert.are.equal(3, #body.keys)
    local status = admin("POST", "keys/state",
      cjson.encode { dialect = "tencent", owner = "ap-guangzhou", id = TC_KEY, state = "disabled" })
    assert.are.equal(200, status)
    assert.are.equal("ResourceUnavailable.CmkDisabled", tc("Encrypt", { KeyId = TC_KEY, Plaintext = "aGk=" }).Error.Code)
    assert.are.equal(404, (admin("POST", "keys/state",
      cjson.encode { dialect = "tencent", owner = "ap-guangzhou", id = "nope", state = "disabled" })))
    assert.are.equal(400, (admin("POST", "keys/state",
      cjson.encode { dialect = "tencent", owner = "ap-guangzhou", id = TC_KEY, state = "frozen" })))
  end)

  it("resets to the scenario's initial state", function()
    admin("POST", "keys/state",
      cjson.encode { dialect = "tencent", owner = "ap-guangzhou", id = TC_KEY, state = "disabled" })
    admin("DELETE", "faults")
    tc("ListKeys", {})
    assert.are.equal(200, (admin("POST", "reset")))
    assert.are.equal(0, select(2, admin("GET", "journal/count")).count)
    assert.are.equal(4, #select(2, admin("GET", "faults")).faults)
    assert.is_nil(tc("Encrypt", { KeyId = TC_KEY, Plaintext = "aGk=" }).Error)
  end)

  it("exports Prometheus counters of requests and fired faults", function()
    for _ = 1, 3 do
      tc("GenerateDataKey", { KeyId = TC_KEY, KeySpec = "AES_256" })
    end
    local status, _, res = admin("GET", "metrics")
    assert.are.equal(200, status)
    assert.is_truthy(res.headers["Content-Type"]:find("^text/plain"))
    -- The fault's error is counted under its code, though Tencent answers it with 200.
    assert.is_truthy(res.body:find(
      'kmsemu_requests_total{dialect="tencent",action="GenerateDataKey",code="",status="200"} 2\n', 1, true), res.body)
    assert.is_truthy(res.body:find('kmsemu_requests_total{dialect="tencent",action="GenerateDataKey",'
      .. 'code="ResourceUnavailable.CmkDisabled",status="200"} 1\n', 1, true), res.body)
    assert.is_truthy(res.body:find('kmsemu_faults_fired_total{fault="1"} 1\n', 1, true), res.body)
  end)

  it("counts made-up action names under one metric, and keeps them in the journal", function()
    for i = 1, 50 do
      tc("NoSuchAction" .. i, {})
    end
    local body = select(3, admin("GET", "metrics")).body
    assert.is_nil(body:find("NoSuchAction", 1, true))
    assert.is_truthy(body:find(
      'kmsemu_requests_total{dialect="tencent",action="(unknown)",code="InvalidAction",status="200"} 50\n', 1, true),
      body)
    assert.are.equal(1, select(2, admin("GET", "journal/count?action=NoSuchAction7")).count)
  end)

  it("shows the scenario, and replaces it only with one that loads", function()
    local _, shown = admin("GET", "scenario")
    assert.are.equal("scenarios/faults/errors.lua", shown.path)
    assert.is_truthy(shown.source:find('seed "faults-errors"', 1, true))
    local status, body = admin("PUT", "scenario", 'seed "x"\ncmk { id = "k", dialect = "tencent", colour = 1 }')
    assert.are.equal(400, status)
    assert.are.equal("admin:scenario:2: cmk: unknown field 'colour'", body.error)
    assert.are.equal(4, #select(2, admin("GET", "faults")).faults) -- the old one stays
    local src = shown.source:gsub("\nfault {.-}\n", "\n")
      .. '\nfault { action = "ListKeys", error = "InternalError" }\n'
    assert.are.equal(200, (admin("PUT", "scenario", src)))
    assert.are.equal("InternalError", tc("ListKeys", {}).Error.Code)
    admin("DELETE", "faults")
    assert.are.equal(200, (admin("POST", "reset"))) -- back to the replacement, not the file
    assert.are.equal("InternalError", tc("ListKeys", {}).Error.Code)
  end)

  it("answers an unknown operation with 404 JSON", function()
    local status, body = admin("GET", "nothing")
    assert.are.equal(404, status)
    assert.is_string(body.error)
  end)

  it("refuses callers that are not on loopback", function()
    local res = kmsemu.handle { method = "GET", path = "/_kmsemu/health", query = "", headers = {},
      body = "", remote_addr = "10.1.2.3" }
    assert.are.equal(403, res.status)
    assert.is_string(cjson.decode(res.body).error)
  end)

  it("requires the bearer token when started with one, from loopback too", function()
    start("scenarios/faults/errors.lua", "s3cret")
    assert.are.equal(401, (admin("GET", "health")))
    assert.are.equal(401, (admin("GET", "health", nil, { authorization = "Bearer s3creT" })))
    assert.are.equal(200, (admin("GET", "health", nil, { authorization = "Bearer s3cret" })))
    local res = kmsemu.handle { method = "GET", path = "/_kmsemu/health", query = "",
      headers = { authorization = "Bearer s3cret" }, body = "", remote_addr = "10.1.2.3" }
    assert.are.equal(200, res.status)
  end)
end)
