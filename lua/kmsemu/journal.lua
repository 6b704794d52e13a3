-- The request journal: a bounded ring of what every call was and how it
-- was answered, so that a test can ask afterwards "was generate_data_key
-- retried 3 times after the throttle?". The oldest entries are dropped
-- once the ring is full.
local actions = require "kmsemu.actions"
local core = require "kmsemu.core"
local dialects = require "kmsemu.dialect"
local util = require "kmsemu.util"

local u32_new, u32_set, u32_get = core.u32_new, core.u32_set, core.u32_get

local M = {}

M.DEFAULT_SIZE = 10000

local Journal = {}
Journal.__index = Journal

-- The fields of an entry. seq (from the slot) and neutral (from dialect
-- and action) are derived when an entry is read, not stored.
M.FIELDS = { "seq", "time", "dialect", "action", "neutral", "key_id", "caller", "method", "path",
             "status", "error", "message", "faults", "connection", "latency_ms", "request_id",
             "reason", "diagnostic" }

-- Every entry's numbers and the ids of its few-valued strings live in one
-- packed array of unsigned 32-bit integers for the whole ring
-- (kmsemu.core.u32): 4 bytes a field where a Lua array takes 16, and
-- nothing for the collector to walk. A slot's WIDTH values: time,
-- latency_ms, status, then the ids of dialect, action, method, caller,
-- key id and path.
local WIDTH = 9

-- The ids name strings of a table that only grows, up to NAMES strings:
-- dialects, actions, methods and callers are few, and a test's key ids
-- and paths seldom many. Past that a string goes to its field's Lua
-- column instead (id nil, the slot sparse), so that made-up names sent by
-- a client cannot grow the table.
local NAMES = 1024

-- The rest are Lua columns, cut into chunks of CHUNK slots, for what few
-- entries have (an error's, a fault's, a name past NAMES), written only
-- for the entries that have it, which `sparse` lists by slot. Under
-- generational collection a write into an old table sends the collector
-- through all of it again at the next minor collection; a chunk bounds
-- that.
local COLUMNS = { "error", "message", "faults", "connection", "request_id", "reason", "diagnostic",
                  "dialect", "action", "method", "caller", "key_id", "path" }
local CHUNK = 256

local function columns(size)
  local cols = {}
  for _, f in ipairs(COLUMNS) do
    local chunks = {}
    for i = 1, (size + CHUNK - 1) // CHUNK do
      chunks[i] = {}
    end
    cols[f] = chunks
  end
  return cols
end

-- The ring and columns are made with the first entry: a run that records
-- none (kmsemu check, a scenario loaded to be replaced) never pays for them.
local function empty(self)
  self.first, self.n = 1, 0
  self.ring, self.cols, self.sparse = nil, nil, {}
  self.strs, self.ids = {}, {}
end

function M.new(size)
  local j = setmetatable({ size = size or M.DEFAULT_SIZE, seq = 0 }, Journal)
  empty(j)
  return j
end

-- A slot (1-based) as its chunk and place in it.
local function place(slot)
  return (slot - 1) // CHUNK + 1, (slot - 1) % CHUNK + 1
end

-- The id of a string not in the table yet, or nil when the table is full.
local function name_id(self, s)
  local id
  if s ~= nil and #self.strs < NAMES then
    id = #self.strs + 1
    self.ids[s], self.strs[id] = id, s
  end
  return id
end

-- entry: time, dialect, action (native), neutral, key_id, caller, method,
-- path, status, error (code), message (the error's), faults (list of
-- ids), connection, latency_ms, request_id (an error answer's), reason (why an
-- error: the fault that injected it, the dialect's diagnosis, or the
-- message), diagnostic (the dialect's account of a failed check: what it
-- expected and got); any table with those fields (the router passes its
-- call record). Gets a sequence number. Runs on every request: written
-- out field by field.
function Journal:record(e)
  self.seq = self.seq + 1
  local slot = (self.first + self.n - 1) % self.size + 1
  if not self.ring then
    self.ring, self.cols = u32_new(self.size * WIDTH), columns(self.size)
  end
  local c, ci, i = self.cols, place(slot)
  if self.n < self.size then
    self.n = self.n + 1
  else
    self.first = self.first % self.size + 1
    if self.sparse[slot] then -- the old entry's sparse fields go
      self.sparse[slot] = nil
      for _, f in ipairs(COLUMNS) do
        c[f][ci][i] = nil
      end
    end
  end
  local ids = self.ids
  local d, a = ids[e.dialect] or name_id(self, e.dialect), ids[e.action] or name_id(self, e.action)
  local m, who = ids[e.method] or name_id(self, e.method), ids[e.caller] or name_id(self, e.caller)
  local k, p = ids[e.key_id] or name_id(self, e.key_id), ids[e.path] or name_id(self, e.path)
  local faults = e.faults
  if faults and faults[1] == nil then
    faults = nil
  end
  u32_set(self.ring, (slot - 1) * WIDTH + 1, e.time, e.latency_ms, e.status, d, a, m, who, k, p)
  if e.error or e.message or faults or e.connection or e.reason or e.diagnostic
      or (d == nil and e.dialect) or (a == nil and e.action) or (m == nil and e.method)
      or (who == nil and e.caller) or (k == nil and e.key_id) or (p == nil and e.path) then
    self.sparse[slot] = true
    c.error[ci][i], c.message[ci][i], c.faults[ci][i], c.connection[ci][i] =
      e.error, e.message, faults, e.connection
    -- A request id is kept for errors only: one new string per request in
    -- the ring costs every request about a microsecond of collection.
    c.request_id[ci][i], c.reason[ci][i], c.diagnostic[ci][i] =
      e.error and e.request_id or nil, e.reason, e.diagnostic
    c.dialect[ci][i], c.action[ci][i], c.method[ci][i], c.caller[ci][i] =
      d == nil and e.dialect or nil, a == nil and e.action or nil, m == nil and e.method or nil,
      who == nil and e.caller or nil
    c.key_id[ci][i], c.path[ci][i] = k == nil and e.key_id or nil, p == nil and e.path or nil
  end
