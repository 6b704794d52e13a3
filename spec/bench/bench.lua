-- make bench: kmsemu against the HTTP ceiling measured in the same run.
--
-- Every figure is the median of RUNS runs; the ceiling and kmsemu are
-- measured alternately so that both see the same machine. Requests are
-- signed once before each run (they stay inside the signatures' clock-skew
-- windows). Ends with "bench: ok" when every target of the performance
-- issue holds, otherwise names each figure that falls short and exits 1.
--
-- Environment: BUILD (default build), BENCH_SECONDS per wrk run (3),
-- BENCH_RUNS (3), BENCH_MILLION requests for the RSS figures (1000000),
-- BENCH_ONLY (a space-separated subset of: ops ready scale keygen rss).
local client = require "support.client"
local ops = require "bench.ops"
local core = require "kmsemu.core"
local fs = require "support.fs"

local BUILD = os.getenv("BUILD") or "build"
local BIN = BUILD .. "/kmsemu"
local CEILING = BUILD .. "/bench/ceiling"
local READY = BUILD .. "/bench/ready"
local SECONDS = tonumber(os.getenv("BENCH_SECONDS") or "3")
local RUNS = tonumber(os.getenv("BENCH_RUNS") or "3")
local MILLION = tonumber(os.getenv("BENCH_MILLION") or "1000000")
local TMP = os.tmpname()
os.remove(TMP)
assert(os.execute("mkdir -p " .. TMP))

local shortfalls = {}

local sh, write = fs.sh, fs.write

