-- The admin API under /_kmsemu/: JSON in and out (metrics in Prometheus
-- text). The router sends it every path there before any dialect sees
-- the request; no cloud's API has one. Loopback callers only, unless the
-- process was started with --admin-token, which then requires the token
-- from anyone: "Authorization: Bearer TOKEN", or Basic with the token as
-- password (any user), which a browser asks for to open the dashboard
-- (/_kmsemu/ui). A browser request from another origin is refused.
local core = require "kmsemu.core"
local dialects = require "kmsemu.dialect"
local faults = require "kmsemu.faults"
local journal = require "kmsemu.journal"
local keystore = require "kmsemu.keystore"
local scenario = require "kmsemu.scenario"
local ui = require "kmsemu.ui"
local util = require "kmsemu.util"

local M = {}

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

-- The token a request carries: a bearer token, or a Basic password.
local function given_token(req)
  local auth = req.headers.authorization or ""
  local bearer = auth:match("^Bearer%s+(.+)$")
  if bearer then
    return bearer
  end
  local basic = core.unb64(auth:match("^Basic%s+(%S+)$") or "")
  return basic and basic:match("^[^:]*:(.*)$") or ""
end

-- A browser names the page's origin on a cross-site request; it must be
-- this server's own, or any site the user visits could drive the API.
local function foreign_origin(req)
  local origin = req.headers.origin
  return origin ~= nil and origin:match("^https?://(.+)$") ~= req.headers.host
end

-- nil when the caller may proceed, else the refusal.
local function authorize(control, req)
  if foreign_origin(req) then
    return refuse(403, "the admin API refuses browser requests from another origin ("
      .. req.headers.origin .. ")")
  end
  local token = control.admin_token()
  if not token then
    if is_loopback(req.remote_addr or "") then
      return nil
    end
    return refuse(403, "the admin API answers loopback callers only (or start with --admin-token)")
  end
  -- core.equal takes the same time wherever the first difference is.
  if not core.equal(given_token(req), token) then
    local res = refuse(401, "missing or wrong bearer token")
    res.headers["WWW-Authenticate"] = 'Basic realm="kmsemu admin", charset="UTF-8"'
    return res
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

-- Switches a fault off (it sees no calls, as if it were gone) or on.
local function switch_fault(control, _, id, on)
  if not control.world().faults:switch(id, on) then
    return refuse(404, "no fault " .. id)
  end
  return reply(200, { id = id, on = on })
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
  -- seq: the newest entry's number, a cursor for `since` (a reset
  -- starts again from 0).
  return reply(200, { entries = util.array(entries), count = #entries,
                      seq = control.world().journal.seq })
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

local LIFECYCLE_OPS = util.sorted_keys(keystore.LIFECYCLE)