end

function Journal:clear()
  empty(self)
end

local function neutral_of(dialect, action)
  return dialect and actions.neutral(dialect, action)
end

-- The string of a named field: by its id, or from its column when the
-- name table was full.
local function named(self, slot, field, id, sparse)
  if id then
    return self.strs[id]
  elseif sparse then
    local ci, i = place(slot)
    return self.cols[field][ci][i]
  end
end

-- The entry in a slot, with its sequence number, as a table (for
-- queries, not on the request path).
function Journal:entry(slot, seq)
  local t, lat, status, d, a, m, who, k, p = u32_get(self.ring, (slot - 1) * WIDTH + 1, WIDTH)
  local sparse, ci, i = self.sparse[slot], place(slot)
  local e = { seq = seq, time = t, latency_ms = lat, status = status }
  if sparse then
    for _, f in ipairs(COLUMNS) do
      e[f] = self.cols[f][ci][i]
    end
  end
  e.dialect, e.action = named(self, slot, "dialect", d, sparse), named(self, slot, "action", a, sparse)
  e.method, e.caller = named(self, slot, "method", m, sparse), named(self, slot, "caller", who, sparse)
  e.key_id, e.path = named(self, slot, "key_id", k, sparse), named(self, slot, "path", p, sparse)
  e.faults = e.faults or {}
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

-- Whether an action filter (a neutral or a native name) takes an entry's
-- dialect and action; decided once per pair of names.
local function action_test(f)
  local seen = {}
  return function(dialect, action)
    local by = seen[dialect or 0]
    if not by then
      by = {}
      seen[dialect or 0] = by
    end
    local yes = by[action or 0]
    if yes == nil then
      yes = actions.matches(f.action, neutral_of(dialect, action), action) and true or false
      by[action or 0] = yes
    end
    return yes
  end
end

-- The filter's fields that only sparse entries can pass.
local function sparse_ok(self, f, slot)
  local c, ci, i = self.cols, place(slot)
  local faults = c.faults[ci][i]
  return (f.error == nil or f.error == c.error[ci][i])
    and (f.connection == nil or f.connection == c.connection[ci][i])
    and (f.request_id == nil or f.request_id == c.request_id[ci][i])
    and (f.fault == nil or (faults ~= nil and has_fault(faults, tostring(f.fault))))
end

-- Whether the entry in `slot` passes filter f (a hook may count on every
-- request: no table per entry).
local function keep(self, f, action_ok, slot, seq)
  if f.since ~= nil and seq <= f.since then
    return false
  end
  local _, _, status, d, a, m, who, k, p = u32_get(self.ring, (slot - 1) * WIDTH + 1, WIDTH)
  local sparse = self.sparse[slot]
  if (f.status ~= nil and f.status ~= status)
      or (f.key_id ~= nil and f.key_id ~= named(self, slot, "key_id", k, sparse))
      or (f.path ~= nil and f.path ~= named(self, slot, "path", p, sparse))
      or (f.dialect ~= nil and f.dialect ~= named(self, slot, "dialect", d, sparse))
      or (f.method ~= nil and f.method ~= named(self, slot, "method", m, sparse))
      or (f.caller ~= nil and f.caller ~= named(self, slot, "caller", who, sparse))
      or (action_ok and not action_ok(named(self, slot, "dialect", d, sparse),
                                      named(self, slot, "action", a, sparse))) then
    return false
  end
  if f.error ~= nil or f.connection ~= nil or f.request_id ~= nil or f.fault ~= nil then
    return sparse ~= nil and sparse_ok(self, f, slot)
  end
  return true
end

-- Calls fn(slot, seq) for each entry passing the filter, oldest first.
function Journal:each(filter, fn)
  filter = filter or {}
  local action_ok = filter.action ~= nil and action_test(filter)
  local oldest = self.seq - self.n + 1
  for i = 0, self.n - 1 do
    local slot = (self.first + i - 1) % self.size + 1
    if keep(self, filter, action_ok, slot, oldest + i) then
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
