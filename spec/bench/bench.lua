-- make bench: kmsemu against its peers (local-kms and moto's server) and
-- the HTTP ceiling, all measured in the same run.
--
-- Every figure is the median of ROUNDS rounds; a round measures the
-- ceiling, kmsemu, local-kms and moto one after the other, each freshly
-- started, so that drift on the machine hits all of them alike. kmsemu's
-- requests are signed once before each wrk run (they stay inside the
-- signatures' clock-skew windows). One-connection figures use the method
-- BENCH_ONE names (docs/performance.md says why "pinned" is the default).
-- Ends with the targets of the performance issue, each "holds" or "falls
-- short", then "bench: ok" when all hold; otherwise exits 1.
--
-- Environment: BUILD (default build), BENCH_SECONDS per wrk run (3),
-- BENCH_ROUNDS (3), BENCH_MILLION requests for the RSS growth figure
-- (1000000), BENCH_ONE (pinned, plain or burner), BENCH_MODE (quiet, busy
-- or both: the default), BENCH_ONLY (a space-separated subset of: ops
-- ready scale keygen rss busy one; "one" compares the one-connection
-- methods and runs only when named).
local client = require "support.client"
local ops = require "bench.ops"
local peers = require "bench.peers"
local fs = require "support.fs"
local socket = require "socket"

local BUILD = os.getenv("BUILD") or "build"
local BIN = BUILD .. "/kmsemu"
local CEILING = BUILD .. "/bench/ceiling"
local READY = BUILD .. "/bench/ready"
local SECONDS = tonumber(os.getenv("BENCH_SECONDS") or "3")
local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS") or "3")
local MILLION = tonumber(os.getenv("BENCH_MILLION") or "1000000")
local ONE = os.getenv("BENCH_ONE") or "pinned"
local MODE = os.getenv("BENCH_MODE") or "both"
local CORES = tonumber((fs.sh("nproc"):gsub("%s", "")))
local TMP = os.tmpname()
os.remove(TMP)
assert(os.execute("mkdir -p " .. TMP))

local sh, write = fs.sh, fs.write

-- The bench's own process id: load.sh stops its load when it is gone.
local SELF = tonumber(sh("echo $PPID"))

local targets = {}

local function target(name, ok, figure)
  targets[#targets + 1] = { name = name, ok = ok, figure = figure }
end

local function median(t)
  local s = {}
  for i, v in ipairs(t) do
    s[i] = v
  end
  table.sort(s)
  return s[(#s + 1) // 2]
end

local function med(list, field)
  local v = {}
  for i, r in ipairs(list) do
    v[i] = r[field]
  end
  return median(v)
end

-- Processes ---------------------------------------------------------------

-- Every process the bench started and has not stopped yet, by pid.
local live = {}

local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local function spawn(cmd)
  local pid = tonumber(sh(cmd .. " >/dev/null 2>&1 & echo $!"))
  live[pid] = true
  return pid
end

local function stop_pid(pid)
  os.execute(("kill %d 2>/dev/null; while kill -0 %d 2>/dev/null; do sleep 0.01; done"):format(pid, pid))
  live[pid] = nil
end

-- Sends a request once; returns the status (a string, "000" for none) and
-- the body.
local function call(s, req)
  local args = { "curl -s -o", TMP .. "/resp", "-w '%{http_code}'", "-X", req.method }
  for k, v in pairs(req.headers) do
    if k ~= "host" then
      args[#args + 1] = ("-H '%s: %s'"):format(k, v)
    end
  end
  write(TMP .. "/body", req.body)
  args[#args + 1] = "--data-binary @" .. TMP .. "/body"
  args[#args + 1] = "http://" .. s.host .. req.path
  local status = sh(table.concat(args, " "))
  return status, fs.read(TMP .. "/resp") or ""
end

-- Whether a request succeeds in its server's protocol.
local function works(s, req)
  local status, body = call(s, req)
  return status == "200" and not body:find('"Error"') and not body:find('"error_code"')
    and not body:find('"__type"')
end

-- The servers: `command(port, dir, opts)` returns the argv serving on
-- 127.0.0.1:port, `request(s)` the GenerateDataKey (or, for the ceiling,
-- the bare request) each is measured with, `probe(port)` the request
-- start-up is timed to.
local function kmsemu_probe()
  return client.tencent { action = "GenerateDataKey", host = "127.0.0.1",
    params = { KeyId = ops.TENCENT_AES, KeySpec = "AES_256" } }
end

local CEILING_SERVER = {
  name = "ceiling",
  command = function(port)
    return { CEILING, "127.0.0.1:" .. port }
  end,
  request = function()
    return { method = "POST", path = "/", query = "", headers = {}, body = "{}" }
  end,
}

local KMSEMU = {
  name = "kmsemu",
  command = function(port, _, opts)
    return { BIN, "--listen", "127.0.0.1:" .. port, "--scenario", opts.scenario or "scenarios/default.lua" }
  end,
  request = function(s)
    return ops.OPS[1].make(s.host)
  end,
  probe = kmsemu_probe,
}

local function peer(p)
  return {
    name = p.name,
    command = function(port, dir)
      return p.command(BUILD, port, dir)
    end,
    request = peers.generate_data_key,
    probe = function()
      return p.probe
    end,
    setup = function(s)
      s.key = p.key(s, call)
    end,
  }
end

local LOCAL_KMS, MOTO = peer(peers.local_kms), peer(peers.moto)

local function fresh_dir()
  local dir = ("%s/srv%d"):format(TMP, math.random(1 << 30))
  assert(os.execute("mkdir -p " .. dir))
  return dir
end

-- Starts a server on a free port and waits until it answers HTTP.
local function start(server, opts)
  opts = opts or {}
  local port = free_port()
  local argv = server.command(port, fresh_dir(), opts)
  local s = { server = server, port = port, host = "127.0.0.1:" .. port }
  s.pid = spawn(table.concat(argv, " "))
  for _ = 1, 1500 do
    if sh(("curl -s -o /dev/null -w '%%{http_code}' http://%s/"):format(s.host)) ~= "000" then
      if server.setup then
        server.setup(s)
      end
      return s
    end
    os.execute("sleep 0.02")
  end
  error("server did not start: " .. table.concat(argv, " "))
end

local function stop(s)
  stop_pid(s.pid)
end

local function rss_kib(pid)
  local f = io.open(("/proc/%d/status"):format(pid))
  local kib = tonumber(f:read("a"):match("VmRSS:%s+(%d+)"))
  f:close()
  return kib
end

-- A CPU load beside the servers (see load.sh): "burn" with a count, or
-- "mixed". Returns its pid.
local function start_load(kind, n)
  local pid = spawn(("sh spec/bench/load.sh %d %s %d"):format(SELF, kind, n or 1))
  os.execute(kind == "mixed" and "sleep 3" or "sleep 0.3")
  return pid
end

-- Requests ----------------------------------------------------------------

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
  if not req.headers.host then
    head[#head + 1] = "host: 127.0.0.1"
  end
  for k, v in pairs(req.headers) do
    head[#head + 1] = k .. ": " .. v
  end
  head[#head + 1] = "Content-Length: " .. #req.body
  head[#head + 1] = "Connection: close"
  return table.concat(head, "\r\n") .. "\r\n\r\n" .. req.body
end

-- One wrk run; `cpus`, when given, pins wrk to those cores.
local function wrk(s, script, conns, seconds, cpus)
  local out = sh(("%swrk -t%d -c%d -d%ss --timeout 10s -s %s http://%s/ 2>&1")
    :format(cpus and ("taskset -c " .. cpus .. " ") or "", conns == 1 and 1 or 2, conns,
      seconds or SECONDS, script, s.host))
  local rps, p50, p99, n, errors = out:match("BENCH ([%d.]+) (%d+) (%d+) (%d+) (%d+)")
  assert(rps, out)
  return { rps = tonumber(rps), p50 = tonumber(p50), p99 = tonumber(p99),
           n = tonumber(n), errors = tonumber(errors) }
end

-- Every thread of the server, one by one: `taskset -a` gives up at the
-- first thread that ends while it walks them (a Go runtime's come and go),
-- leaving the rest where they were.
local function pin(s, cpus)
  os.execute(("for t in /proc/%d/task/*; do taskset -p -c %s ${t##*/} >/dev/null 2>&1; done")
    :format(s.pid, cpus))
end

-- One connection, by method: "plain" (as the scheduler places them),
-- "pinned" (the server's threads on core 0, wrk on core 1), "burner" (one
-- spinning process beside, so that no core idles).
local function one_conn(s, script, method)
  if method == "pinned" and CORES >= 2 then
    pin(s, "0")
    local r = wrk(s, script, 1, nil, "1")
    pin(s, "0-" .. (CORES - 1))
    return r
  elseif method == "burner" then
    local load = start_load("burn", 1)
    local r = wrk(s, script, 1)
    stop_pid(load)
    return r
  end
  return wrk(s, script, 1)
end

-- Unmeasured, so that every server meets its first measured run warm.
local function warm(s, req)
  wrk(s, wrk_script(req), 32, 1)
end

-- Figures -----------------------------------------------------------------

-- GenerateDataKey (each kmsemu operation, for kmsemu; the bare request,
-- for the ceiling) at 32 connections and at one, and each server's RSS
-- after the GenerateDataKey load: per server, per operation, the runs of
-- every round.
local QUIET = { CEILING_SERVER, KMSEMU, LOCAL_KMS, MOTO }

local function measure_server(server, runs)
  local s = start(server)
  local list = server == KMSEMU and ops.OPS or { { name = server.name } }
  for _, op in ipairs(list) do
    local make = op.make and function() return op.make(s.host) end or function() return server.request(s) end
    runs[op.name] = runs[op.name] or { [1] = {}, [32] = {}, supported = works(s, make()) }
    local r = runs[op.name]
    if r.supported then
      if op == list[1] then
        warm(s, make())
      end
      table.insert(r[32], wrk(s, wrk_script(make()), 32))
      table.insert(r[1], one_conn(s, wrk_script(make()), ONE))
    end
    if op == list[1] then
      runs.rss = runs.rss or {}
      table.insert(runs.rss, rss_kib(s.pid))
    end
  end
  stop(s)
end

local function measure_quiet()
  local runs = {}
  for _, server in ipairs(QUIET) do
    runs[server.name] = {}
  end
  for _ = 1, ROUNDS do
    for _, server in ipairs(QUIET) do
      measure_server(server, runs[server.name])
    end
  end
  return runs
end

local function errors_of(r)
  local errors = 0
  for _, conns in ipairs { 1, 32 } do
    for _, x in ipairs(r[conns]) do
      errors = errors + x.errors
    end
  end
  return errors
end

-- kmsemu's operations against the ceiling.
local function report_ops(runs)
  local ceiling = runs.ceiling.ceiling
  local c32 = med(ceiling[32], "rps")
  print(("%-28s %10s %8s %8s %10s %8s %7s"):format("kmsemu, 1 connection " .. ONE, "1 conn/s",
    "p50 us", "p99 us", "32 conn/s", "p99 us", "ceiling"))
  print(("%-28s %10.0f %8d %8d %10.0f %8d %7s"):format("ceiling (bare civetweb)", med(ceiling[1], "rps"),
    med(ceiling[1], "p50"), med(ceiling[1], "p99"), c32, med(ceiling[32], "p99"), "1.00"))
  for _, op in ipairs(ops.OPS) do
    local r = runs.kmsemu[op.name]
    if not r.supported then
      print(("%-28s %s"):format(op.name, "not measured: the operation does not succeed"))
      target(op.name .. " succeeds", false, "unsupported")
    else
      print(("%-28s %10.0f %8d %8d %10.0f %8d %7.2f"):format(op.name, med(r[1], "rps"),
        med(r[1], "p50"), med(r[1], "p99"), med(r[32], "rps"), med(r[32], "p99"), med(r[32], "rps") / c32))
    end
  end
  print()
  return c32
end

-- Start-to-first-answer (process start to the first 200 answer to the
-- server's probe) and RSS then, the median of ROUNDS, interleaved.
local function ready_once(server, opts)
  local port = free_port()
  local path = TMP .. "/ready.req"
  write(path, raw_request(server.probe(port)))
  local argv = server.command(port, fresh_dir(), opts or {})
  local out = sh(("%s %s %d %s"):format(READY, path, port, table.concat(argv, " ")))
  local ms, kib = out:match("([%d.-]+) (%d+)")
  return tonumber(ms), tonumber(kib)
end

local function ready(servers, opts)
  local ms, kib = {}, {}
  for _, server in ipairs(servers) do
    ms[server], kib[server] = {}, {}
  end
  for i = 1, ROUNDS do
    for _, server in ipairs(servers) do
      ms[server][i], kib[server][i] = ready_once(server, opts)
    end
  end
  local out = {}
  for _, server in ipairs(servers) do
    out[server.name] = { ms = median(ms[server]), kib = median(kib[server]) }
  end
  return out
end

-- One figure per line, a column per server, then each server's ratio to
-- local-kms and to the ceiling.
local COLUMNS = { "kmsemu", "local-kms", "moto", "ceiling" }

local function figure_line(label, values, fmt)
  local cells = { ("%-30s"):format(label) }
  for _, name in ipairs(COLUMNS) do
    cells[#cells + 1] = values[name] and (fmt):format(values[name]) or ("%10s"):format("-")
  end
  local function ratio(a, b)
    return values[a] and values[b] and ("%9.2f"):format(values[a] / values[b]) or ("%9s"):format("-")
  end
  cells[#cells + 1] = " |"
  cells[#cells + 1] = ratio("kmsemu", "local-kms")
  cells[#cells + 1] = ratio("moto", "local-kms")
  cells[#cells + 1] = " |"
  cells[#cells + 1] = ratio("kmsemu", "ceiling")
  cells[#cells + 1] = ratio("local-kms", "ceiling")
  cells[#cells + 1] = ratio("moto", "ceiling")
  print(table.concat(cells))
end

local function gdk(runs, name)
  return name == "kmsemu" and runs.kmsemu[ops.OPS[1].name] or runs[name][name]
end

local function peers_header()
  print(("%-30s%10s%10s%10s%10s | %8s %8s | %8s %8s %8s"):format("GenerateDataKey, medians",
    "kmsemu", "local-kms", "moto", "ceiling", "k/lk", "moto/lk", "k/ceil", "lk/ceil", "moto/ceil"))
end

local function versus(name, values, limit, fmt, higher, rounds)
  local k, lk = values.kmsemu, values["local-kms"]
  if not (k and lk and k > 0) then
    return target(name, false, "not measured")
  end
  local ratio = k / lk
  target(name, higher and ratio >= limit or not higher and ratio <= limit,
    (fmt .. " / " .. fmt .. " = %.2f"):format(k, lk, ratio) .. (rounds or ""))
end

-- kmsemu's ratio to local-kms in each round, in the order they ran
-- interleaved: how near the median's verdict is to flipping.
local function round_ratios(runs, conns, field)
  local k, lk = gdk(runs, "kmsemu"), gdk(runs, "local-kms")
  if not (k.supported and lk.supported) then
    return ""
  end
  local out = {}
  for i = 1, math.min(#k[conns], #lk[conns]) do
    out[i] = ("%.2f"):format(k[conns][i][field] / lk[conns][i][field])
  end
  return " (by round: " .. table.concat(out, " ") .. ")"
end

-- The quiet figures of the servers side by side, and their targets.
local function report_peers(runs)
  local function row(label, conns, field, fmt)
    local values = {}
    for _, name in ipairs(COLUMNS) do
      local r = gdk(runs, name)
      if r.supported then
        values[name] = med(r[conns], field)
      end
    end
    figure_line(label, values, fmt)
    return values
  end
  local rps32 = row("32 connections, requests/s", 32, "rps", "%10.0f")
  row("32 connections, p50 us", 32, "p50", "%10d")
  row("32 connections, p99 us", 32, "p99", "%10d")
  row("1 connection " .. ONE .. ", requests/s", 1, "rps", "%10.0f")
  local p50 = row("1 connection " .. ONE .. ", p50 us", 1, "p50", "%10d")
  local p99 = row("1 connection " .. ONE .. ", p99 us", 1, "p99", "%10d")
  local rss = {}
  for _, name in ipairs(COLUMNS) do
    rss[name] = median(runs[name].rss) / 1024
  end
  figure_line("RSS after load, MB", rss, "%10.1f")
  versus("32 connections, quiet: kmsemu >= 1.5x local-kms", rps32, 1.5, "%.0f/s", true,
    round_ratios(runs, 32, "rps"))
  versus("1 connection " .. ONE .. ": p50 <= 0.75x local-kms", p50, 0.75, "%d us", false,
    round_ratios(runs, 1, "p50"))
  versus("1 connection " .. ONE .. ": p99 <= 0.75x local-kms", p99, 0.75, "%d us", false,
    round_ratios(runs, 1, "p99"))
  versus("RSS after load <= 0.5x local-kms", rss, 0.5, "%.1f MB")
  for _, name in ipairs(COLUMNS) do
    local r = gdk(runs, name)
    target(name .. " answered without errors", r.supported and errors_of(r) == 0,
      r.supported and (errors_of(r) .. " errors") or "does not succeed")
  end
end

local function report_started(started)
  local ms, mb = {}, {}
  for name, r in pairs(started) do
    ms[name], mb[name] = r.ms, r.kib / 1024
  end
  figure_line("start to first answer, ms", ms, "%10.1f")
  figure_line("RSS at first answer, MB", mb, "%10.1f")
  print("(moto's start-up is timed to its first CreateKey: it cannot be seeded)")
  versus("start to first answer <= 0.5x local-kms", ms, 0.5, "%.1f ms")
end

-- A scenario with n Tencent keys besides the default ones.
local function scale_scenario(n)
  local path = ("%s/scale%d.lua"):format(TMP, n)
  write(path, fs.read("scenarios/default.lua") .. ([[

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
    local r = ready({ KMSEMU }, { scenario = path }).kmsemu
    local rps = {}
    for i = 1, ROUNDS do
      local k = start(KMSEMU, { scenario = path })
      rps[i] = wrk(k, wrk_script(KMSEMU.request(k)), 32).rps
      stop(k)
    end
    figures[n] = { ms = r.ms, kib = r.kib, rps = median(rps) }
    print(("%6d keys: start to first answer %.1f ms, RSS %.1f MB, GenerateDataKey %.0f/s at 32 connections (%.2f of the ceiling)")
      :format(n, r.ms, r.kib / 1024, median(rps), median(rps) / c32))
  end
  local per_key = (figures[100000].kib - figures[10].kib) * 1024 / (100000 - 10)
  print(("memory per extra key: %.0f bytes"):format(per_key))
  print()
  target("100 000 keys: start to first answer <= 100 ms", figures[100000].ms >= 0 and figures[100000].ms <= 100,
    ("%.1f ms"):format(figures[100000].ms))
  local flat = figures[100000].rps / figures[10].rps
  target("100 000 keys: throughput within 10% of 10 keys", flat >= 0.9, ("%.2f"):format(flat))
  target("memory per extra key <= 2 KB", per_key <= 2048, ("%.0f bytes"):format(per_key))
end

-- GenerateDataKey at 32 connections while another client asks for the
-- public keys of fresh RSA_4096 and SM2 keys, one after the other, so
-- that key generation runs the whole time; against the same figure
-- without it, on the same server. The keys are declared in the scenario
-- and generated on first use.
local KEYGEN_KEYS = 40

local function keygen_scenario()
  local path = TMP .. "/keygen.lua"
  local lines = { fs.read("scenarios/default.lua") }
  for i = 1, KEYGEN_KEYS do
    lines[#lines + 1] = ('cmk { id = "%s", dialect = "tencent", spec = "%s" }')
      :format(ops.asymmetric_id(i), i % 2 == 1 and "RSA_4096" or "SM2")
  end
  write(path, table.concat(lines, "\n"))
  return path
end

-- A shell script that sends each GetPublicKey with curl until the file
-- `stop` exists; it writes one line per answer to `log`.
local function keygen_client(k, stop_file, log)
  local lines = {}
  for i = 1, KEYGEN_KEYS do
    local req = ops.public_key(k.host, i)
    local args = { "[ -e " .. stop_file .. " ] && exit 0;", "curl -s -o /dev/null -w '%{http_code}\\n'" }
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
  local k = start(KMSEMU, { scenario = keygen_scenario() })
  local script = wrk_script(KMSEMU.request(k))
  local plain, during, generated = {}, {}, 0
  for i = 1, ROUNDS do
    plain[i] = wrk(k, script, 32).rps
    local stop_file, log = TMP .. "/keygen.stop", TMP .. "/keygen.log"
    os.remove(stop_file)
    write(log, "")
    local pid = spawn("sh " .. keygen_client(k, stop_file, log))
    os.execute("sleep 0.2") -- the first key is being generated
    during[i] = wrk(k, script, 32).rps
    write(stop_file, "")
    os.execute(("while kill -0 %d 2>/dev/null; do sleep 0.05; done"):format(pid))
    live[pid] = nil
    for line in io.lines(log) do
      generated = generated + (line == "200" and 1 or 0)
    end
  end
  stop(k)
  local ratio = median(during) / median(plain)
  print(("GenerateDataKey at 32 connections: %.0f/s, during RSA_4096/SM2 key generation %.0f/s (%.2f); %d keys generated")
    :format(median(plain), median(during), ratio, generated))
  target("GenerateDataKey during key generation >= 0.8 of its plain figure", ratio >= 0.8, ("%.2f"):format(ratio))
end

-- RSS after MILLION and 2 * MILLION GenerateDataKey requests.
local function report_rss()
  local k = start(KMSEMU)
  local marks, sent = {}, 0
  for _, goal in ipairs { MILLION, 2 * MILLION } do
    while sent < goal do
      local r = wrk(k, wrk_script(KMSEMU.request(k)), 32, 10)
      sent = sent + r.n
    end
    marks[#marks + 1] = rss_kib(k.pid)
  end
  stop(k)
  print(("RSS after %d requests: %.1f MB; after %d: %.1f MB"):format(MILLION, marks[1] / 1024,
    2 * MILLION, marks[2] / 1024))
  target(("no RSS growth from %d to %d requests"):format(MILLION, 2 * MILLION), marks[2] <= marks[1] * 1.02 + 256,
    ("%d -> %d KiB"):format(marks[1], marks[2]))
end

-- Busy mode: kmsemu and local-kms, interleaved, beside one spinning
-- process, one per core, then the busted suite in a loop.
local LOADS = {
  { name = "1 spinning process", kind = "burn", n = 1 },
  { name = CORES .. " spinning processes", kind = "burn", n = CORES },
  { name = "the busted suite in a loop", kind = "mixed" },
}

local function report_busy()
  for _, load in ipairs(LOADS) do
    local pid = start_load(load.kind, load.n)
    local runs = { kmsemu = {}, ["local-kms"] = {} }
    for _ = 1, ROUNDS do
      for _, server in ipairs { KMSEMU, LOCAL_KMS } do
        local s = start(server)
        local r = runs[server.name]
        warm(s, server.request(s))
        table.insert(r, { [32] = wrk(s, wrk_script(server.request(s)), 32),
                          [1] = one_conn(s, wrk_script(server.request(s)), ONE) })
        stop(s)
      end
    end
    stop_pid(pid)
    print(("%-46s %10s %8s %8s %10s %8s %8s"):format("busy, beside " .. load.name, "32 conn/s", "p50 us",
      "p99 us", "1 conn/s", "p50 us", "p99 us"))
    local v = {}
    for _, name in ipairs { "kmsemu", "local-kms" } do
      local function m(conns, field)
        local list = {}
        for i, x in ipairs(runs[name]) do
          list[i] = x[conns][field]
        end
        return median(list)
      end
      v[name] = { m(32, "rps"), m(32, "p50"), m(32, "p99"), m(1, "rps"), m(1, "p50"), m(1, "p99") }
      print(("  %-44s %10.0f %8d %8d %10.0f %8d %8d"):format(name, table.unpack(v[name])))
    end
    local ratios = {}
    for i = 1, 6 do
      ratios[i] = v.kmsemu[i] / v["local-kms"][i]
    end
    print(("  %-44s %10.2f %8.2f %8.2f %10.2f %8.2f %8.2f"):format("kmsemu / local-kms", table.unpack(ratios)))
    target(("32 connections beside %s: kmsemu >= 1.5x local-kms"):format(load.name), ratios[1] >= 1.5,
      ("%.0f / %.0f/s = %.2f"):format(v.kmsemu[1], v["local-kms"][1], ratios[1]))
  end
  print()
end

-- The one-connection methods side by side, to choose the stable one: per
-- method, kmsemu and local-kms alternately, ROUNDS times; the spread is
-- the largest over the smallest figure across rounds.
local function spread(list)
  local lo, hi = math.huge, 0
  for _, x in ipairs(list) do
    lo, hi = math.min(lo, x), math.max(hi, x)
  end
  return hi / lo
end

local function report_one()
  print(("%-8s %-10s %9s %7s %7s %8s %8s"):format("method", "server", "1 conn/s", "p50 us", "p99 us",
    "p50 +-", "p99 +-"))
  for _, method in ipairs { "plain", "pinned", "burner" } do
    local runs = { kmsemu = {}, ["local-kms"] = {}, ratio50 = {}, ratio99 = {} }
    for i = 1, ROUNDS do
      for _, server in ipairs { KMSEMU, LOCAL_KMS } do
        local s = start(server)
        warm(s, server.request(s))
        runs[server.name][i] = one_conn(s, wrk_script(server.request(s)), method)
        stop(s)
      end
      runs.ratio50[i] = runs.kmsemu[i].p50 / runs["local-kms"][i].p50
      runs.ratio99[i] = runs.kmsemu[i].p99 / runs["local-kms"][i].p99
    end
    for _, name in ipairs { "kmsemu", "local-kms" } do
      local r = runs[name]
      local p50s, p99s = {}, {}
      for i, x in ipairs(r) do
        p50s[i], p99s[i] = x.p50, x.p99
      end
      print(("%-8s %-10s %9.0f %7d %7d %8.2f %8.2f"):format(method, name, med(r, "rps"), med(r, "p50"),
        med(r, "p99"), spread(p50s), spread(p99s)))
    end
    print(("%-8s %-10s %9s %7.2f %7.2f %8.2f %8.2f"):format(method, "k / lk", "", median(runs.ratio50),
      median(runs.ratio99), spread(runs.ratio50), spread(runs.ratio99)))
  end
  print()
end

local function wanted(part)
  local only = os.getenv("BENCH_ONLY")
  if only then
    return (" " .. only .. " "):find(" " .. part .. " ", 1, true) ~= nil
  end
  if part == "one" then
    return false
  end
  return part == "busy" and MODE ~= "quiet" or part ~= "busy" and MODE ~= "busy"
end

local function main()
  assert(ONE == "pinned" or ONE == "plain" or ONE == "burner", "BENCH_ONE: pinned, plain or burner")
  print(("kmsemu bench: medians of %d rounds of %s s runs; wrk and the servers share %d cores; one connection: %s")
    :format(ROUNDS, SECONDS, CORES, ONE))
  print()
  local c32, runs
  if wanted("ops") or wanted("scale") then
    runs = measure_quiet()
    c32 = report_ops(runs)
  end
  local started = wanted("ready") and ready { KMSEMU, LOCAL_KMS, MOTO }
  if runs or started then
    peers_header()
    if runs then
      report_peers(runs)
    end
    if started then
      report_started(started)
    end
    print()
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
  if wanted("busy") then
    report_busy()
  end
  if wanted("one") then
    report_one()
  end
end

math.randomseed(os.time())
local ok, err = xpcall(main, debug.traceback)
for pid in pairs(live) do
  stop_pid(pid)
end
os.execute("rm -rf " .. TMP)
if not ok then
  io.stderr:write(err, "\n")
  os.exit(2)
end

local short = 0
for _, t in ipairs(targets) do
  print(("%-68s %-12s %s"):format(t.name, t.ok and "holds" or "falls short", t.figure))
  short = short + (t.ok and 0 or 1)
end
if short == 0 then
  print("bench: ok")
  os.exit(0)
end
print(("bench: %d of %d targets fall short"):format(short, #targets))
os.exit(1)