-- Every name a key answers to: its alias and any of a list of aliases.
local function aliases(k)
  local out = {}
  if k.alias and k.alias ~= "" then
    out[1] = k.alias
  end
  for _, a in ipairs(k.aliases or {}) do
    out[#out + 1] = a.alias
  end
  return util.array(out)
end

-- A key as the admin API shows it: actions are the lifecycle operations
-- its state allows (POST keys/action), extra the fields of its dialect's
-- cmk{} that the key record keeps.
local function key_view(k)
  local ops, extra = {}, {}
  for _, op in ipairs(LIFECYCLE_OPS) do
    if keystore.LIFECYCLE[op].from[k.state] then
      ops[#ops + 1] = op
    end
  end
  for name, f in pairs(dialects.BY_NAME[k.dialect].scenario.CMK_FIELDS) do
    if f.keep and k[name] ~= nil then
      extra[name] = k[name]
    end
  end
  return { id = k.id, dialect = k.dialect, owner = k.owner, spec = k.spec, state = k.state,
           usage = k.usage, origin = k.origin, created = k.created, aliases = aliases(k),
           description = k.description or "", deletion_date = k.deletion_date or util.null,
           actions = util.array(ops), extra = next(extra) and extra or util.null }
end

function H.get_keys(control)
  local out = {}
  local store = control.world().keys
  for _, k in pairs(store.keys) do
    if store:get(k.dialect, k.owner, k.id) then -- drops one whose deletion date passed
      out[#out + 1] = key_view(k)
    end
  end
  table.sort(out, function(a, b) return a.dialect .. a.owner .. a.id < b.dialect .. b.owner .. b.id end)
  return reply(200, { keys = util.array(out) })
end

-- The key of a dialect with this id, in `owner` or the only owner that
-- has one. Returns it, or nil and the refusal.
local function key_by_id(store, dialect, id, owner)
  local found = {}
  for _, k in pairs(store.keys) do
    if k.dialect == dialect and k.id == id and (owner == nil or k.owner == owner)
        and store:get(k.dialect, k.owner, k.id) then
      found[#found + 1] = k
    end
  end
  if #found == 0 then
    return nil, refuse(404, ("no %s key %s%s"):format(dialect, id, owner and " in " .. owner or ""))
  end
  if #found > 1 then
    local owners = {}
    for i, k in ipairs(found) do
      owners[i] = k.owner
    end
    table.sort(owners)
    return nil, refuse(409, ("%s key %s is in %s: give owner"):format(dialect, id, table.concat(owners, ", ")))
  end
  return found[1]
end

-- {dialect, id, action (, owner)}: a lifecycle operation as both clouds
-- have it (enable, disable, schedule_deletion, cancel_deletion), refused
-- when the key's state does not allow it. A scheduled deletion takes the
-- dialect's shortest window.
function H.post_keys_action(control, req)
  local b = body(req)
  if not b or type(b.dialect) ~= "string" or type(b.id) ~= "string" or type(b.action) ~= "string"
      or (b.owner ~= nil and type(b.owner) ~= "string") then
    return refuse(400, "the body must be {dialect, id, action (, owner)}")
  end
  local d = dialects.BY_NAME[b.dialect]
  if not d then
    return refuse(400, ("dialect must be one of %s%s"):format(table.concat(dialects.NAMES, ", "),
      util.did_you_mean(b.dialect, dialects.NAMES)))
  end
  local op = keystore.LIFECYCLE[b.action]
  if not op then
    return refuse(400, ("action must be one of %s%s"):format(table.concat(LIFECYCLE_OPS, ", "),
      util.did_you_mean(b.action, LIFECYCLE_OPS)))
  end
  local store = control.world().keys
  local key, refusal = key_by_id(store, b.dialect, b.id, b.owner)
  if not key then
    return refusal
  end
  if not store:transition(key, b.action) then
    return refuse(409, ("%s: key %s is %s; %s takes a key that is %s"):format(b.action, key.id, key.state,
      b.action, table.concat(util.sorted_keys(op.from), " or ")))
  end
  if b.action == "schedule_deletion" then
    store:touch(key).deletion_date = d.default_deletion_date(util.now())
  end
  return reply(200, key_view(key))
end

-- What the other operations accept: each dialect's actions, error codes
-- and key fields; key states and lifecycle operations; fault errors,
-- triggers and connection effects; journal filters. The dashboard is
-- built from it.
function H.get_catalog()
  local out = {}
  for _, name in ipairs(dialects.NAMES) do
    local d = dialects.BY_NAME[name]
    local acts, fields = {}, {}
    for _, native in ipairs(d.action_names()) do
      acts[#acts + 1] = { native = native, neutral = d.neutral(native) }
    end
    table.sort(acts, function(a, b) return a.native < b.native end)
    for field, f in pairs(d.scenario.CMK_FIELDS) do
      fields[#fields + 1] = { name = field, type = f.type, kept = f.keep == true }
    end
    table.sort(fields, function(a, b) return a.name < b.name end)
    out[#out + 1] = { name = name, actions = acts, errors = d.error_codes(), key_fields = fields,
                      key_id_shape = d.KEY_ID_SHAPE, default_spec = d.scenario.DEFAULT_SPEC }
  end
  return reply(200, {
    dialects = out, key_states = util.sorted_keys(keystore.STATES), key_actions = LIFECYCLE_OPS,
    specs = util.sorted_keys(keystore.SPECS),
    fault = { errors = util.sorted_keys(faults.NEUTRAL_ERRORS), triggers = faults.TRIGGERS,
              connections = util.sorted_keys(faults.CONNECTION) },
    journal_filters = util.sorted_keys(journal.FILTERS),
  })
end

-- The dashboard's page and its files; index.html at ui itself.
function H.get_ui(_, _, name)
  local text, ctype = ui.file(name or "index.html")
  if not text then
    return refuse(404, "no dashboard file " .. tostring(name))
  end
  return { status = 200, body = text, headers = {
    ["Content-Type"] = ctype, ["Cache-Control"] = "no-store", ["X-Content-Type-Options"] = "nosniff",
    ["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  } }
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
  return { status = 200, headers = { ["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8" },
           body = control.world().metrics:render(control.world().keys) }
end

local SWITCH = { on = true, off = false }

-- "GET journal/count" -> H.get_journal_count; "DELETE faults/3" -> H.delete_faults("3");
-- "POST faults/3/off" -> switch_fault("3", false); "GET ui/app.js" -> H.get_ui("app.js").
local function route(req, prefix)
  local rest = req.path:sub(#prefix + 1):gsub("/$", "")
  local method = req.method:lower()
  local fn = H[method .. "_" .. rest:gsub("/", "_")]
  if fn then
    return fn
  end
  local id = rest:match("^faults/([^/]+)$")
  if id and method == "delete" then
    return H.delete_faults, id
  end
  local sw
  id, sw = rest:match("^faults/([^/]+)/(%a+)$")
  if id and method == "post" and SWITCH[sw] ~= nil then
    return switch_fault, id, SWITCH[sw]
  end
  local file = rest:match("^ui/([^/]+)$")
  if file and method == "get" then
    return H.get_ui, file
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
  local fn, id, arg = route(req, control.prefix)
  if not fn then
    return refuse(404, "no admin operation " .. req.method .. " " .. req.path)
  end
  return fn(control, req, id, arg)
end

return M
