-- GET /_kmsemu/metrics read by Prometheus' own text-format parser
-- (prometheus_client, pinned with hashes in spec/support/prometheus/), and
-- checked against the journal after a mix of answered, refused and
-- fault-injected calls of both dialects: requests by dialect, action,
-- error code and status; a latency histogram per action; faults fired;
-- keys by dialect and state.
local cjson = require "cjson"
local client = require "support.client"
local server = require "support.server"

local HW_KEY, TC_KEY = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", "6d4f5e70-1e38-11e9-b129-5cb9019b4b06"
local MISSING = "00000000-0000-4000-8000-000000000000"
local DELAY_MS = 30

local FAULTS = ([[
fault { id = "every-other-encrypt", action = "encrypt", every = 2, error = "throttled" }
fault { id = "slow-describe", action = "describe_key", key_id = %q, delay_ms = %d }
]]):format(TC_KEY, DELAY_MS)

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok = p:close()
  return out, ok
end

-- The exposition as the parser reads it: families by name.
local function parse(python, text)
  local path = os.tmpname()
  assert(io.open(path, "w")):write(text):close()
  local out, ok = sh(("%s spec/support/prometheus/parse.py <%s"):format(python, path))
  os.remove(path)
  assert.is_true(ok, "the parser refused the exposition:\n" .. text)
  local families = {}
  for _, f in ipairs(cjson.decode(out)) do
    families[f.name] = f
  end
  return families
end

local function admin(s, method, path, body)
  local status, _, text = server.send(s, { method = method, path = "/_kmsemu/" .. path, query = "",
    headers = { ["content-type"] = "application/json" }, body = body or "" })
  return status, text
end

