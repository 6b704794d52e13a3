-- The admin API under /_kmsemu/: JSON in and out (metrics in Prometheus
-- text). The router sends it every path there before any dialect sees
-- the request; no cloud's API has one. Loopback callers only, unless the
-- process was started with --admin-token, which then requires
-- "Authorization: Bearer TOKEN" from anyone.
local core = require "kmsemu.core"
local dialects = require "kmsemu.dialect"
local faults = require "kmsemu.faults"
local journal = require "kmsemu.journal"
local keystore = require "kmsemu.keystore"
local scenario = require "kmsemu.scenario"
local util = require "kmsemu.util"

local M = {}

M.PREFIX = "/_kmsemu/"

local function reply(status, body)
  return { status = status, headers = { ["Content-Type"] = "application/json" },
           body = util.encode(body) }
end

local function refuse(status, message)
  return reply(status, { error = message })
end

local function is_loopback(addr)
  return addr == "::1" or addr:find("^127%.") ~= nil or addr:find("^::ffff:127%.") ~= nil
end

-- nil when the caller may proceed, else the refusal.
local function authorize(control, req)
  local token = control.admin_token()
  if not token then
    if is_loopback(req.remote_addr or "") then
      return nil
    end
    return refuse(403, "the admin API answers loopback callers only (or start with --admin-token)")
  end
  local given = (req.headers.authorization or ""):match("^Bearer%s+(.+)$") or ""
  -- core.equal takes the same time wherever the first difference is.
  if not core.equal(given, token) then
    return refuse(401, "missing or wrong bearer token")
  end
end

-- JSON numbers arrive as floats; the fault fields want integers.
local function integers(t)
  for k, v in pairs(t) do
    if math.type(v) == "float" and math.tointeger(v) then
      t[k] = math.tointeger(v)
    elseif type(v) == "table" then
      integers(v)
    end
  end
  return t
end

-- Query parameters as journal filters, and the limit: integers where the
-- filter takes one. Returns nil and why for a filter that could never
-- select what it says.
local function filters(req, with_limit)
  local f = {}
  for _, kv in ipairs(util.parse_query(req.query)) do
    local name, v = kv[1], kv[2]
    if journal.FILTERS[name] == "integer" or (with_limit and name == "limit") then
      v = v:find("^%-?%d+$") and math.tointeger(tonumber(v)) or v
    end
    f[name] = v
  end
  local limit
  if with_limit then
    limit, f.limit = f.limit, nil
  end
  if limit ~= nil and (math.type(limit) ~= "integer" or limit < 1) then
    return nil, ("journal: limit must be a positive integer, not '%s'"):format(limit)
  end
  local err = journal.check_filter(f)
  if err then
    return nil, err
  end
  return f, limit
end

local function body(req)
  local b = util.decode_object(req.body ~= "" and req.body or "{}")
  return b and integers(b)
end

local H = {}

function H.get_health(control)
  return reply(200, { status = "ok", scenario = control.world().path or util.null })
end

function H.post_reset(control)
  local ok, err = control.reset()
  if not ok then
    return refuse(500, err)
  end
  return reply(200, { status = "reset" })
end

-- The scenario loaded: its name and text.
function H.get_scenario(control)
  local w = control.world()
  return reply(200, { path = w.path or util.null, source = w.source or util.null })
end

-- Replaces the scenario with the Lua text of the body, checked first: a
-- scenario that does not load leaves the old one in place (400 with the
-- file:line: message). The new world starts fresh, journal included.
function H.put_scenario(control, req)
  local ok, err = control.replace(req.body, "admin:scenario")
  if not ok then
    return refuse(400, err)
  end
  return reply(200, { status = "loaded", path = "admin:scenario" })
end

function H.get_faults(control)
  return reply(200, { faults = util.array(control.world().faults:describe()) })
end

function H.post_faults(control, req)
  local f = body(req)
  if not f then
    return refuse(400, "the body must be a JSON object")
  end
  local err = faults.check(f)
  if err then
    return refuse(400, err)
  end
  local added, dup = control.world().faults:add(f)
  if not added then
    return refuse(409, dup)
  end
  return reply(201, { id = added.id })
end

function H.delete_faults(control, _, id)
  local set = control.world().faults
  if not id then
    set:clear()
    return reply(200, { status = "cleared" })
  end
  if not set:remove(id) then
    return refuse(404, "no fault " .. id)
  end
  return reply(200, { status = "removed", id = id })
end

