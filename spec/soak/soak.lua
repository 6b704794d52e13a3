-- make soak / make memcheck: kmsemu under a long stream of signed requests
-- of both dialects with faults on (spec/soak/scenario.lua).
--
--   soak      SOAK_REQUESTS (1000000) requests through wrk, in runs of
--             SOAK_SECONDS (5) signed afresh (wrk runs for a time, not a
--             count, so the total ends a little over); after each run the
--             server's RSS and open descriptors are sampled. Passes when
--             no response is unexpected (200, or an error one of the
--             scenario's faults injects) and the last third of the
--             samples is within 5 % or 1 MiB (RSS) and 2 (fds) of the
--             first third, the first run being warm-up (at 64
--             connections, so that every worker has served).
--   memcheck  kmsemu under valgrind memcheck: SOAK_REQUESTS (3000) of
--             every kind of call, the admin API and the HTTP refusals,
--             then SIGTERM. Passes when the exit is clean and valgrind
--             reports no error and no definite or indirect leak.
--
-- Prints one summary line per chunk and a last line "soak: ok" or
-- "memcheck: ok", or what failed, with exit status 1.
local client = require "support.client"
local core = require "kmsemu.core"
local fs = require "support.fs"
local server = require "support.server"

local MODE = arg[1] or "soak"
local BUILD = os.getenv("BUILD") or "build"
local BIN = os.getenv("KMSEMU_BIN") or (BUILD .. "/kmsemu")
local MEMCHECK = MODE == "memcheck"
local TOTAL = tonumber(os.getenv("SOAK_REQUESTS") or (MEMCHECK and "3000" or "1000000"))
local SECONDS = tonumber(os.getenv("SOAK_SECONDS") or "5")
local TMP = os.tmpname()
os.remove(TMP)
assert(os.execute("mkdir -p " .. TMP))

local failures = {}
local function fail(msg)
  failures[#failures + 1] = msg
  io.write("FAIL ", msg, "\n")
end

local sh, read, write = fs.sh, fs.read, fs.write

-- The server ------------------------------------------------------------

-- Starts BIN (under valgrind for memcheck) and waits for its banner; the
-- handle works with support.server's send().
local function start()
  local s = { dir = TMP, out = TMP .. "/out", err = TMP .. "/err", status = TMP .. "/status" }
  local argv = BIN .. " --listen 127.0.0.1:0 --scenario spec/soak/scenario.lua"
  if MEMCHECK then
    s.vglog = TMP .. "/valgrind.log"
    argv = ("valgrind -q --leak-check=full --show-leak-kinds=definite,indirect"
      .. " --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file=%s %s")
      :format(s.vglog, argv)
  end
  os.execute(("sh -c '%s >%s 2>%s & echo $! >%s/pid; wait $!; echo $? >%s' >/dev/null 2>&1 &")
    :format(argv, s.out, s.err, TMP, s.status))
  for _ = 1, 3000 do -- valgrind takes its time
    s.url = (read(s.out) or ""):match("kmsemu listening on (http://[%d.]+:%d+)")
    if s.url or read(s.status) then
      break
    end
    os.execute("sleep 0.02")
  end
  assert(s.url, "kmsemu did not start: " .. (read(s.err) or ""))
  s.pid = tonumber(read(TMP .. "/pid"))
  s.host = s.url:match("^http://(.*)$")
  return s
end

local function stop(s)
  os.execute(("kill -TERM %d"):format(s.pid))
  for _ = 1, 3000 do
    local st = tonumber(read(s.status) or "") -- written after it is created
    if st then
      return st
    end
    os.execute("sleep 0.02")
  end
  os.execute(("kill -KILL %d"):format(s.pid))
  return nil
end

-- RSS and descriptors from /proc, then the Lua heap and its slabs from
-- the metrics (in KiB), which tell a leak in Lua from the allocator's
-- keeping.
local function sample(s)
  local status = read(("/proc/%d/status"):format(s.pid)) or ""
  local fds = tonumber(sh(("ls /proc/%d/fd | wc -l"):format(s.pid)))
  local _, _, m = server.send(s, { method = "GET", path = "/_kmsemu/metrics", headers = {}, body = "" })
  local function gauge(name)
    return (tonumber((m or ""):match("\n" .. name .. " (%d+)")) or 0) // 1024
  end
  return { rss = tonumber(status:match("VmRSS:%s+(%d+)")), fds = fds,
           heap = gauge("kmsemu_lua_heap_bytes"), slabs = gauge("kmsemu_lua_slab_bytes") }
end

-- Requests --------------------------------------------------------------

local HW_STEADY, HW_FLIPS = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", "5f3c2a10-6b7d-4e8f-9a01-23456789abcd"
local TC_STEADY, TC_FLIPS = "6d4f5e70-1e38-11e9-b129-5cb9019b4b06", "23e80852-1e38-11e9-b129-5cb9019b4b01"

-- What the scenario's faults may answer besides 200: status and code.
-- Tencent answers every error with HTTP 200 and Response.Error.Code.
local EXPECTED = {
  ["200 -"] = "success",
  ["200 InternalError"] = "fault internal",
  ["200 RequestLimitExceeded"] = "fault throttled",
  ["200 ServiceUnavailable"] = "fault unavailable",
  ["200 ResourceUnavailable.CmkDisabled"] = "a flipping key, disabled by a fault",
  ["500 KMS.0101"] = "fault internal",
  ["429 APIGW.0308"] = "fault throttled",
  ["502 APIGW.0202"] = "fault unavailable",
  ["400 KMS.0209"] = "a flipping key, disabled by a fault",
}

-- Ciphertexts to decrypt, made once (retried past injected faults).
local function ciphertexts(s)
  local out = {}
  for _ = 1, 50 do
    if not out.tencent then
      local _, _, body = server.send(s, client.tencent { action = "Encrypt", host = s.host,
        params = { KeyId = TC_STEADY, Plaintext = core.b64("soak plaintext") } })
      local r = client.json { body = body }.Response
      out.tencent = r.CiphertextBlob
    end
    if not out.huawei then
      local status, _, body = server.send(s, client.huawei { action = "encrypt-data", host = s.host,
        body = { key_id = HW_STEADY, plain_text = "soak plaintext" } })
      out.huawei = status == 200 and client.json { body = body }.cipher_text or nil
    end
    if out.tencent and out.huawei then
      return out
    end
  end
  error("could not make the ciphertexts to decrypt")
end

-- The mix, signed now. Weights: how many of each in the rotation.
local function mix(s, ct)
  local h, t = s.host, {}
  local function add(weight, req)
    for _ = 1, weight do
      t[#t + 1] = req
    end
  end
  add(3, client.tencent { action = "GenerateDataKey", host = h, params = { KeyId = TC_STEADY, KeySpec = "AES_256" } })
  add(2, client.tencent { action = "Encrypt", host = h, params = { KeyId = TC_FLIPS, Plaintext = core.b64("hello") } })
  add(2, client.tencent { action = "Decrypt", host = h, params = { CiphertextBlob = ct.tencent } })
  add(1, client.tencent { action = "DescribeKey", host = h, params = { KeyId = TC_STEADY } })
  add(1, client.tencent { action = "GenerateRandom", host = h, params = { NumberOfBytes = 32 } })
  add(3, client.huawei { action = "create-datakey", host = h, body = { key_id = HW_STEADY } })
  add(2, client.huawei { action = "encrypt-data", host = h, body = { key_id = HW_FLIPS, plain_text = "hello" } })
  add(2, client.huawei { action = "decrypt-data", host = h, body = { cipher_text = ct.huawei } })
  add(1, client.huawei { action = "describe-key", host = h, body = { key_id = HW_STEADY } })
  add(1, client.huawei { action = "gen-random", host = h, body = { random_data_length = "256" } })
  if MEMCHECK then -- every other kind once in the rotation, errors included
    add(1, client.tencent { action = "CreateKey", host = h, params = { Alias = "mc" .. os.time() } })
    add(1, client.tencent { action = "ListKeys", host = h, params = {} })
    add(1, client.tencent { action = "NoSuchAction", host = h, params = {} })
    add(1, client.tencent { action = "Encrypt", host = h, params = { KeyId = TC_STEADY, Plaintext = "%%%" } })
    add(1, client.tencent { action = "Encrypt", host = h, params = { KeyId = TC_STEADY, Plaintext = "aGk=" },
      creds = { secret_id = client.TENCENT.secret_id, secret_key = "wrong", region = "ap-guangzhou" } })
    add(1, client.huawei { action = "create-key", host = h, body = { key_alias = "mc" .. os.time() } })
    add(1, client.huawei { action = "list-keys", host = h, body = {} })
    add(1, client.huawei { action = "decrypt-data", host = h, body = { cipher_text = "AAAA" } })
    add(1, client.huawei { action = "encrypt-data", host = h, body = "{not json" })
    add(1, client.huawei { action = "encrypt-data", host = h, body = { key_id = HW_STEADY, plain_text = "x" },
      creds = { ak = client.HUAWEI.ak, sk = "wrong", project_id = client.HUAWEI.project_id } })
  end
  return t
end

-- A wrk script that cycles through the requests and reports each
-- "status code" it saw.
local function wrk_script(reqs)
  local L = { "local reqs = {}" }
  for i, r in ipairs(reqs) do
    local hdrs = {}
    -- Host too: wrk.format only adds its own once wrk has set it up,
    -- after this top-level code has run.
    for k, v in pairs(r.headers) do
      hdrs[#hdrs + 1] = ("[%q] = %q"):format(k == "host" and "Host" or k, v)
    end
    L[#L + 1] = ("reqs[%d] = wrk.format(%q, %q, { %s }, %q)"):format(i, r.method,
      r.path .. (r.query ~= "" and ("?" .. r.query) or ""), table.concat(hdrs, ", "), r.body)
  end
  L[#L + 1] = [[
local threads = {}
function setup(thread) threads[#threads + 1] = thread end
local i = 0
counts = {}
function init() i = math.random(#reqs) - 1 end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
function response(status, headers, body)
  local code = body:match('"Code":"([^"]+)"') or body:match('"error_code":"([^"]+)"') or "-"
  local k = status .. " " .. code
  counts[k] = (counts[k] or 0) + 1
end
function done(summary)
  local e = summary.errors
  io.write(string.format("ERRORS %d\n", e.connect + e.read + e.write + e.timeout))
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do io.write(string.format("COUNT %d %s\n", v, k)) end
  end
end]]
  local path = TMP .. "/wrk.lua"
  write(path, table.concat(L, "\n"))
  return path
end

-- The warm-up run opens as many connections as kmsemu has workers (its
-- default --threads): each worker's stack pages become resident the
-- first time it serves, and with 8 connections a run reaches only some
-- of them, so RSS crept up by up to 64 x 32 KiB over a long soak, a
-- fixed cost that looked like growth.
local THREADS, CONNS, WARM_CONNS = 2, 8, 64

local function run_chunk(s, ct, totals, conns)
  local script = wrk_script(mix(s, ct))
  local out = sh(("wrk -t%d -c%d -d%ds --timeout 10s -s %s %s/ 2>&1")
    :format(THREADS, conns or CONNS, SECONDS, script, s.url))
  local sent = 0
  for v, k in out:gmatch("COUNT (%d+) ([^\n]+)") do
    totals[k] = (totals[k] or 0) + tonumber(v)
    sent = sent + tonumber(v)
  end
  local errors = tonumber(out:match("ERRORS (%d+)"))
  if not errors then
    fail("wrk did not report: " .. out)
    errors = 0
  end
  totals["socket errors"] = (totals["socket errors"] or 0) + errors
  return sent
end

-- Admin API and HTTP-level refusals, for memcheck.
local function extra_calls(s)
  local A = s.url .. "/_kmsemu"
  local calls = {
    "curl -s " .. A .. "/health",
    "curl -s " .. A .. "/journal?limit=5",
    "curl -s " .. A .. "/metrics",
    "curl -s " .. A .. "/keys",
    "curl -s " .. A .. "/scenario",
    "curl -s -X POST " .. A .. "/faults -d '{\"dialect\":\"tencent\",\"action\":\"Decrypt\",\"first\":1,\"error\":\"InternalError\"}'",
    "curl -s " .. A .. "/faults",
    "curl -s -X POST " .. A .. "/faults -d '{not json'",
    "curl -s -X DELETE " .. A .. "/journal",
    "curl -s -X POST " .. A .. "/reset",
    "curl -s -H 'X-Pad: " .. ("p"):rep(20000) .. "' " .. s.url .. "/",
    "curl -s --data-binary @" .. TMP .. "/big " .. s.url .. "/",
  }
  write(TMP .. "/big", ("x"):rep(2 * 1024 * 1024)) -- over --max-body: 413
  local many = {}
  for i = 1, 70 do -- over civetweb's 64 fields: 431
    many[i] = ("-H 'X-Field-%d: v'"):format(i)
  end
  calls[#calls + 1] = "curl -s " .. table.concat(many, " ") .. " " .. s.url .. "/"
  for _, c in ipairs(calls) do
    sh(c .. " >/dev/null 2>&1")
  end
end

-- Main --------------------------------------------------------------------

local function mean(t, from, to)
  local sum = 0
  for i = from, to do
    sum = sum + t[i]
  end
  return sum / (to - from + 1)
end

local function flat(samples)
  local n = #samples - 1 -- the first sample, after the warm-up run, is the base
  if n < 3 then
    return
  end
  local rss, fds = {}, {}
  for i = 2, #samples do
    rss[#rss + 1], fds[#fds + 1] = samples[i].rss, samples[i].fds
  end
  local third = n // 3
  local r1, r3 = mean(rss, 1, third), mean(rss, n - third + 1, n)
  local f1, f3 = mean(fds, 1, third), mean(fds, n - third + 1, n)
  io.write(("rss: first third %.0f KiB, last third %.0f KiB (%+.1f %%); fds: %.1f -> %.1f\n")
    :format(r1, r3, (r3 - r1) * 100 / r1, f1, f3))
  if r3 > r1 * 1.05 and r3 > r1 + 1024 then
    fail(("RSS grew from %.0f to %.0f KiB"):format(r1, r3))
  end
  if f3 > f1 + 2 then
    fail(("open descriptors grew from %.1f to %.1f"):format(f1, f3))
  end
end

local s = start()
local ct = ciphertexts(s)
local totals, samples, done = {}, {}, 0
local started = os.time()
while done < TOTAL do
  done = done + run_chunk(s, ct, totals, #samples == 0 and not MEMCHECK and WARM_CONNS or nil)
  os.execute("sleep 0.3") -- wrk's connections are closing: let them go
  samples[#samples + 1] = sample(s)
  local last = samples[#samples]
  io.write(("%s: %d requests, %d s, RSS %d KiB (Lua heap %d, slabs %d), %d fds\n"):format(MODE, done,
    os.time() - started, last.rss, last.heap, last.slabs, last.fds))
  io.flush()
end
if MEMCHECK then
  extra_calls(s)
end
local status = stop(s)

local unexpected = 0
local keys = {}
for k in pairs(totals) do
  keys[#keys + 1] = k
end
table.sort(keys)
for _, k in ipairs(keys) do
  local why = EXPECTED[k]
  if not why and not MEMCHECK and totals[k] > 0 then
    unexpected = unexpected + totals[k]
  end
  local flag = (MEMCHECK or totals[k] == 0) and "" or "  UNEXPECTED"
  io.write(("  %9d  %s%s\n"):format(totals[k], k, why and ("  (" .. why .. ")") or flag))
end
io.write(("%d requests in %d s, %d unexpected\n"):format(done, os.time() - started, unexpected))
if unexpected > 0 then
  fail(unexpected .. " unexpected responses")
  io.write("kmsemu's stderr:\n", read(s.err) or "", "\n")
end
if status ~= 0 then
  fail("kmsemu exited with status " .. tostring(status) .. " after SIGTERM")
end
if MEMCHECK then
  local log = read(s.vglog) or ""
  io.write(log)
  if log:find("%S") then
    fail("valgrind reported errors or leaks (above)")
  end
else
  flat(samples)
end
os.execute("rm -rf " .. TMP)
if #failures > 0 then
  io.write(MODE, ": FAILED: ", table.concat(failures, "; "), "\n")
  os.exit(1)
end
io.write(MODE, ": ok\n")
