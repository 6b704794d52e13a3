-- The entry point the C core calls: start() once, handle() per request.
-- It sends /_kmsemu/ to the admin API and any other request to the
-- dialect that claims it, which reads it once (parse), then answers in
-- its cloud's exact shape, errors included (handle). Around the dialect
-- run the scenario's faults (before) and shaping hooks (after); the
-- answer is encoded once, last, and every call is journaled. See
-- docs/architecture.md, "The Lua layer".
local core = require "kmsemu.core"
local actions = require "kmsemu.actions"
local faults = require "kmsemu.faults"
local log = require "kmsemu.log"
local persist = require "kmsemu.persist"
local scenario = require "kmsemu.scenario"
local shaping = require "kmsemu.shaping"
local util = require "kmsemu.util"
local dialects = require "kmsemu.dialect"

local M = {}

local world
local admin_token

local DIALECTS = dialects.BY_NAME

-- --max-body NAME=BYTES: each dialect refuses a larger body in its own
-- words. Returns an error message for a name that is no dialect.
local function body_limits(rules)
  for _, d in pairs(DIALECTS) do
    d.MAX_BODY = d.DEFAULT_MAX_BODY
  end
  for name, bytes in pairs(rules or {}) do
    local d = DIALECTS[name]
    if not d then
      return ("--max-body %s=%d: no such dialect (%s)"):format(name, bytes,
        table.concat(dialects.NAMES, ", "))
    end
    d.MAX_BODY = bytes
  end
end

-- Loads the scenario, then what the data directory kept of the changes
-- made since. Returns nothing on success, or the error message.
function M.start(opts)
  admin_token = opts.admin_token
  local bad = body_limits(opts.max_body) or log.open(opts.log, opts.log_format)
  if bad then
    return bad
  end
  local w, err = scenario.empty(), nil
  if opts.scenario then
    w, err = scenario.load(opts.scenario)
  end
  if w and opts.data_dir then
    w, err = persist.open(opts.data_dir, w)
  end
  if not w then
    return err
  end
  world = w
end

-- Why an error was answered, in one line: the fault that injected it,
-- the dialect's diagnosis (its first line), or the error's message.
local function reason(c, fired)
  if not c.error then
    return nil
  end
  if fired.error then
    return "injected by fault " .. table.concat(fired.ids, ",")
  end
  return c.diagnostic and c.diagnostic:match("^[^\n]*") or c.message
end

-- The call record becomes the journal entry and the access log's line;
-- its error is the answer's, as shaped, before any connection fault. The
-- metrics count an action the dialect does not know under one name: a
-- client's made-up names must not grow them without bound (the journal
-- is a ring).
local function journal(dialect, c, res, fired, started)
  c.time, c.status, c.faults = os.time(), res.status, fired.ids
  c.reason = reason(c, fired)
  -- Time in the Lua state (monotonic) plus the injected delay.
  local ms = core.clock() - started + fired.delay_ms
  c.latency_ms = math.floor(ms + 0.5)
  world.journal:record(c)
  local action = c.action
  if action and not dialect.known(action) then
    action = "(unknown)"
  end
  world.metrics:observe(c.dialect, action, res.status, c.error, ms / 1000, fired.ids)
  if log.on then
    log.write(c, ms)
  end
end

-- Makes a scenario's text the world; the old world stays on error.
local function load(src, name)
  local w, err = scenario.load_source(src, name)
  if not w then
    return nil, err
  end
  world = w
  return persist.rebase(world)
end

-- The admin API and its dashboard load with their first request: most
-- runs never make one, and start-up is shorter without them.
local ADMIN = "/_kmsemu/"

-- What the admin API may do to the router's state.
local control = {
  prefix = ADMIN,
  world = function() return world end,
  admin_token = function() return admin_token end,
  -- Back to the scenario's initial state: keys, faults, journal, counters.
  -- The text loaded last is run again, so the file may change meanwhile.
  reset = function()
    if not world.path then
      world = scenario.empty()
      return persist.rebase(world)
    end
    return load(world.source, world.path)
  end,
  replace = load,
}

function M.handle(req)
  if req.path:sub(1, #ADMIN) == ADMIN then
    local res = require("kmsemu.admin").handle(control, req)
    return persist.flush(world) and res or persist.UNSAVED
  end
  local started = core.clock()
  local dialect = dialects.of(req)
  local c = { dialect = dialect.NAME, method = req.method, path = req.path }
  local parsed = dialect.parse(req, c)
  c.neutral = actions.neutral(c.dialect, c.action)
  local fired = world.faults:apply(world, c, req, dialect, parsed)
  local res
  if fired.error then
    res = dialect.fail(faults.error_for(fired.error, dialect, c.key_id, fired.message), c)
  else
    res = dialect.handle(world, req, parsed, c)
  end
  res = shaping.apply(world.hooks, dialect, c, req, res)
  -- What this call changed is on disk before anyone hears it happened.
  if not persist.flush(world) then
    res = dialect.fail(faults.error_for("internal", dialect), c)
  end
  c.request_id = dialect.request_id(res)
  if res.json ~= nil then
    res.body, res.json = util.encode(res.json), nil
  end
  if fired.retry_after and dialect.RETRY_AFTER then
    local headers = { ["Retry-After"] = tostring(fired.retry_after) }
    for k, v in pairs(res.headers or {}) do -- a dialect may share one table
      headers[k] = v
    end
    res.headers = headers
  end
  if fired.connection then
    c.connection = fired.connection.effect
    res = faults.connect(res, fired.connection, world.faults.rng)
  end
  if fired.delay_ms > 0 then
    res.delay_ms = fired.delay_ms
  end
  journal(dialect, c, res, fired, started)
  return res
end

-- The server's periodic call (vm_tick), about once a second while it
-- serves.
function M.tick()
  if log.on then
    log.flush()
  end
end

-- kmsemu run: the scenario's steps; returns how many failed.
function M.run()
  return require("kmsemu.run").run(world, M.handle)
end

-- What a newcomer needs to point an SDK at this instance: the endpoint
-- and credentials of each dialect the scenario configures.
function M.describe(url)
  local lines = {}
  for _, name in ipairs(dialects.NAMES) do
    local creds = world.credentials[name]
    if creds then
      lines[#lines + 1] = DIALECTS[name].endpoint(creds, url)
    end
  end
  local n = 0
  for _ in pairs(world.keys.keys) do
    n = n + 1
  end
  lines[#lines + 1] = ("  %d keys from %s"):format(n, world.path or "no scenario")
  return table.concat(lines, "\n")
end

-- For tests: the world as loaded.
function M.world()
  return world
end

return M