local function key_of(labels, ...)
  local parts = {}
  for _, name in ipairs { ... } do
    parts[#parts + 1] = tostring(labels[name])
  end
  return table.concat(parts, "|")
end

describe("the Prometheus metrics #http", function()
  local python, s, scenario

  setup(function()
    local out, ok = sh("bash spec/support/prometheus/venv.sh 2>&1")
    assert.is_true(ok, out)
    python = out:match("([^\n]+)\n$")
    scenario = os.tmpname()
    assert(io.open(scenario, "w")):write(server.read("scenarios/default.lua"), "\n", FAULTS):close()
    s = server.start { "--scenario", scenario, "--quiet" }
    assert.is_string(s.url)
  end)

  teardown(function()
    server.stop(s)
    os.remove(scenario)
  end)

  it("count what the journal holds, by error code even where the status is 200", function()
    local host = s.url:match("^http://(.*)$")
    local wrong_tc = { secret_id = client.TENCENT.secret_id, secret_key = "wrong", region = "ap-guangzhou" }
    local wrong_hw = { ak = client.HUAWEI.ak, sk = "wrong", project_id = client.HUAWEI.project_id }
    for _ = 1, 3 do -- the 2nd, 4th and 6th encrypt meet the fault
      server.send(s, client.tencent { action = "Encrypt", host = host,
        params = { KeyId = TC_KEY, Plaintext = "aGk=" } })
    end
    for _ = 1, 3 do
      server.send(s, client.huawei { action = "encrypt-data", host = host,
        body = { key_id = HW_KEY, plain_text = "hi" } })
    end
    server.send(s, client.tencent { action = "GenerateDataKey", host = host, params = { KeyId = TC_KEY } })
    server.send(s, client.tencent { action = "DescribeKey", host = host, params = { KeyId = TC_KEY } })
    server.send(s, client.tencent { action = "DescribeKey", host = host, params = { KeyId = MISSING } })
    server.send(s, client.tencent { action = "ListKeys", host = host, creds = wrong_tc, params = {} })
    server.send(s, client.tencent { action = "NoSuchAction", host = host, params = {} })
    server.send(s, client.huawei { action = "describe-key", host = host, body = { key_id = MISSING } })
    server.send(s, client.huawei { action = "list-keys", host = host, creds = wrong_hw, body = {} })
    server.send(s, client.huawei { action = "disable-key", host = host, body = { key_id = HW_KEY } })
    assert.are.equal(200, (admin(s, "POST", "keys/state", cjson.encode {
      dialect = "tencent", owner = "ap-guangzhou", id = TC_KEY, state = "pending_deletion" })))

    local _, jtext = admin(s, "GET", "journal")
    local entries = cjson.decode(jtext).entries
    local _, mtext = admin(s, "GET", "metrics")
    local f = parse(python, mtext)
    local _, ktext = admin(s, "GET", "keys")

    -- Requests: one series per dialect, action, code ("" for success) and
    -- status, each the journal's count.
    local want = {}
    for _, e in ipairs(entries) do
      local action = e.action == "NoSuchAction" and "(unknown)" or e.action
      local labels = { dialect = e.dialect, action = action, code = e.error or "", status = ("%d"):format(e.status) }
      local k = key_of(labels, "dialect", "action", "code", "status")
      want[k] = (want[k] or 0) + 1
    end
    local got = {}
    assert.are.equal("counter", f.kmsemu_requests.type)
    assert.is_truthy(f.kmsemu_requests.help:find("error code", 1, true))
    for _, smp in ipairs(f.kmsemu_requests.samples) do
      if smp.name == "kmsemu_requests_total" then
        got[key_of(smp.labels, "dialect", "action", "code", "status")] = smp.value
      end
    end
    assert.are.same(want, got)
    assert.are.equal(2, got["tencent|Encrypt||200"])
    assert.are.equal(1, got["tencent|Encrypt|RequestLimitExceeded|200"])
    assert.are.equal(1, got["tencent|ListKeys|AuthFailure.SignatureFailure|200"])
    assert.are.equal(1, got["huawei|list-keys|APIGW.0301|401"])

    -- Faults fired, by id, as the journal lists them.
    local fired = {}
    for _, e in ipairs(entries) do
      for _, id in ipairs(e.faults) do
        fired[id] = (fired[id] or 0) + 1
      end
    end
    got = {}
    for _, smp in ipairs(f.kmsemu_faults_fired.samples) do
      if smp.name == "kmsemu_faults_fired_total" then
        got[smp.labels.fault] = smp.value
      end
    end
    assert.are.same(fired, got)
    assert.are.same({ ["every-other-encrypt"] = 3, ["slow-describe"] = 1 }, got)

    -- Latency: per dialect and action, cumulative buckets ending in +Inf
    -- at the journal's count; the delayed call is above 25 ms.
    local h, counts = f.kmsemu_request_duration_seconds, {}
    assert.are.equal("histogram", h.type)
    for _, e in ipairs(entries) do
      local k = e.dialect .. "|" .. (e.action == "NoSuchAction" and "(unknown)" or e.action)
      counts[k] = (counts[k] or 0) + 1
    end
    local buckets, sums, n = {}, {}, {}
    for _, smp in ipairs(h.samples) do
      local k = smp.labels.dialect .. "|" .. smp.labels.action
      if smp.name:find("_bucket$") then
        buckets[k] = buckets[k] or {}
        table.insert(buckets[k], { le = smp.labels.le, n = smp.value })
      elseif smp.name:find("_sum$") then
        sums[k] = smp.value
      else
        n[k] = smp.value
      end
    end
    assert.are.same(counts, n)
    for k, list in pairs(buckets) do
      assert.are.equal(15, #list, k)
      assert.are.equal("+Inf", list[#list].le)
      assert.are.equal(counts[k], list[#list].n, k)
      for i = 2, #list do
        assert.is_true(list[i].n >= list[i - 1].n, k)
      end
      assert.is_true(sums[k] >= 0, k)
    end
    local describe_le = {}
    for _, b in ipairs(buckets["tencent|DescribeKey"]) do
      describe_le[b.le] = b.n
    end
    assert.are.equal(2, counts["tencent|DescribeKey"])
    assert.is_true(describe_le["0.025"] <= 1)
    assert.is_true(sums["tencent|DescribeKey"] >= DELAY_MS / 1000)

    -- Keys by dialect and state: the admin API's list, every state shown.
    local keys = {}
    for _, k in ipairs(cjson.decode(ktext).keys) do
      local id = k.dialect .. "|" .. k.state
      keys[id] = (keys[id] or 0) + 1
    end
    assert.are.equal("gauge", f.kmsemu_keys.type)
    got = {}
    for _, smp in ipairs(f.kmsemu_keys.samples) do
      if smp.value > 0 then
        got[smp.labels.dialect .. "|" .. smp.labels.state] = smp.value
      end
    end
    assert.are.same(keys, got)
    assert.are.equal(10, #f.kmsemu_keys.samples)
    assert.are.equal(2, got["tencent|pending_deletion"])
    assert.are.equal(2, got["huawei|disabled"])
  end)
end)
