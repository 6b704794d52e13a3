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

function Metrics:observe(dialect, action, status, fault_ids)
  local k = ('dialect="%s",action="%s",status="%d"'):format(label(dialect), label(action or ""), status)
  self.requests[k] = (self.requests[k] or 0) + 1
  for _, id in ipairs(fault_ids) do
    local f = ('fault="%s"'):format(label(id))
    self.faults[f] = (self.faults[f] or 0) + 1
  end
end

local function family(lines, name, help, counts)
  lines[#lines + 1] = ("# HELP %s %s"):format(name, help)
  lines[#lines + 1] = ("# TYPE %s counter"):format(name)
  local keys = {}
  for k in pairs(counts) do
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for _, k in ipairs(keys) do
    lines[#lines + 1] = ("%s{%s} %d"):format(name, k, counts[k])
  end
end

function Metrics:render()
  local lines = {}
  family(lines, "kmsemu_requests_total", "Requests answered, by dialect, action and status.",
    self.requests)
  family(lines, "kmsemu_faults_fired_total", "Times each fault fired.", self.faults)
  return table.concat(lines, "\n") .. "\n"
end

return M
