-- The request journal: a bounded ring of what every call was and how it
-- was answered, so that a test can ask afterwards "was generate_data_key
-- retried 3 times after the throttle?". The oldest entries are dropped
-- once the ring is full.
local actions = require "kmsemu.actions"
local dialects = require "kmsemu.dialect"
local util = require "kmsemu.util"

local M = {}

M.DEFAULT_SIZE = 10000

local Journal = {}
Journal.__index = Journal

-- The fields of an entry. Each is a column: one array per field rather
-- than a table per entry, so recording allocates nothing and the garbage
-- collector walks a dozen arrays instead of ten thousand small tables.
-- seq (from the slot) and neutral (from dialect and action) are derived
-- when an entry is read, not stored.
M.FIELDS = { "seq", "time", "dialect", "action", "neutral", "key_id", "caller", "method", "path",
             "status", "error", "message", "faults", "connection", "latency_ms", "request_id",
             "reason", "diagnostic" }
local DERIVED = { seq = true, neutral = true }

-- Each column is cut into chunks of CHUNK slots. Under generational
-- collection a write into an old table sends the collector through all of
-- it again at the next minor collection: with whole columns that was every
-- slot of every column on each request; now only the chunks written since.
local CHUNK = 256

local function columns(size)
  local cols = {}
  for _, f in ipairs(M.FIELDS) do
    if not DERIVED[f] then
      local chunks = {}
      for i = 1, (size + CHUNK - 1) // CHUNK do
        chunks[i] = {}
      end
      cols[f] = chunks
    end
  end
  return cols
end

function M.new(size)
  size = size or M.DEFAULT_SIZE
  return setmetatable({ size = size, first = 1, n = 0, seq = 0, cols = columns(size) }, Journal)
end

-- A slot (1-based) as its chunk and place in it.
local function place(slot)
  return (slot - 1) // CHUNK + 1, (slot - 1) % CHUNK + 1
end

-- entry: time, dialect, action (native), neutral, key_id, caller, method,
-- path, status, error (code), message (the error's), faults (list of
-- ids), connection, latency_ms, request_id (an error answer's), reason (why an
-- error: the fault that injected it, the dialect's diagnosis, or the
-- message), diagnostic (the dialect's account of a failed check: what it
-- expected and got); any table with those fields (the router passes its
-- call record). Gets a sequence number. Written out field by field: this
-- runs on every request, and a loop over M.FIELDS cost more than the
-- writes.
function Journal:record(e)
  self.seq = self.seq + 1
  local ci, at = place((self.first + self.n - 1) % self.size + 1)
  local c = self.cols
  c.time[ci][at], c.dialect[ci][at], c.action[ci][at] = e.time, e.dialect, e.action
  c.key_id[ci][at], c.caller[ci][at], c.status[ci][at] = e.key_id, e.caller, e.status
  c.method[ci][at], c.path[ci][at], c.message[ci][at] = e.method, e.path, e.message
  c.error[ci][at], c.faults[ci][at], c.connection[ci][at], c.latency_ms[ci][at] =
    e.error, e.faults, e.connection, e.latency_ms
  -- A request id is kept for errors only: one new string per request in
  -- the ring costs every request about a microsecond of collection.
  c.request_id[ci][at], c.reason[ci][at], c.diagnostic[ci][at] =
    e.error and e.request_id or nil, e.reason, e.diagnostic
  if self.n < self.size then
    self.n = self.n + 1
  else
    self.first = self.first % self.size + 1
  end
end

function Journal:clear()
  self.first, self.n = 1, 0
  self.cols = columns(self.size)
end

local function neutral_of(dialect, action)
  return dialect and actions.neutral(dialect, action)
end

-- The entry in a slot, with its sequence number, as a table (for
-- queries, not on the request path).
function Journal:entry(slot, seq)
  local ci, at = place(slot)
  local e = { seq = seq }
  for _, f in ipairs(M.FIELDS) do
    if not DERIVED[f] then
      e[f] = self.cols[f][ci][at]
    end
  end
  e.neutral = neutral_of(e.dialect, e.action)
  return e
end

