-- Counters for GET /_kmsemu/metrics, in Prometheus' text format.
local M = {}

local Metrics = {}
Metrics.__index = Metrics

function M.new()
  return setmetatable({ requests = {}, faults = {} }, Metrics)
end

local function label(v)
  return (tostring(v):gsub('[\\"\n]', { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" }))
end

-- On every request: counts in nested tables, dialect -> action -> status,
-- so that no label string is built until someone asks for the metrics.
function Metrics:observe(dialect, action, status, fault_ids)
  local by_dialect = self.requests[dialect] or {}
  self.requests[dialect] = by_dialect
  action = action or ""
  local by_action = by_dialect[action] or {}
  by_dialect[action] = by_action
  by_action[status] = (by_action[status] or 0) + 1
  for _, id in ipairs(fault_ids) do
    self.faults[id] = (self.faults[id] or 0) + 1
  end
end

local function header(lines, name, help)
  lines[#lines + 1] = ("# HELP %s %s"):format(name, help)
  lines[#lines + 1] = ("# TYPE %s counter"):format(name)
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

function Metrics:render()
  local lines, requests, faults = {}, {}, {}
  for dialect, by_dialect in pairs(self.requests) do
    for action, by_action in pairs(by_dialect) do
      for status, n in pairs(by_action) do
        requests[('dialect="%s",action="%s",status="%d"'):format(label(dialect), label(action), status)] = n
      end
    end
  end
  for id, n in pairs(self.faults) do
    faults[('fault="%s"'):format(label(id))] = n
  end
  header(lines, "kmsemu_requests_total", "Requests answered, by dialect, action and status.")
  samples(lines, "kmsemu_requests_total", requests)
  header(lines, "kmsemu_faults_fired_total", "Times each fault fired.")
  samples(lines, "kmsemu_faults_fired_total", faults)
  memory(lines)
  return table.concat(lines, "\n") .. "\n"
end

return M
