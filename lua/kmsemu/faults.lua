-- Fault injection: rules that pick some calls (by dialect, action, key id
-- or a predicate) and, on a trigger (the nth call, the first N, every
-- k-th, N in a row, a seeded probability), answer them with an error,
-- delay them, or change a key's state before the call runs.
--
-- Faults run in the router under the Lua lock; a delay is only returned as
-- a decision (delay_ms) that the C core sleeps after unlocking.
local actions = require "kmsemu.actions"
local dialects = require "kmsemu.dialect"
local errors = require "kmsemu.errors"
local keystore = require "kmsemu.keystore"
local prng = require "kmsemu.prng"
local util = require "kmsemu.util"

local M = {}

M.FIELDS = {
  id = true, dialect = true, action = true, key_id = true, when = true, window = true,
  header = true, param = true,
  nth = true, first = true, every = true, times = true, after = true, probability = true,
  error = true, message = true, delay_ms = true, state = true, connection = true, rate = true, burst = true,
}

-- What a connection fault does to the answer, in the C core's terms (see
-- src/kmsemu.h): what is sent, how, and the socket's fate afterwards.
M.CONNECTION = {
  reset = true,     -- RST before any byte of the answer
  close = true,     -- FIN before any byte of the answer
  truncate = true,  -- the head and part of the body (`bytes`, default half), then FIN
  malformed = true, -- a complete answer whose JSON body is cut short
  garbage = true,   -- `bytes` (default 256) seeded random bytes, then FIN
  drip = true,      -- the whole answer, `bytes` (default 1) every `every_ms` (default 100)
  hang = true,      -- nothing, until the client leaves or `ms` (default 600000) pass
}

M.TRIGGERS = { "nth", "first", "every", "times", "probability" }
local TRIGGERS = M.TRIGGERS

-- Neutral error names: the neutral code every dialect renders for a
-- key's state, or (true) each dialect's own code (its FAULT_CODES).
M.NEUTRAL_ERRORS = {
  disabled = "KEY_DISABLED", not_found = "KEY_NOT_FOUND", pending_deletion = "KEY_PENDING_DELETION",
  throttled = true, internal = true, unavailable = true, timeout = true,
}
local NEUTRAL_NAMES = util.sorted_keys(M.NEUTRAL_ERRORS)

local function check_count(f, name)
  local v = f[name]
  if v ~= nil and (math.type(v) ~= "integer" or v < (name == "after" and 0 or 1)) then
    return ("fault.%s must be a %s integer"):format(name, name == "after" and "non-negative" or "positive")
  end
end

local function check_trigger(f)
  local seen
  for _, t in ipairs(TRIGGERS) do
    if f[t] ~= nil then
      if seen then
        return ("fault: %s and %s are two triggers; give one"):format(seen, t)
      end
      seen = t
    end
  end
  for _, name in ipairs { "nth", "first", "every", "times", "after" } do
    local e = check_count(f, name)
    if e then
      return e
    end
  end
  if f.after ~= nil and f.times == nil then
    return "fault.after goes with times"
  end
  local p = f.probability
  if p ~= nil and (type(p) ~= "number" or p < 0 or p > 1) then
    return "fault.probability must be a number from 0 to 1"
  end
end