local function median(t)
  local s = {}
  for i, v in ipairs(t) do
    s[i] = v
  end
  table.sort(s)
  return s[(#s + 1) // 2]
end

local function check(name, ok, figure)
  if not ok then
    shortfalls[#shortfalls + 1] = name .. " (" .. figure .. ")"
  end
end

-- Processes ---------------------------------------------------------------

local function start(argv)
  local out = TMP .. "/out" .. tostring(math.random(1 << 30))
  local pid = tonumber(sh(("%s >%s 2>/dev/null & echo $!"):format(table.concat(argv, " "), out)))
  for _ = 1, 500 do
    local f = io.open(out, "rb")
    local port = f and f:read("a"):match("listening on http://[%d.]+:(%d+)")
    if f then
      f:close()
    end
    if port then
      return { pid = pid, port = tonumber(port), host = "127.0.0.1:" .. port }
    end
    os.execute("sleep 0.01")
  end
  error("server did not start: " .. table.concat(argv, " "))
end

local function stop(s)
  os.execute(("kill %d; while kill -0 %d 2>/dev/null; do sleep 0.01; done"):format(s.pid, s.pid))
end

local function rss_kib(pid)
  local f = io.open(("/proc/%d/status"):format(pid))
  local kib = tonumber(f:read("a"):match("VmRSS:%s+(%d+)"))
  f:close()
  return kib
end

-- Requests ----------------------------------------------------------------

local TENCENT_AES = ops.TENCENT_AES
local OPS = ops.OPS

-- A wrk script that sends one fixed request and reports requests/s and
-- the 50th and 99th latency percentiles in microseconds.
local function wrk_script(req)
  local lines = {
    ("wrk.method = %q"):format(req.method),
    ("wrk.path = %q"):format(req.path .. (req.query ~= "" and ("?" .. req.query) or "")),
    ("wrk.body = %q"):format(req.body),
  }
  for k, v in pairs(req.headers) do
    if k ~= "host" then
      lines[#lines + 1] = ("wrk.headers[%q] = %q"):format(k, v)
    end
  end
  lines[#lines + 1] = [[
done = function(summary, latency)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("BENCH %.1f %d %d %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), summary.requests, errors))
end]]
  local path = TMP .. "/wrk" .. tostring(math.random(1 << 30)) .. ".lua"
  write(path, table.concat(lines, "\n"))
  return path
end

-- The raw bytes of a request, for the start-up timer.
local function raw_request(req)
  local head = { ("%s %s HTTP/1.1"):format(req.method, req.path) }
  for k, v in pairs(req.headers) do
    head[#head + 1] = k .. ": " .. v
  end
  head[#head + 1] = "Content-Length: " .. #req.body
  head[#head + 1] = "Connection: close"
  return table.concat(head, "\r\n") .. "\r\n\r\n" .. req.body
end

local function wrk(s, script, conns, seconds)
  local out = sh(("wrk -t%d -c%d -d%ss -s %s http://%s/ 2>&1")
    :format(conns == 1 and 1 or 2, conns, seconds or SECONDS, script, s.host))
  local rps, p50, p99, n, errors = out:match("BENCH ([%d.]+) (%d+) (%d+) (%d+) (%d+)")
  assert(rps, out)
  return { rps = tonumber(rps), p50 = tonumber(p50), p99 = tonumber(p99),
           n = tonumber(n), errors = tonumber(errors) }
end

-- Sends a request once and tells whether it succeeded in its dialect.
local function works(s, req)
  req.headers.host = nil
  local args = { "curl -s -o", TMP .. "/resp", "-w '%{http_code}'", "-X", req.method }
  for k, v in pairs(req.headers) do
    args[#args + 1] = ("-H '%s: %s'"):format(k, v)
  end
  write(TMP .. "/body", req.body)
  args[#args + 1] = "--data-binary @" .. TMP .. "/body"
  args[#args + 1] = "http://" .. s.host .. req.path
  local status = sh(table.concat(args, " "))
  local f = io.open(TMP .. "/resp", "rb")
  local body = f:read("a")
  f:close()
  return status == "200" and not body:find('"Error"') and not body:find('"error_code"')
end

-- Figures -----------------------------------------------------------------

local function measure_ops()
  local ceiling = { [1] = {}, [32] = {} }
  local results = {}
  for _, op in ipairs(OPS) do
    results[op.name] = { [1] = {}, [32] = {} }
  end
  for run = 1, RUNS do
    local c = start { CEILING, "127.0.0.1:0" }
    local script = wrk_script { method = "POST", path = "/", query = "", headers = {}, body = "{}" }
    for _, conns in ipairs { 1, 32 } do
      table.insert(ceiling[conns], wrk(c, script, conns))
    end
    stop(c)
    local k = start { BIN, "--listen", "127.0.0.1:0", "--scenario", "scenarios/default.lua" }
    for _, op in ipairs(OPS) do
      if run == 1 then
        op.supported = works(k, op.make(k.host))
      end
      if op.supported then
        local s = wrk_script(op.make(k.host))
        for _, conns in ipairs { 1, 32 } do
          table.insert(results[op.name][conns], wrk(k, s, conns))
        end
      end
    end
    stop(k)
  end
  return ceiling, results
end

local function med(list, field)
  local v = {}
  for i, r in ipairs(list) do
    v[i] = r[field]
  end
  return median(v)
end

local function report_ops(ceiling, results)
  local c1, c32 = med(ceiling[1], "rps"), med(ceiling[32], "rps")
  print(("%-28s %10s %8s %8s %10s %8s %7s"):format("", "1 conn/s", "p50 us", "p99 us",
    "32 conn/s", "p99 us", "ratio"))
  print(("%-28s %10.0f %8d %8d %10.0f %8d %7s"):format("ceiling (bare civetweb)", c1,
    med(ceiling[1], "p50"), med(ceiling[1], "p99"), c32, med(ceiling[32], "p99"), "1.00"))
  for _, op in ipairs(OPS) do
    local r = results[op.name]
    if not op.supported then
      print(("%-28s %s"):format(op.name, "not measured: the operation does not succeed yet"))
      check(op.name .. " measured", false, "unsupported")
    else
      local rps32 = med(r[32], "rps")
      local ratio = rps32 / c32
      print(("%-28s %10.0f %8d %8d %10.0f %8d %7.2f"):format(op.name, med(r[1], "rps"),
        med(r[1], "p50"), med(r[1], "p99"), rps32, med(r[32], "p99"), ratio))
      local errors = 0
      for _, conns in ipairs { 1, 32 } do
        for _, x in ipairs(r[conns]) do
          errors = errors + x.errors
        end
      end
      check(op.name .. " without errors", errors == 0, errors .. " errors")
      if op.main then
        check(op.name .. " at 32 connections >= 0.5 of the ceiling", ratio >= 0.5, ("%.2f"):format(ratio))
        check(op.name .. " p50 at 1 connection <= 70 us", med(r[1], "p50") <= 70, med(r[1], "p50") .. " us")
      else
        check(op.name .. " at 32 connections >= 0.4 of the ceiling", ratio >= 0.4, ("%.2f"):format(ratio))
      end
    end
  end
  return c32
end

-- Start-to-ready (process start to the first successful signed request)
-- and RSS right after, for a scenario; the median of RUNS.
local function ready(scenario)
  local req = client.tencent { action = "GenerateDataKey", host = "127.0.0.1",
    params = { KeyId = TENCENT_AES, KeySpec = "AES_256" } }
  local path = TMP .. "/ready.req"
  write(path, raw_request(req))
  local ms, kib = {}, {}
  for i = 1, RUNS do
    local out = sh(("%s %s %s --listen 127.0.0.1:0 --scenario %s"):format(READY, path, BIN, scenario))
    ms[i], kib[i] = out:match("([%d.-]+) (%d+)")
    ms[i], kib[i] = tonumber(ms[i]), tonumber(kib[i])
  end
  return median(ms), median(kib)
end

local function report_ready()
  local ms, kib = ready("scenarios/default.lua")
  print(("start-to-ready, default scenario: %.1f ms, RSS idle %.1f MB"):format(ms, kib / 1024))
  check("start-to-ready <= 10 ms", ms >= 0 and ms <= 10, ("%.1f ms"):format(ms))
  check("RSS idle <= 8 MB", kib <= 8 * 1024, ("%.1f MB"):format(kib / 1024))
end

-- RSS after MILLION and 2 * MILLION GenerateDataKey requests.
local function report_rss()
  local k = start { BIN, "--listen", "127.0.0.1:0", "--scenario", "scenarios/default.lua" }
  local marks, sent = {}, 0
  for _, goal in ipairs { MILLION, 2 * MILLION } do
    while sent < goal do
      local r = wrk(k, wrk_script(OPS[1].make(k.host)), 32, 10)
      sent = sent + r.n
    end
    marks[#marks + 1] = rss_kib(k.pid)
  end
  stop(k)
  print(("RSS after %d requests: %.1f MB; after %d: %.1f MB"):format(MILLION, marks[1] / 1024,
    2 * MILLION, marks[2] / 1024))
  check("no RSS growth from 1M to 2M requests", marks[2] <= marks[1] * 1.02 + 256,
    ("%d -> %d KiB"):format(marks[1], marks[2]))
end

-- A scenario with n Tencent keys besides the default ones.
local function scale_scenario(n)
  local path = ("%s/scale%d.lua"):format(TMP, n)
  local f = assert(io.open("scenarios/default.lua"))
  local base = f:read("a")
  f:close()
  write(path, base .. ([[

for i = 1, %d do
  cmk { id = string.format("%%08x-0000-4000-8000-%%012x", i, i), dialect = "tencent" }
end
]]):format(n))
  return path
end

local function report_scale(c32)
  local figures = {}
  for _, n in ipairs { 10, 10000, 100000 } do
    local path = scale_scenario(n)
    local ms, kib = ready(path)
    local rps = {}
    for i = 1, RUNS do
      local k = start { BIN, "--listen", "127.0.0.1:0", "--scenario", path }
      rps[i] = wrk(k, wrk_script(OPS[1].make(k.host)), 32).rps
      stop(k)
    end
    figures[n] = { ms = ms, kib = kib, rps = median(rps) }
    print(("%6d keys: start-to-ready %.1f ms, RSS %.1f MB, GenerateDataKey %0.f/s at 32 connections (%.2f)")
      :format(n, ms, kib / 1024, median(rps), median(rps) / c32))
  end
  local per_key = (figures[100000].kib - figures[10].kib) * 1024 / (100000 - 10)
  print(("memory per extra key: %.0f bytes"):format(per_key))
  check("start-to-ready with 100 000 keys <= 50 ms", figures[100000].ms >= 0 and figures[100000].ms <= 50,
    ("%.1f ms"):format(figures[100000].ms))
  check("memory per extra key <= 2 KB", per_key <= 2048, ("%.0f bytes"):format(per_key))
  local flat = figures[100000].rps / figures[10].rps
  check("throughput flat within 10% from 10 to 100 000 keys", flat >= 0.9, ("%.2f"):format(flat))
end

-- GenerateDataKey at 32 connections while another client asks for the
-- public keys of fresh RSA_4096 and SM2 keys, one after the other, so
-- that key generation runs the whole time; against the same figure
-- without it, on the same server. The keys are declared in the scenario
-- and generated on first use.
local KEYGEN_KEYS = 40

local function keygen_scenario()
  local path = TMP .. "/keygen.lua"
  local f = assert(io.open("scenarios/default.lua"))
  local base = f:read("a")
  f:close()
  local lines = { base }
  for i = 1, KEYGEN_KEYS do
    lines[#lines + 1] = ('cmk { id = "%s", dialect = "tencent", spec = "%s" }')
      :format(ops.asymmetric_id(i), i % 2 == 1 and "RSA_4096" or "SM2")
  end
  write(path, table.concat(lines, "\n"))
  return path
end

-- A shell script that sends each GetPublicKey with curl until the file
-- `stop` exists; it writes one line per answer to `log`.
local function keygen_client(k, stop, log)
  local lines = {}
  for i = 1, KEYGEN_KEYS do
    local req = ops.public_key(k.host, i)
    local args = { "[ -e " .. stop .. " ] && exit 0;", "curl -s -o /dev/null -w '%{http_code}\\n'" }
    for name, v in pairs(req.headers) do
      if name ~= "host" then
        args[#args + 1] = ("-H '%s: %s'"):format(name, v)
      end
    end
    args[#args + 1] = ("--data-binary '%s' http://%s/ >>%s"):format(req.body, k.host, log)
    lines[#lines + 1] = table.concat(args, " ")
  end
  local path = TMP .. "/keygen.sh"
  write(path, table.concat(lines, "\n") .. "\n")
  return path
end

local function report_keygen()
  local k = start { BIN, "--listen", "127.0.0.1:0", "--scenario", keygen_scenario() }
  local script = wrk_script(OPS[1].make(k.host))
  local plain, during, generated = {}, {}, 0
  for i = 1, RUNS do
    plain[i] = wrk(k, script, 32).rps
    local stop_file, log = TMP .. "/keygen.stop", TMP .. "/keygen.log"
    os.remove(stop_file)
    write(log, "")
    local pid = tonumber(sh(("sh %s >/dev/null 2>&1 & echo $!"):format(keygen_client(k, stop_file, log))))
    os.execute("sleep 0.2") -- the first key is being generated
    during[i] = wrk(k, script, 32).rps
    write(stop_file, "")
    os.execute(("while kill -0 %d 2>/dev/null; do sleep 0.05; done"):format(pid))
    local f = io.open(log)
    for line in f:lines() do
      generated = generated + (line == "200" and 1 or 0)
    end
    f:close()
  end
  stop(k)
  local ratio = median(during) / median(plain)
  print(("GenerateDataKey at 32 connections: %.0f/s, during RSA_4096/SM2 key generation %.0f/s (%.2f); %d keys generated")
    :format(median(plain), median(during), ratio, generated))
  check("GenerateDataKey during key generation >= 0.8 of its plain figure", ratio >= 0.8, ("%.2f"):format(ratio))
end

local function wanted(part)
  local only = os.getenv("BENCH_ONLY")
  return not only or (" " .. only .. " "):find(" " .. part .. " ", 1, true) ~= nil
end

math.randomseed(os.time())
print(("kmsemu bench: %d runs of %d s per figure, medians; wrk and kmsemu share %s cores")
  :format(RUNS, SECONDS, sh("nproc"):gsub("%s", "")))
local c32
if wanted("ops") or wanted("scale") then
  c32 = report_ops(measure_ops())
end
if wanted("ready") then
  report_ready()
end
if wanted("scale") then
  report_scale(c32)
end
if wanted("keygen") then
  report_keygen()
end
if wanted("rss") then
  report_rss()
end
os.execute("rm -rf " .. TMP)

if #shortfalls == 0 then
  print("bench: ok")
  os.exit(0)
end
print("bench: short of target:")
for _, s in ipairs(shortfalls) do
  print("  " .. s)
end
os.exit(1)
