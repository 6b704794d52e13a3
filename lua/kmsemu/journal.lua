-- The request journal: a bounded ring of what every call was and how it
-- was answered, so that a test can ask afterwards "was GenerateDataKey
-- retried 3 times after the throttle?". The oldest entries are dropped
-- once the ring is full.
local actions = require "kmsemu.actions"

local M = {}

M.DEFAULT_SIZE = 10000

local Journal = {}
Journal.__index = Journal

function M.new(size)
  return setmetatable({ size = size or M.DEFAULT_SIZE, entries = {}, first = 1, n = 0, seq = 0 },
    Journal)
end

-- entry: time, dialect, action (native), neutral, key_id, caller, status,
-- error, faults (list of ids), latency_ms. Gets a sequence number.
function Journal:record(entry)
  self.seq = self.seq + 1
  entry.seq = self.seq
  local slot = (self.first + self.n - 1) % self.size + 1
  self.entries[slot] = entry
  if self.n < self.size then
    self.n = self.n + 1
  else
    self.first = self.first % self.size + 1
  end
end

function Journal:clear()
  self.entries, self.first, self.n = {}, 1, 0
end

local function has_fault(entry, id)
  for _, f in ipairs(entry.faults) do
    if f == id then
      return true
    end
  end
  return false
end

-- Filters: dialect, action (neutral or native name), key_id, caller,
-- status (number), error (code), fault (id), since (seq, exclusive).
local function keep(e, f)
  return (f.dialect == nil or f.dialect == e.dialect)
    and (f.action == nil or actions.matches(f.action, e.neutral, e.action))
    and (f.key_id == nil or f.key_id == e.key_id)
    and (f.caller == nil or f.caller == e.caller)
    and (f.status == nil or f.status == e.status)
    and (f.error == nil or f.error == e.error)
    and (f.fault == nil or has_fault(e, tostring(f.fault)))
    and (f.since == nil or e.seq > f.since)
end

-- The matching entries, oldest first; at most `limit` of the newest.
function Journal:query(filter, limit)
  filter = filter or {}
  local out = {}
  for i = 0, self.n - 1 do
    local e = self.entries[(self.first + i - 1) % self.size + 1]
    if keep(e, filter) then
      out[#out + 1] = e
    end
  end
  if limit and #out > limit then
    out = table.move(out, #out - limit + 1, #out, 1, {})
  end
  return out
end

function Journal:count(filter)
  filter = filter or {}
  local n = 0
  for i = 0, self.n - 1 do
    if keep(self.entries[(self.first + i - 1) % self.size + 1], filter) then
      n = n + 1
    end
  end
  return n
end

-- What a scenario sees as `journal`: reading only.
function Journal:view()
  return {
    count = function(filter) return self:count(filter) end,
    query = function(filter, limit) return self:query(filter, limit) end,
  }
end

return M