local function has_fault(ids, id)
  for _, f in ipairs(ids) do
    if f == id then
      return true
    end
  end
  return false
end

-- The filters and the type of their values: dialect, action (neutral or
-- native name), key_id, caller, method, path, status, error (code), fault
-- (id), connection (the connection fault's effect: reset, close, ...),
-- request_id, since (seq, exclusive).
M.FILTERS = {
  dialect = "string", action = "string", key_id = "string", caller = "string", method = "string",
  path = "string", status = "integer", error = "string", fault = "string", connection = "string",
  request_id = "string", since = "integer",
}
local FILTER_NAMES = util.sorted_keys(M.FILTERS)

local function typed(v, want)
  if want == "integer" then
    return math.type(v) == "integer"
  end
  return type(v) == "string" or (type(v) == "number" and want == "string")
end

-- Returns why a filter could never select what it says, or nil.
function M.check_filter(f)
  if type(f) ~= "table" then
    return "journal: a filter is a table"
  end
  for name, v in pairs(f) do
    local want = M.FILTERS[name]
    if not want then
      return ("journal: unknown filter '%s' (filters: %s)%s"):format(tostring(name),
        table.concat(FILTER_NAMES, ", "), util.did_you_mean(name, FILTER_NAMES))
    end
    if not typed(v, want) then
      return ("journal: filter %s must be a%s %s, not '%s'"):format(name, want == "integer" and "n" or "",
        want, tostring(v))
    end
  end
  if f.dialect ~= nil and not dialects.BY_NAME[f.dialect] then
    return ("journal: filter dialect must be one of %s%s"):format(table.concat(dialects.NAMES, ", "),
      util.did_you_mean(f.dialect, dialects.NAMES))
  end
end

-- Whether the entry in `slot` passes filter f, read from the columns
-- (a hook may count on every request: no table per entry).
local function keep(c, slot, seq, f)
  local ci, at = place(slot)
  return (f.since == nil or seq > f.since)
    and (f.dialect == nil or f.dialect == c.dialect[ci][at])
    and (f.action == nil or actions.matches(f.action, neutral_of(c.dialect[ci][at], c.action[ci][at]),
      c.action[ci][at]))
    and (f.key_id == nil or f.key_id == c.key_id[ci][at])
    and (f.caller == nil or f.caller == c.caller[ci][at])
    and (f.method == nil or f.method == c.method[ci][at])
    and (f.path == nil or f.path == c.path[ci][at])
    and (f.status == nil or f.status == c.status[ci][at])
    and (f.error == nil or f.error == c.error[ci][at])
    and (f.connection == nil or f.connection == c.connection[ci][at])
    and (f.request_id == nil or f.request_id == c.request_id[ci][at])
    and (f.fault == nil or has_fault(c.faults[ci][at], tostring(f.fault)))
end

-- Calls fn(slot, seq) for each entry passing the filter, oldest first.
function Journal:each(filter, fn)
  filter = filter or {}
  local oldest = self.seq - self.n + 1
  for i = 0, self.n - 1 do
    local slot = (self.first + i - 1) % self.size + 1
    if keep(self.cols, slot, oldest + i, filter) then
      fn(slot, oldest + i)
    end
  end
end

-- The matching entries, oldest first; at most `limit` of the newest.
function Journal:query(filter, limit)
  local out = {}
  self:each(filter, function(slot, seq) out[#out + 1] = self:entry(slot, seq) end)
  if limit and #out > limit then
    out = table.move(out, #out - limit + 1, #out, 1, {})
  end
  return out
end

function Journal:count(filter)
  local n = 0
  self:each(filter, function() n = n + 1 end)
  return n
end

-- What a scenario sees as `journal`: reading only, with filters checked.
local function checked(filter)
  local err = M.check_filter(filter or {})
  if err then
    error(err, 3)
  end
  return filter
end

function Journal:view()
  return {
    count = function(filter) return self:count(checked(filter)) end,
    query = function(filter, limit)
      if limit ~= nil and (math.type(limit) ~= "integer" or limit < 1) then
        error("journal: limit must be a positive integer", 2)
      end
      return self:query(checked(filter), limit)
    end,
  }
end

return M