function H.get_journal(control, req)
  local f, limit = filters(req, true)
  if not f then
    return refuse(400, limit) -- the reason, then
  end
  local entries = control.world().journal:query(f, limit)
  for _, e in ipairs(entries) do
    e.faults = util.array(e.faults)
  end
  return reply(200, { entries = util.array(entries), count = #entries })
end

function H.get_journal_count(control, req)
  local f, err = filters(req)
  if not f then
    return refuse(400, err)
  end
  return reply(200, { count = control.world().journal:count(f) })
end

function H.delete_journal(control)
  control.world().journal:clear()
  return reply(200, { status = "cleared" })
end

function H.get_keys(control)
  local out = {}
  for _, k in pairs(control.world().keys.keys) do
    out[#out + 1] = { id = k.id, dialect = k.dialect, owner = k.owner, spec = k.spec, state = k.state }
  end
  table.sort(out, function(a, b) return a.dialect .. a.owner .. a.id < b.dialect .. b.owner .. b.id end)
  return reply(200, { keys = util.array(out) })
end

function H.post_keys_state(control, req)
  local b = body(req)
  if not b or type(b.dialect) ~= "string" or type(b.owner) ~= "string" or type(b.id) ~= "string" then
    return refuse(400, "the body must be {dialect, owner, id, state}")
  end
  if not keystore.STATES[b.state] then
    return refuse(400, "state must be one of enabled, disabled, pending_deletion, pending_import, archived")
  end
  local key = control.world().keys:get(b.dialect, b.owner, b.id)
  if not key then
    return refuse(404, "no such key")
  end
  local date = dialects.BY_NAME[key.dialect].default_deletion_date(util.now())
  control.world().keys:set_state(key, b.state, date)
  return reply(200, { id = key.id, state = key.state })
end

-- A key made as a scenario's cmk{} would make it: the same fields, the
-- same checks, the same owner (the dialect's rule for a key that names
-- none); a key without id gets a fresh UUID.
function H.post_keys(control, req)
  local c = body(req)
  if not c then
    return refuse(400, "the body must be a JSON object")
  end
  c.id = c.id or util.uuid()
  local err = scenario.check_cmk(c)
  if err then
    return refuse(400, err)
  end
  local w = control.world()
  local key, kerr = scenario.add_cmk(w.keys, w.credentials, c)
  if not key then
    return refuse(409, kerr)
  end
  return reply(201, { id = key.id, dialect = key.dialect, owner = key.owner, spec = key.spec,
                      state = key.state })
end

function H.get_clock()
  return reply(200, util.clock_state())
end

-- {"set": instant, "advance": seconds, "frozen": bool}, each optional:
-- set first, then advance. Deletion dates, rotations and token lifetimes
-- follow; signatures are still checked against wall time.
function H.post_clock(_, req)
  local b = body(req)
  local at = b and b.set ~= nil and util.parse_instant(b.set)
  if not b or (b.set ~= nil and not at) or (b.advance ~= nil and math.type(b.advance) ~= "integer")
      or (b.frozen ~= nil and type(b.frozen) ~= "boolean") then
    return refuse(400, "expected {\"set\": \"2026-01-01T00:00:00Z\" or unix seconds, "
      .. "\"advance\": integer seconds, \"frozen\": true|false}")
  end
  local frozen = b.frozen
  if frozen == nil then
    frozen = util.clock_state().frozen
  end
  util.clock_set(at or util.now(), frozen)
  util.clock_advance(b.advance or 0)
  return reply(200, util.clock_state())
end

function H.get_metrics(control)
  return { status = 200, headers = { ["Content-Type"] = "text/plain; version=0.0.4" },
           body = control.world().metrics:render() }
end

-- "GET journal/count" -> H.get_journal_count; "DELETE faults/3" -> H.delete_faults("3").
local function route(req)
  local rest = req.path:sub(#M.PREFIX + 1):gsub("/$", "")
  local method = req.method:lower()
  local fn = H[method .. "_" .. rest:gsub("/", "_")]
  if fn then
    return fn
  end
  local id = rest:match("^faults/([^/]+)$")
  if id and method == "delete" then
    return H.delete_faults, id
  end
end

function M.handle(control, req)
  local refused = authorize(control, req)
  if refused then
    return refused
  end
  if req.oversize then
    return refuse(413, "request body exceeds --max-body")
  end
  local fn, id = route(req)
  if not fn then
    return refuse(404, "no admin operation " .. req.method .. " " .. req.path)
  end
  return fn(control, req, id)
end

return M
