-- The real binary over loopback HTTP: start-up and shutdown, both dialects
-- through curl, the body cap, keep-alive, and the C core's fallbacks when
-- the Lua side fails or runs away (the server keeps serving).
local client = require "support.client"
local core = require "kmsemu.core"
local server = require "support.server"
local socket = require "socket"

local function host_of(s)
  return s.url:match("^http://(.*)$")
end

describe("kmsemu on the default scenario #http", function()
  local s

  lazy_setup(function()
    s = server.start { "--scenario", "scenarios/default.lua", "--max-body", "4096" }
    assert.is_string(s.url, "the binary did not announce its address")
  end)

  lazy_teardown(function()
    local status = server.stop(s)
    assert.are.equal(0, status, "SIGTERM must end kmsemu with status 0")
  end)

  it("serves a signed Tencent GenerateDataKey with Content-Type exactly application/json", function()
    local req = client.tencent { action = "GenerateDataKey", host = host_of(s),
      params = { KeyId = "23e80852-1e38-11e9-b129-5cb9019b4b01", KeySpec = "AES_256" } }
    local status, headers, body = server.send(s, req)
    assert.are.equal(200, status)
    assert.are.equal("application/json", headers["content-type"])
    local r = client.json { body = body }.Response
    assert.are.equal(32, #core.unb64(r.Plaintext))
  end)

  it("matches header names without regard to case", function()
    local req = client.tencent { action = "Encrypt", host = host_of(s),
      params = { KeyId = "23e80852-1e38-11e9-b129-5cb9019b4b01", Plaintext = "aGk=" } }
    req.headers["X-Tc-Action"], req.headers["x-tc-action"] = req.headers["x-tc-action"], nil
    local _, _, body = server.send(s, req)
    assert.is_string(client.json { body = body }.Response.CiphertextBlob)
  end)

  it("serves a signed Huawei create-datakey and its nested 404", function()
    local req = client.huawei { action = "create-datakey", host = host_of(s),
      body = { key_id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f" } }
    local status, headers, body = server.send(s, req)
    assert.are.equal(200, status)
    assert.matches("^%x+$", headers["x-request-id"])
    assert.are.equal(64, #client.json { body = body }.plain_text)
    req = client.huawei { action = "create-datakey", host = host_of(s),
      body = { key_id = "00000000-0000-4000-8000-000000000000" } }
    status, _, body = server.send(s, req)
    assert.are.equal(404, status)
    assert.are.equal("KMS.0207", client.json { body = body }.error.error_code)
  end)

  it("refuses a wrong signature in both dialects", function()
    local t = client.tencent { action = "Encrypt", host = host_of(s),
      creds = { secret_id = client.TENCENT.secret_id, secret_key = "bad", region = "ap-guangzhou" },
      params = { KeyId = "23e80852-1e38-11e9-b129-5cb9019b4b01", Plaintext = "aGk=" } }
    local _, _, body = server.send(s, t)
    assert.are.equal("AuthFailure.SignatureFailure", client.json { body = body }.Response.Error.Code)
    local h = client.huawei { action = "encrypt-data", host = host_of(s),
      creds = { ak = client.HUAWEI.ak, sk = "bad", project_id = client.HUAWEI.project_id },
      body = { key_id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", plain_text = "x" } }
    local status
    status, _, body = server.send(s, h)
    assert.are.equal(401, status)
    assert.are.equal("APIGW.0301", client.json { body = body }.error_code)
  end)

  it("answers a body over --max-body with the gateway's 413 and goes on serving", function()
    local req = client.huawei { action = "encrypt-data", host = host_of(s),
      body = { key_id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", plain_text = ("x"):rep(5000) } }
    local status, _, body = server.send(s, req)
    assert.are.equal(413, status)
    assert.are.equal("APIGW.0201", client.json { body = body }.error_code)
    req = client.huawei { action = "encrypt-data", host = host_of(s),
      body = { key_id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", plain_text = "x" } }
    assert.are.equal(200, (server.send(s, req)))
  end)

  it("reports its resident size and the Lua heap's among the metrics", function()
    local status, headers, body = server.send(s, { method = "GET", path = "/_kmsemu/metrics", headers = {}, body = "" })
    assert.are.equal(200, status)
    assert.matches("^text/plain", headers["content-type"])
    local function gauge(name)
      assert.is_truthy(body:find("# TYPE " .. name .. " gauge\n", 1, true), name)
      return tonumber(body:match("\n" .. name .. " (%d+)\n"))
    end
    local rss, heap, slabs = gauge("process_resident_memory_bytes"), gauge("kmsemu_lua_heap_bytes"),
      gauge("kmsemu_lua_slab_bytes")
    assert.is_true(rss > 1024 * 1024 and rss < 256 * 1024 * 1024, tostring(rss))
    assert.is_true(heap > 64 * 1024 and heap < rss, tostring(heap))
    assert.is_true(slabs > 0 and slabs < rss, tostring(slabs))
  end)

  it("keeps the connection alive between requests", function()
    local req = client.huawei { action = "create-datakey", host = host_of(s),
      body = { key_id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f" } }
    local p = io.popen(("curl -sv --http1.1 -o /dev/null -o /dev/null -X POST "
      .. "-H 'Content-Type: application/json' %s/v1.0/x/kms/a %s/v1.0/x/kms/b 2>&1"):format(s.url, s.url))
    local log = p:read("a")
    p:close()
    assert.matches("Re%-using existing connection", log)
    assert.are.equal(200, (server.send(s, req)))
  end)
end)

describe("kmsemu start-up #http", function()
  it("prints its flags for --help and refuses an unknown one with status 2", function()
    local p = io.popen(server.BIN .. " --help")
    local help = p:read("a")
    assert.is_true(p:close())
    for _, flag in ipairs { "--listen", "--scenario", "--lua-dir", "--threads", "--max-body", "--script-ms" } do
      assert.is_truthy(help:find(flag, 1, true), flag)
    end
    local ok, how, code = os.execute(server.BIN .. " --colour blue 2>/dev/null")
    assert.are.same({ nil, "exit", 2 }, { ok, how, code })
  end)

  local broken = {
    { "spec/fixtures/scenarios/bad_keyspec.lua", "bad_keyspec.lua:2: cmk.spec 'DES'" },
    { "spec/fixtures/scenarios/loop.lua", "loop.lua:2: script time budget" },
    { "spec/fixtures/scenarios/no_such.lua", "no_such.lua" },
  }
  for _, b in ipairs(broken) do
    it("stops with status 2 and file:line: message on " .. b[1], function()
      local s = server.start { "--scenario", b[1], "--script-ms", "20" }
      local status, err = server.wait(s)
      server.stop(s)
      assert.is_nil(s.url)
      assert.are.equal(2, status)
      assert.is_truthy(err:find(b[2], 1, true), err)
    end)
  end
end)

describe("kmsemu stopping #http", function()
  -- One keep-alive request on a new connection, its answer read whole.
  local function idle_after_request(s)
    local host, port = host_of(s):match("^(.*):(%d+)$")
    local conn = assert(socket.connect(host, tonumber(port)))
    conn:settimeout(10)
    assert(conn:send("GET /_kmsemu/metrics HTTP/1.1\r\nHost: " .. host_of(s) .. "\r\n\r\n"))
    local length
    repeat
      local line = assert(conn:receive("*l"))
      length = length or tonumber(line:lower():match("^content%-length:%s*(%d+)"))
    until line == ""
    assert(conn:receive(length))
    return conn
  end

  it("lets idle keep-alive connections go on SIGTERM, and the clients see them closed", function()
    local s = server.start { "--scenario", "scenarios/default.lua", "--quiet" }
    assert.is_string(s.url, "the binary did not announce its address")
    local a, b = idle_after_request(s), idle_after_request(s)
    local status, err = server.stop(s)
    assert.are.equal(0, status, err)
    assert.is_truthy(err:find("kmsemu: stopping: let go of 2 open connections", 1, true), err)
    for _, conn in ipairs { a, b } do
      local line, e = conn:receive("*l")
      assert.are.same({ nil, "closed" }, { line, e })
      conn:close()
    end
  end)
end)

describe("kmsemu check #http", function()
  local function check(path)
    local p = io.popen(("%s check %s 2>&1; echo \"status=$?\""):format(server.BIN, path))
    local out = p:read("a")
    p:close()
    return tonumber(out:match("status=(%d+)")), out
  end

  it("accepts every shipped scenario", function()
    local p = io.popen("find scenarios -name '*.lua' | sort")
    local n = 0
    for path in p:lines() do
      local status, out = check(path)
      assert.are.equal(0, status, out)
      assert.is_truthy(out:find(path .. ": ok\n", 1, true), out)
      n = n + 1
    end
    p:close()
    assert.is_true(n >= 3)
  end)

  it("exits 2 with file:line: message on a broken one", function()
    local status, out = check("spec/fixtures/scenarios/unknown_field.lua")
    assert.are.equal(2, status)
    assert.matches("unknown_field%.lua:3: cmk: unknown field 'colour'", out)
  end)
end)

describe("the C core's fallbacks #http", function()
  local s

  lazy_setup(function()
    s = server.start { "--lua-dir", "spec/fixtures/lua-broken", "--script-ms", "50" }
    assert.is_string(s.url)
  end)

  lazy_teardown(function()
    assert.are.equal(0, server.stop(s, "INT"), "SIGINT must end kmsemu with status 0")
  end)

  local function get(path, headers)
    return server.send(s, { method = "GET", path = path, headers = headers or {}, body = "" })
  end

  -- A request that fails rather than waits forever behind a held lock.
  local function probe(srv)
    local req = { method = "GET", path = "/", headers = {}, body = "" }
    return select(2, server.send(srv, req, { "--max-time", "10" }))
  end

  it("turns a Lua error, a malformed answer and a runaway script into a plain 500", function()
    for _, path in ipairs { "/error", "/bad", "/loop", "/pcall-loop" } do
      local status, headers, body = get(path)
      assert.are.equal(500, status, path)
      assert.are.equal("application/json", headers["content-type"])
      assert.matches('"kmsemu_error"', body)
      local st2, _, alive = get("/", { ["X-Probe"] = path })
      assert.are.equal(200, st2)
      assert.are.equal("alive " .. path, alive)
    end
  end)

  it("does not count key generation against the script budget", function()
    local status, _, body = get("/keygen")
    assert.are.equal(200, status, body)
    local st2 = get("/loop")
    assert.are.equal(500, st2, "a runaway script must still be stopped after key generation")
  end)

  it("generates a key without holding up other requests", function()
    -- /derive generates keys until /release: a request that finds it still
    -- deriving was answered while the generation ran.
    local derive = s.dir .. "/derive"
    os.execute(("(curl -s -o %s %s/derive; touch %s.done) >/dev/null 2>&1 &"):format(derive, s.url, derive))
    finally(function() get("/release") end) -- else it derives until the server stops
    assert.is_true(server.eventually(function() return probe(s)["x-deriving"] == "true" end),
      "no request was answered while /derive generated keys")
    assert.is_nil(server.read(derive .. ".done"), "/derive was answered before its release")
    assert.are.equal(200, (get("/release")))
    assert.is_true(server.eventually(function() return server.read(derive .. ".done") ~= nil end))
    assert.are.equal("alive ", server.read(derive))
  end)

  it("makes a key give way only while requests wait for the Lua state", function()
    local function paced()
      return tonumber(probe(s)["x-paced"])
    end
    local before = paced()
    assert.are.equal(200, (get("/derive-once")))
    assert.are.equal(before, paced(), "a key gave way with no request waiting")
    local derive = s.dir .. "/derive-paced"
    os.execute(("(curl -s -o %s %s/derive; touch %s.done) >/dev/null 2>&1 &"):format(derive, s.url, derive))
    finally(function() get("/release") end)
    assert.is_true(server.eventually(function() return probe(s)["x-deriving"] == "true" end))
    -- Four requests that hold the state 30 ms each: three wait while one runs.
    assert.is_true(server.eventually(function()
      os.execute(("for i in 1 2 3 4; do curl -s -o /dev/null %s/spin & done; wait"):format(s.url))
      return paced() > before
    end), "key generation never gave way to waiting requests")
    assert.are.equal(200, (get("/release")))
    assert.is_true(server.eventually(function() return server.read(derive .. ".done") ~= nil end))
  end)

  it("sleeps an injected delay without holding up other requests", function()
    -- A server of its own: the first delay outlasts the test, and only
    -- SIGKILL ends a server whose worker is asleep.
    local d = server.start { "--lua-dir", "spec/fixtures/lua-broken" }
    finally(function() server.stop(d, "KILL") end)
    assert.is_string(d.url)
    local slow = d.dir .. "/slow"
    os.execute(("(curl -s -o %s '%s/slow?delay=600000'; touch %s.done) >/dev/null 2>&1 &")
      :format(slow, d.url, slow))
    -- X-Delayed: how many delayed answers the Lua side has handed over.
    assert.is_true(server.eventually(function() return probe(d)["x-delayed"] == "1" end),
      "no request was answered after the delayed one was handed over")
    assert.is_nil(server.read(slow .. ".done"), "the delayed request was answered before its delay")
    local p = io.popen(("curl -s -w ' %%{time_total}' '%s/slow?delay=300'"):format(d.url))
    local out = p:read("a")
    p:close()
    local took = tonumber(out:match("^alive%s+([%d.]+)$"))
    assert.is_number(took, out)
    assert.is_true(took >= 0.3, "answered before its delay: " .. out)
    assert.is_nil(server.read(slow .. ".done"))
  end)

  it("hands the body over byte for byte, chunked or not", function()
    local body = ("0123456789"):rep(1000)
    local status, headers = server.send(s, { method = "POST", path = "/", headers = {}, body = body })
    assert.are.equal(200, status)
    assert.are.equal("10000", headers["x-echo-length"])
    status, headers = server.send(s, { method = "POST", path = "/", body = body,
      headers = { ["Transfer-Encoding"] = "chunked" } })
    assert.are.equal(200, status)
    assert.are.equal("10000", headers["x-echo-length"])
  end)
end)

-- The listener starts while the scenario still loads: a client that finds
-- the port early is answered once the VM is ready, or refused if it fails.
describe("the listener while the scenario loads #http", function()
  -- A port that was free a moment ago.
  local function free_port()
    local s = server.start { "--scenario", "scenarios/default.lua" }
    local port = tonumber(s.url:match(":(%d+)$"))
    server.stop(s)
    return port
  end

  local function wire(req)
    local lines = { req.method .. " " .. req.path .. " HTTP/1.1" }
    for k, v in pairs(req.headers) do
      lines[#lines + 1] = k .. ": " .. v
    end
    lines[#lines + 1] = "Content-Length: " .. #req.body
    lines[#lines + 1] = "Connection: close"
    return table.concat(lines, "\r\n") .. "\r\n\r\n" .. req.body
  end

  -- Starts kmsemu with its scenario read from a FIFO, so that it cannot
  -- load before the spec writes the text; sends make_req(host) once the
  -- port accepts, and only then writes `text`. Returns the answer's status
  -- and body, and kmsemu's exit status after SIGTERM and its stderr.
  local function load_after_request(text, make_req)
    local port = free_port()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute(("mkdir -p %s && mkfifo %s/scenario.lua"):format(dir, dir)))
    finally(function() os.execute("rm -rf " .. dir) end)
    local s = server.launch { "--listen", "127.0.0.1:" .. port, "--scenario", dir .. "/scenario.lua" }
    finally(function()
      if not s.removed then -- still reading the FIFO: SIGTERM waits until it has loaded
        server.stop(s, "KILL")
      end
    end)
    local c, connected
    assert.is_true(server.eventually(function()
      c = assert(socket.tcp())
      connected = c:connect("127.0.0.1", port)
      if not connected then
        c:close()
      end
      return connected or server.read(s.status) ~= nil
    end))
    assert.is_truthy(connected, "the port never opened: " .. server.describe(s))
    assert(c:send(wire(make_req("127.0.0.1:" .. port))))
    assert(io.open(dir .. "/text", "wb")):write(text):close()
    assert(os.execute(("timeout 30 sh -c 'cat %s/text >%s/scenario.lua'"):format(dir, dir)))
    c:settimeout(30)
    local raw, _, partial = c:receive("*a")
    c:close()
    local status, body = (raw or partial):match("^HTTP/1%.1 (%d+) .-\r\n\r\n(.*)$")
    local exit, err = server.stop(s)
    return tonumber(status), body or raw or partial, exit, err
  end

  it("holds a request that comes in while the scenario loads and answers it once loaded", function()
    local status, body, exit = load_after_request(server.read("scenarios/default.lua"), function(host)
      return client.tencent { action = "GenerateDataKey", host = host,
        params = { KeyId = "6d4f5e70-1e38-11e9-b129-5cb9019b4b06", KeySpec = "AES_256" } }
    end)
    assert.are.equal(200, status, body)
    assert.is_truthy(body:find('"CiphertextBlob"', 1, true), body)
    assert.are.equal(0, exit)
  end)

  it("refuses it with a 503 and exits 2 when the scenario fails after the port opened", function()
    local text = server.read("scenarios/default.lua") .. '\nerror("broken on purpose")\n'
    local status, body, exit, err = load_after_request(text, function(host)
      return { method = "POST", path = "/", headers = { host = host }, body = "{}" }
    end)
    assert.are.equal(503, status, body)
    assert.are.equal('{"kmsemu_error":"the emulator failed to start"}', body)
    assert.are.equal(2, exit)
    assert.is_truthy(err:find("broken on purpose", 1, true), err)
  end)
end)