-- Why no dialect of `among` renders error code e.
local function unknown_error(e, among)
  for _, name in ipairs(dialects.NAMES) do
    if dialects.BY_NAME[name].error_info(e) then
      return ("fault.error '%s' is a %s code, but the fault acts in %s only"):format(e, name,
        table.concat(among, " and "))
    end
  end
  local candidates = { table.unpack(NEUTRAL_NAMES) }
  for _, name in ipairs(among) do
    local codes = dialects.BY_NAME[name].error_codes()
    table.move(codes, 1, #codes, #candidates + 1, candidates)
  end
  return ("fault.error '%s' is neither a neutral error (%s) nor a code of %s%s"):format(e,
    table.concat(NEUTRAL_NAMES, ", "), table.concat(among, " or "), util.did_you_mean(e, candidates))
end

local function where(among, keep)
  local out = {}
  for _, name in ipairs(among) do
    if keep(dialects.BY_NAME[name]) then
      out[#out + 1] = name
    end
  end
  return out
end

-- The dialects a fault can act in: those it names, that have its action,
-- render its error and could be asked for its key. Returns the list, or
-- nil and why the fault could never fire.
function M.reach(f)
  local among = where(dialects.NAMES, function(d) return f.dialect == nil or d.NAME == f.dialect end)
  if f.action ~= nil then
    local r = actions.reach(f.action, among)
    if #r == 0 then
      return nil, actions.unknown("fault.action", f.action, among)
    end
    among = r
  end
  local e = f.error
  if e ~= nil and not M.NEUTRAL_ERRORS[e] then
    local r = where(among, function(d) return d.error_info(e) ~= nil end)
    if #r == 0 then
      return nil, unknown_error(e, among)
    end
    among = r
  end
  if f.key_id ~= nil then
    local r = where(among, function(d) return d.is_key_id(f.key_id) end)
    if #r == 0 then
      local shapes = {}
      for i, name in ipairs(among) do
        shapes[i] = ("%s: %s"):format(name, dialects.BY_NAME[name].KEY_ID_SHAPE)
      end
      return nil, ("fault.key_id '%s' is not a key id %s requests can name (%s)"):format(f.key_id,
        table.concat(among, " or "), table.concat(shapes, "; "))
    end
    among = r
  end
  return among
end

local function check_reach(f)
  local _, err = M.reach(f)
  return err
end

-- connection = "reset" or { effect = "drip", bytes = 8, every_ms = 50 }.
local function check_connection(c)
  if c == nil or M.CONNECTION[c] then
    return nil
  end
  if type(c) ~= "table" or not M.CONNECTION[c.effect] then
    return "fault.connection must be one of reset, close, truncate, malformed, garbage, drip, hang"
      .. " (or a table with effect = one of them)"
  end
  for k, v in pairs(c) do
    if k ~= "effect" and not ((k == "bytes" or k == "every_ms" or k == "ms")
        and math.type(v) == "integer" and v >= 0) then
      return ("fault.connection: '%s' is not a non-negative integer option (bytes, every_ms, ms)")
        :format(tostring(k))
    end
  end
end

-- A token bucket: `rate` calls a second, bursts of up to `burst`.
local function check_rate(f)
  if f.rate == nil then
    return f.burst ~= nil and "fault.burst goes with rate" or nil
  end
  if type(f.rate) ~= "number" or f.rate <= 0 then
    return "fault.rate must be a positive number of calls per second"
  end
  if f.burst ~= nil and (math.type(f.burst) ~= "integer" or f.burst < 1) then
    return "fault.burst must be a positive integer"
  end
  for _, t in ipairs(TRIGGERS) do
    if f[t] ~= nil then
      return ("fault: rate is a trigger of its own; it does not combine with %s"):format(t)
    end
  end
end

local function is_lognormal(d)
  return type(d) == "table" and d[1] == nil and type(d.median) == "number" and d.median > 0
    and type(d.sigma) == "number" and d.sigma >= 0
    and (d.max == nil or math.type(d.max) == "integer" and d.max >= 0)
end

local function check_delay(d)
  if d == nil or (math.type(d) == "integer" and d >= 0) or is_lognormal(d) then
    return nil
  end
  if type(d) == "table" and math.type(d[1]) == "integer" and math.type(d[2]) == "integer"
      and d[1] >= 0 and d[1] <= d[2] then
    return nil
  end
  return "fault.delay_ms must be a non-negative integer, {min, max} or {median =, sigma = (, max =)}"
end

-- Returns an error message for a bad fault declaration, or nil.
function M.check(f)
  if type(f) ~= "table" then
    return "fault takes a table"
  end
  for k in pairs(f) do
    if not M.FIELDS[k] then
      return ("fault: unknown field '%s'"):format(tostring(k))
    end
  end
  if f.dialect ~= nil and not dialects.BY_NAME[f.dialect] then
    return ("fault.dialect must be one of %s"):format(table.concat(dialects.NAMES, ", "))
  end
  for _, name in ipairs { "action", "key_id", "error", "message" } do
    if f[name] ~= nil and (type(f[name]) ~= "string" or f[name] == "") then
      return ("fault.%s must be a non-empty string"):format(name)
    end
  end
  for _, name in ipairs { "header", "param" } do
    local t = f[name]
    local bad = t ~= nil and type(t) ~= "table"
    for k, v in pairs(type(t) == "table" and t or {}) do
      bad = bad or type(k) ~= "string" or type(v) ~= "string"
    end
    if bad then
      return ("fault.%s must be a table of names and string values"):format(name)
    end
  end
  local w = f.window
  if w ~= nil and not (type(w) == "table" and math.type(w[1]) == "integer"
      and math.type(w[2]) == "integer" and 0 <= w[1] and w[1] < w[2]) then
    return "fault.window must be {from, to}: seconds after the scenario loaded, from < to"
  end
  if f.when ~= nil and type(f.when) ~= "function" then
    return "fault.when must be a function(req)"
  end
  if f.state ~= nil and not keystore.STATES[f.state] then
    return ("fault.state '%s' is not a key state"):format(tostring(f.state))
  end
  if f.error == nil and f.delay_ms == nil and f.state == nil and f.connection == nil
      and f.rate == nil then
    return "fault needs an effect: error, delay_ms, state, connection or rate"
  end
  if f.message ~= nil and f.error == nil and f.rate == nil then
    return "fault.message goes with error (or rate)"
  end
  return check_trigger(f) or check_rate(f) or check_delay(f.delay_ms)
    or check_connection(f.connection) or check_reach(f)
end

local Set = {}
Set.__index = Set

-- A set of faults drawing from a generator seeded by the scenario's seed.
function M.new(seed)
  return setmetatable({ list = {}, next_id = 1, rng = prng.new(seed or "kmsemu"), started = util.now() },
    Set)
end

function Set:find(id)
  for _, f in ipairs(self.list) do
    if f.id == id then
      return f
    end
  end
end

-- Adds a checked fault; returns it, or nil and a message when its id is
-- taken. Without an id it gets the next free number. A vendor code also
-- limits the fault to the dialect whose code it is.
function Set:add(f)
  local fault = { calls = 0, fired = 0 }
  for k, v in pairs(f) do
    fault[k] = v
  end
  if fault.rate then
    fault.error = fault.error or "throttled"
    fault.burst = fault.burst or math.max(1, math.ceil(fault.rate))
    fault.buckets = {}
  end
  if type(fault.connection) == "string" then
    fault.connection = { effect = fault.connection }
  end
  if fault.error and not M.NEUTRAL_ERRORS[fault.error] then
    fault.dialect = M.reach(fault)[1]
  end
  if fault.id ~= nil then
    fault.id = tostring(fault.id)
    if self:find(fault.id) then
      return nil, ("fault: duplicate id '%s'"):format(fault.id)
    end
  else
    repeat
      fault.id, self.next_id = tostring(self.next_id), self.next_id + 1
    until not self:find(fault.id)
  end
  self.list[#self.list + 1] = fault
  return fault
end

function Set:remove(id)
  for i, f in ipairs(self.list) do
    if f.id == id then
      table.remove(self.list, i)
      return true
    end
  end
  return false
end

function Set:clear()
  self.list = {}
end

-- Switches a fault off (it sees no calls, as if it were gone) or on
-- again. Returns false when there is no such fault.
function Set:switch(id, on)
  local f = self:find(id)
  if not f then
    return false
  end
  f.off = not on or nil
  return true
end

local function in_window(self, w)
  local t = util.now() - self.started
  return t >= w[1] and t < w[2]
end

-- header: every named header (any case) has that value; param: every
-- named request parameter (as the dialect's parse read it) does.
local function has_headers(req, want)
  for k, v in pairs(want) do
    if req.headers[k:lower()] ~= v then
      return false
    end
  end
  return true
end

local function has_params(dialect, parsed, want)
  for k, v in pairs(want) do
    if dialect.param(parsed, k) ~= v then
      return false
    end
  end
  return true
end

local function matches(self, f, call, req, dialect, parsed)
  return (f.dialect == nil or f.dialect == call.dialect)
    and (f.window == nil or in_window(self, f.window))
    and (f.header == nil or has_headers(req, f.header))
    and (f.param == nil or has_params(dialect, parsed, f.param))
    and actions.matches(f.action, call.neutral, call.action)
    and (f.key_id == nil or f.key_id == call.key_id)
    and (f.when == nil or f.when(req) and true or false)
end

-- Takes a token from the call's bucket (one per dialect and action).
-- Returns false when there was one, else true and the seconds until the
-- next, for Retry-After. The buckets refill on the emulated clock: a
-- frozen clock refills nothing until it is advanced.
local function throttled(f, call)
  local name = call.dialect .. "\0" .. (call.action or "")
  local now = util.now_ms() / 1000
  local b = f.buckets[name]
  if not b then
    b = { tokens = f.burst, at = now }
    f.buckets[name] = b
  end
  b.tokens = math.min(f.burst, b.tokens + math.max(0, now - b.at) * f.rate)
  b.at = now
  if b.tokens >= 1 then
    b.tokens = b.tokens - 1
    return false
  end
  return true, math.max(1, math.ceil((1 - b.tokens) / f.rate))
end

-- Counts the call against the fault and says whether it fires now (and,
-- for a rate, when the client may try again).
local function triggered(self, f, call)
  f.calls = f.calls + 1
  local n = f.calls
  if f.rate then
    return throttled(f, call)
  elseif f.nth then
    return n == f.nth
  elseif f.first then
    return n <= f.first
  elseif f.every then
    return n % f.every == 0
  elseif f.times then
    local after = f.after or 0
    return n > after and n <= after + f.times
  elseif f.probability then
    return self.rng:float() < f.probability
  end
  return true
end

-- The error table a dialect renders for a fault's `error` on a call
-- naming key_id. `message`, when given, replaces the dialect's own; a
-- code whose messages name the key names this one.
function M.error_for(name, dialect, key_id, message)
  local neutral = M.NEUTRAL_ERRORS[name]
  local e
  if type(neutral) == "string" then
    e = errors.new(neutral, key_id)
  else
    e = dialect.fault_error(dialect.FAULT_CODES[name] or name, key_id)
  end
  e.message = message
  return e
end

local function set_state(world, call, state)
  local d = dialects.BY_NAME[call.dialect]
  for _, key in pairs(world.keys.keys) do
    if key.dialect == call.dialect and key.id == call.key_id then
      world.keys:set_state(key, state, d.default_deletion_date(util.now()))
    end
  end
end

-- A delay in ms drawn for one call: fixed, uniform in {min, max}, or
-- lognormal around a median (a long tail, as real latency has), capped at
-- max when given. The normal deviate comes from Box-Muller.
local function delay(rng, d)
  if type(d) ~= "table" then
    return d or 0
  end
  if d.median == nil then
    return rng:int(d[1], d[2])
  end
  local z = math.sqrt(-2 * math.log(1 - rng:float())) * math.cos(2 * math.pi * rng:float())
  local ms = math.floor(d.median * math.exp(d.sigma * z) + 0.5)
  return d.max and math.min(ms, d.max) or ms
end

-- Runs every fault against one call (the router's call record, the
-- request, its dialect's module and what its parse() read), in
-- declaration order. Returns what fired: { ids = {...}, error = name|nil,
-- message = text|nil, retry_after = s|nil, connection = {...}|nil,
-- delay_ms = n }. Every effect of every fault that fires applies; the
-- first error and the first connection effect win.
local NONE = setmetatable({ ids = setmetatable({}, { __newindex = error }), delay_ms = 0 },
  { __newindex = error })

function Set:apply(world, call, req, dialect, parsed)
  if #self.list == 0 then
    return NONE -- the common case allocates nothing
  end
  local out = { ids = {}, delay_ms = 0 }
  for _, f in ipairs(self.list) do
    local fires, retry_after = false, nil
    if not f.off and matches(self, f, call, req, dialect, parsed) then
      fires, retry_after = triggered(self, f, call)
    end
    if fires then
      f.fired = f.fired + 1
      out.ids[#out.ids + 1] = f.id
      if not out.error and f.error then
        out.error, out.message, out.retry_after = f.error, f.message, retry_after
      end
      out.connection = out.connection or f.connection
      if f.state and call.key_id then
        set_state(world, call, f.state)
      end
      out.delay_ms = out.delay_ms + delay(self.rng, f.delay_ms)
    end
  end
  return out
end

-- Applies a connection fault to a finished answer; `rng` draws garbage.
function M.connect(res, c, rng)
  local e, body = c.effect, res.body
  if e == "reset" or e == "close" or e == "hang" then
    res.raw, res.body, res.after, res.hang_ms = true, "", e, c.ms
  elseif e == "truncate" then
    res.body_limit, res.after = math.min(c.bytes or #body // 2, #body), "close"
  elseif e == "malformed" then
    res.body = body:sub(1, math.max(1, #body // 2))
  elseif e == "garbage" then
    local bytes = {}
    for i = 1, c.bytes or 256 do
      bytes[i] = string.char(rng:int(0, 255))
    end
    res.raw, res.body, res.after = true, table.concat(bytes), "close"
  elseif e == "drip" then
    res.drip = { bytes = c.bytes or 1, every_ms = c.every_ms or 100 }
  end
  return res
end

-- The faults as JSON-friendly tables (a predicate shows as when = true),
-- each with on = whether it is switched on.
function Set:describe()
  local out = {}
  for _, f in ipairs(self.list) do
    local d = { on = not f.off }
    for k, v in pairs(f) do
      if k ~= "buckets" and k ~= "off" then
        d[k] = type(v) == "function" or v
      end
    end
    out[#out + 1] = d
  end
  return out
end

return M
