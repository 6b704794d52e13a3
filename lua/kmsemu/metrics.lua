-- Counters for GET /_kmsemu/metrics, in Prometheus' text format
-- (exposition format 0.0.4): requests by dialect, action, the cloud's
-- error code ("" for success) and HTTP status; their latency as a
-- histogram per dialect and action; faults fired; keys by state.
local core = require "kmsemu.core"
local dialects = require "kmsemu.dialect"
local keystore = require "kmsemu.keystore"

local M = {}

-- Prometheus' default buckets, with three below 5 ms: kmsemu answers most
-- requests in well under a millisecond, an injected delay takes longer.
M.BUCKETS = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 }
local NB = #M.BUCKETS

local Metrics = {}
Metrics.__index = Metrics

function M.new()
  return setmetatable({ requests = {}, latency = {}, faults = {} }, Metrics)
end

local function label(v)
  return (tostring(v):gsub('[\\"\n]', { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" }))
end

local function sub(t, k)
  local v = t[k]
  if not v then
    v = {}
    t[k] = v
  end
  return v
end

-- On every request: counts in nested tables, dialect -> action -> code ->
-- status, so that no label string is built until someone asks for the
-- metrics. code: the cloud's error code, nil for success; seconds: the
-- latency.
function Metrics:observe(dialect, action, status, code, seconds, fault_ids)
  action = action or ""
  local by_code = sub(sub(sub(self.requests, dialect), action), code or "")
  by_code[status] = (by_code[status] or 0) + 1
  local by_action = sub(self.latency, dialect)
  local h = by_action[action]
  if not h then
    h = { sum = 0, count = 0 }
    for i = 1, NB + 1 do
      h[i] = 0
    end
    by_action[action] = h
  end
  local i = 1
  while i <= NB and seconds > M.BUCKETS[i] do
    i = i + 1
  end
  h[i] = h[i] + 1
  h.sum, h.count = h.sum + seconds, h.count + 1
  for _, id in ipairs(fault_ids) do
    self.faults[id] = (self.faults[id] or 0) + 1
  end
end

local function header(lines, name, kind, help)
  lines[#lines + 1] = ("# HELP %s %s"):format(name, help)
  lines[#lines + 1] = ("# TYPE %s %s"):format(name, kind)
end

-- Appends `name{labels} n` lines in a stable (sorted) order.
local function samples(lines, name, counts)
  local rows = {}
  for labels, n in pairs(counts) do
    rows[#rows + 1] = ("%s{%s} %d"):format(name, labels, n)
  end
  table.sort(rows)
  table.move(rows, 1, #rows, #lines + 1, lines)
end

local function bound(b)
  return b == math.huge and "+Inf" or ("%g"):format(b)
end

-- A histogram's _bucket (cumulative), _sum and _count lines per dialect
-- and action, sorted by their labels.
local function histograms(lines, name, latency)
  local series = {}
  for dialect, by_action in pairs(latency) do
    for action, h in pairs(by_action) do
      series[#series + 1] = { ('dialect="%s",action="%s"'):format(label(dialect), label(action)), h }
    end
  end
  table.sort(series, function(a, b) return a[1] < b[1] end)
  for _, s in ipairs(series) do
    local labels, h, n = s[1], s[2], 0
    for i = 1, NB + 1 do
      n = n + h[i]
      lines[#lines + 1] = ('%s_bucket{%s,le="%s"} %d'):format(name, labels, bound(M.BUCKETS[i] or math.huge), n)
    end
    lines[#lines + 1] = ("%s_sum{%s} %.9g"):format(name, labels, h.sum)
    lines[#lines + 1] = ("%s_count{%s} %d"):format(name, labels, h.count)
  end
end

-- Every dialect's keys in every state, zeros included, so that a series
-- does not vanish when its last key leaves the state.
local function key_states(keys)
  local counts, states = {}, {}
  for state in pairs(keystore.STATES) do
    states[#states + 1] = state
  end
  for _, d in ipairs(dialects.NAMES) do
    for _, state in ipairs(states) do
      counts[('dialect="%s",state="%s"'):format(d, state)] = 0
    end
  end
  for _, key in pairs(keys and keys.keys or {}) do
    if keys:get(key.dialect, key.owner, key.id) then -- drops one whose deletion date passed
      local k = ('dialect="%s",state="%s"'):format(label(key.dialect), label(key.state))
      counts[k] = (counts[k] or 0) + 1
    end
  end
  return counts
end

-- The process's memory, as far as this process can tell: its resident
-- size, and the Lua heap (kmsemu.host exists only inside kmsemu itself).
local function memory(lines)
  local gauges = {}
  local f = io.open("/proc/self/status")
  local status = f and f:read("a") or ""
  if f then
    f:close()
  end
  local kib = tonumber(status:match("\nVmRSS:%s*(%d+) kB"))
  if kib then
    gauges[#gauges + 1] = { "process_resident_memory_bytes", "Resident memory size in bytes.", kib * 1024 }
  end
  local ok, host = pcall(require, "kmsemu.host")
  if ok then
    local used, slabs = host.memory()
    gauges[#gauges + 1] = { "kmsemu_lua_heap_bytes", "Bytes the Lua heap holds: keys, journal, "
      .. "scenario, requests in flight, garbage not yet collected.", used }
    gauges[#gauges + 1] = { "kmsemu_lua_slab_bytes", "Bytes reserved for the Lua heap's blocks "
      .. "of up to 512 bytes, in use or free for reuse.", slabs }
  end
  for _, g in ipairs(gauges) do
    lines[#lines + 1] = ("# HELP %s %s"):format(g[1], g[2])
    lines[#lines + 1] = ("# TYPE %s gauge"):format(g[1])
    lines[#lines + 1] = ("%s %d"):format(g[1], g[3])
  end
end

-- keys: the world's keystore, for the gauge of keys by state.
function Metrics:render(keys)
  local lines, requests, faults = {}, {}, {}
  for dialect, by_dialect in pairs(self.requests) do
    for action, by_action in pairs(by_dialect) do
      for code, by_code in pairs(by_action) do
        for status, n in pairs(by_code) do
          requests[('dialect="%s",action="%s",code="%s",status="%d"'):format(label(dialect), label(action),
            label(code), status)] = n
        end
      end
    end
  end
  for id, n in pairs(self.faults) do
    faults[('fault="%s"'):format(label(id))] = n
  end
  header(lines, "kmsemu_requests_total", "counter",
    'Requests answered, by dialect, action, the cloud\'s error code ("" for success) and HTTP status.')
  samples(lines, "kmsemu_requests_total", requests)
  header(lines, "kmsemu_request_duration_seconds", "histogram",
    "Time from a request's dispatch to its answer, injected delays included, by dialect and action.")
  histograms(lines, "kmsemu_request_duration_seconds", self.latency)
  header(lines, "kmsemu_faults_fired_total", "counter", "Times each fault fired.")
  samples(lines, "kmsemu_faults_fired_total", faults)
  header(lines, "kmsemu_keys", "gauge", "Keys, by dialect and state.")
  samples(lines, "kmsemu_keys", key_states(keys))
  header(lines, "kmsemu_keygen_paced_seconds_total", "counter",
    "Time key generation slept to give way to requests waiting for the emulator.")
  lines[#lines + 1] = ("kmsemu_keygen_paced_seconds_total %.6f"):format(core.keygen_paced())
  memory(lines)
  return table.concat(lines, "\n") .. "\n"
end

return M
