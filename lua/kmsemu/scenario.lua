-- Loads a scenario: an ordinary Lua file run in a sandbox, whose only
-- powers are the declarations below. Loading checks everything it can
-- (unknown fields, bad values, duplicate keys) and reports the first
-- problem as "file:line: message".
--
--   seed "demo-1"
--   credentials { <dialect> = { its fields } }      (dialect.scenario.CREDENTIALS)
--   cmk { id =, dialect =, spec =, usage =, state =, alias =, description =,
--         material = hex or PEM, created =, deletion_date =, origin =,
--         tags = {}, rotation = { enabled =, interval_days =, versions = },
--         and the dialect's own fields }            (dialect.scenario.CMK_FIELDS)
--   the verbs each dialect adds                     (dialect.scenario.VERBS)
--   fault { dialect =, action =, key_id =, when = function(req),
--           nth = | first = | every = | times = (, after =) | probability =,
--           error =, message =, delay_ms = n or {min, max}, state = }
--                                                       (kmsemu.faults)
--   on(dialect, action, function(req, res) ... return res end) (kmsemu.shaping)
--   journal.count{...}, journal.query{...}: the requests so far (kmsemu.journal)
local core = require "kmsemu.core"
local dialects = require "kmsemu.dialect"
local faults = require "kmsemu.faults"
local journal = require "kmsemu.journal"
local keystore = require "kmsemu.keystore"
local metrics = require "kmsemu.metrics"
local prng = require "kmsemu.prng"
local shaping = require "kmsemu.shaping"
local util = require "kmsemu.util"

local M = {}

M.DEFAULT_SEED = "kmsemu"

local DIALECTS = dialects.BY_NAME

local CREDENTIAL_FIELDS = {}
for name, d in pairs(DIALECTS) do
  CREDENTIAL_FIELDS[name] = d.scenario.CREDENTIALS
end

-- cmk{} fields: the shared ones, then each dialect's own (all accepted
-- whatever the key's dialect), checked by type.
local CMK_FIELDS = {
  id = true, dialect = true, spec = true, usage = true, state = true,
  alias = true, description = true, material = true, created = true,
  deletion_date = true, origin = true, tags = true, rotation = true,
}
local TIME_FIELDS = { "created", "deletion_date" }
local STRING_FIELDS = { "alias", "description" }
for _, name in ipairs(dialects.NAMES) do
  local own = DIALECTS[name].scenario.CMK_FIELDS
  for _, field in ipairs(util.sorted_keys(own)) do
    if not CMK_FIELDS[field] then
      CMK_FIELDS[field] = true
      local list = own[field].type == "time" and TIME_FIELDS or STRING_FIELDS
      list[#list + 1] = field
    end
  end
end

local ROTATION_FIELDS = { enabled = true, interval_days = true, versions = true }

-- The declarations each dialect adds to the language: each fills in a
-- field of the world, a list (many) or the last value declared.
local VERBS = {}
for _, name in ipairs(dialects.NAMES) do
  for verb, v in pairs(DIALECTS[name].scenario.VERBS) do
    VERBS[verb] = v
  end
end

local check_fields, check_string = util.check_fields, util.check_string

local function check_cmk(c)
  local err = check_fields("cmk", c, CMK_FIELDS) or check_string("cmk.id", c.id)
  if err then
    return err
  end
  local d = DIALECTS[c.dialect]
  if not d then
    return ("cmk.dialect must be one of %s"):format(table.concat(dialects.NAMES, ", "))
  end
  if not d.is_key_id(c.id) then
    return ("cmk.id '%s' is not a key id %s requests can name (%s)"):format(c.id, c.dialect, d.KEY_ID_SHAPE)
  end
  if c.spec ~= nil and not keystore.SPECS[c.spec] then
    local names = util.sorted_keys(keystore.SPECS)
    return ("cmk.spec '%s' is not supported (supported: %s)"):format(tostring(c.spec),
      table.concat(names, ", "))
  end
  if c.state ~= nil and not keystore.STATES[c.state] then
    return ("cmk.state '%s' is not one of enabled, disabled, pending_deletion, "
      .. "pending_import, archived"):format(tostring(c.state))
  end
  if c.usage ~= nil and not keystore.USAGES[c.usage] then
    return ("cmk.usage '%s' is not one of ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC")
      :format(tostring(c.usage))
  end
  if c.origin ~= nil and c.origin ~= "kms" and c.origin ~= "external" then
    return "cmk.origin must be \"kms\" or \"external\""
  end
  local spec = keystore.SPECS[c.spec or d.scenario.DEFAULT_SPEC]
  if c.material ~= nil then
    if spec.pkey then
      if type(c.material) ~= "string" or not c.material:find("^%-%-%-%-%-BEGIN") then
        return "cmk.material must be a PEM private key for an asymmetric spec"
      end
    else
      local raw = type(c.material) == "string" and core.unhex(c.material)
      if not raw or #raw ~= spec.bytes then
        return ("cmk.material must be %d bytes of hex for %s"):format(spec.bytes,
          c.spec or d.scenario.DEFAULT_SPEC)
      end
    end
  end
  for _, f in ipairs(TIME_FIELDS) do
    if c[f] ~= nil and math.type(c[f]) ~= "integer" then
      return ("cmk.%s must be an integer (unix seconds)"):format(f)
    end
  end
  if c.deletion_date ~= nil and c.state ~= "pending_deletion" then
    return "cmk.deletion_date goes with state = \"pending_deletion\""
  end
  if c.tags ~= nil then
    if type(c.tags) ~= "table" then
      return "cmk.tags must be a table of string keys and values"
    end
    for k, v in pairs(c.tags) do
      if type(k) ~= "string" or type(v) ~= "string" then
        return "cmk.tags must be a table of string keys and values"
      end
    end
  end
  if c.rotation ~= nil then
    local e = check_fields("cmk.rotation", c.rotation, ROTATION_FIELDS)
    if e then
      return e
    end
    local v = c.rotation.versions
    if v ~= nil and (math.type(v) ~= "integer" or v < 1) then
      return "cmk.rotation.versions must be a positive integer"
    end
  end
  for _, f in ipairs(STRING_FIELDS) do
    -- The name is built only for a field that is there: a scenario may
    -- declare 100 000 keys.
    err = c[f] ~= nil and check_string("cmk." .. f, c[f])
    if err then
      return err
    end
  end
end

-- Every string shares one metatable whose __index is the string library,
-- so a scenario reaches string.dump as ("").dump whatever its own
-- `string` holds, and with it the bytecode of any function it is handed.
-- Nothing in kmsemu dumps functions: the library goes without it.
string.dump = nil

-- xpcall for scenarios, on top of pcall: the handler runs once the error
-- has unwound, as ordinary code. Lua runs a real message handler with
-- hooks off whenever the error came from a hook, as the time budget's
-- does, so a handler that loops would hold the lock for ever.
local function sandbox_xpcall(f, handler, ...)
  local r = table.pack(pcall(f, ...))
  if r[1] then
    return table.unpack(r, 1, r.n)
  end
  return false, handler(r[2])
end

-- math.random and math.randomseed for a scenario: draws from a generator
-- seeded by the scenario's seed (d.seed, once declared), so that every
-- load of the same scenario draws the same values; randomseed(x) starts
-- the sequence again from the seed and x. The arguments are Lua's.
local function seeded_math(d)
  local function gen()
    d.rng = d.rng or prng.new(d.seed or M.DEFAULT_SEED)
    return d.rng
  end
  local function random(m, n)
    if m == nil then
      return gen():float()
    elseif m == 0 and n == nil then
      return gen():bits()
    elseif n == nil then
      m, n = 1, m
    end
    m, n = math.tointeger(m), math.tointeger(n)
    if not (m and n) then
      error("bad argument to 'random' (number has no integer representation)", 2)
    end
    if m > n then
      error("bad argument to 'random' (interval is empty)", 2)
    end
    return gen():int(m, n)
  end
  local function randomseed(...)
    local parts = { d.seed or M.DEFAULT_SEED }
    for i = 1, select("#", ...) do
      parts[i + 1] = tostring((select(i, ...)))
    end
    d.rng = prng.new(table.concat(parts, "\0"))
  end
  return setmetatable({ random = random, randomseed = randomseed }, { __index = math })
end

-- The sandbox: a few pure libraries and the declarations, nothing that
-- touches files, processes or the emulator's own modules. Reading or
-- writing an undeclared global is an error, which catches typos early.
local function sandbox(decl, d)
  local env = {
    assert = assert, error = error, ipairs = ipairs, next = next,
    pairs = pairs, pcall = pcall, select = select, tonumber = tonumber,
    tostring = tostring, type = type, xpcall = sandbox_xpcall,
    math = seeded_math(d),
    string = setmetatable({}, { __index = string }),
    table = setmetatable({}, { __index = table }),
    utf8 = setmetatable({}, { __index = utf8 }),
  }
  for name, fn in pairs(decl) do
    env[name] = fn
  end
  return setmetatable(env, {
    __index = function(_, k)
      error(("undeclared global '%s'"):format(tostring(k)), 2)
    end,
    __newindex = function(_, k)
      error(("assignment to undeclared global '%s'"):format(tostring(k)), 2)
    end,
  })
end

local function line_of_caller()
  local info = debug.getinfo(3, "l")
  return info and info.currentline or 0
end

-- A declaration that holds one value refuses a second: the first would
-- never take effect.
local function once(verb, again)
  return again and ("%s is declared twice: declare it once"):format(verb) or nil
end

-- Runs the file and returns what it declared, or nil and an error. The
-- journal exists before the file runs: its hooks and predicates read it.
-- path names the scenario in messages ("file:line: message").
local function run(src, path, jrnl)

  local d = { cmks = {}, extras = {}, faults = {}, hooks = {}, steps = {}, run_state = { misses = {} } }
  local decl = { journal = jrnl:view() }
  for verb, v in pairs(VERBS) do
    if v.many then
      d.extras[v.into] = {}
    end
    local seen = {}
    decl[verb] = function(x)
      local e = v.check(x) or once(verb, d.extras[v.into] ~= nil and not v.many)
      for _, id in ipairs(not e and v.unique and v.unique(x) or {}) do
        e = e or seen[id] and ("%s: duplicate %s"):format(verb, id)
        seen[id] = true
      end
      if e then
        error(e, 2)
      end
      if v.many then
        table.insert(d.extras[v.into], x)
      else
        d.extras[v.into] = x
      end
    end
  end
  -- step("name", function(kms) ... end): what `kmsemu run` does, in order.
  function decl.step(name, fn)
    if type(name) ~= "string" or type(fn) ~= "function" then
      error("step takes a name and a function(kms)", 2)
    end
    d.steps[#d.steps + 1] = { name = name, fn = fn }
  end
  -- expect(cond, message): inside a step, a check that fails the step
  -- without ending it. Returns cond.
  function decl.expect(cond, message)
    if not cond then
      local misses = d.run_state.misses
      misses[#misses + 1] = ("line %d: %s"):format(line_of_caller(), tostring(message or "expectation failed"))
    end
    return cond
  end
  -- clock { at = "2026-01-01T00:00:00Z", frozen = true }: where the
  -- emulated time starts, and whether it stands still between advances.
  function decl.clock(c)
    local e = type(c) ~= "table" and "clock takes a table" or check_fields("clock", c, { at = true, frozen = true })
    if not e and c.at ~= nil and not util.parse_instant(c.at) then
      e = "clock.at must be unix seconds or an instant like \"2026-01-01T00:00:00Z\""
    end
    if not e and c.frozen ~= nil and type(c.frozen) ~= "boolean" then
      e = "clock.frozen must be true or false"
    end
    e = e or once("clock", d.clock ~= nil)
    if e then
      error(e, 2)
    end
    d.clock = c
  end
  function decl.fault(f)
    local e = faults.check(f)
    for _, other in ipairs(d.faults) do
      if e == nil and f.id ~= nil and tostring(other.id) == tostring(f.id) then
        e = ("fault: duplicate id '%s'"):format(tostring(f.id))
      end
    end
    if e then
      error(e, 2)
    end
    d.faults[#d.faults + 1] = f
  end
  function decl.on(dialect, action, fn)
    local e = shaping.check(dialect, action, fn)
    if e then
      error(e, 2)
    end
    d.hooks[#d.hooks + 1] = { dialect = dialect, action = action, fn = fn }
  end
  function decl.seed(s)
    if type(s) ~= "string" or s == "" then
      error("seed takes a non-empty string", 2)
    end
    if d.rng then
      error("seed comes before the first math.random: the draws so far did not come from it", 2)
    end
    local e = once("seed", d.seed ~= nil)
    if e then
      error(e, 2)
    end
    d.seed = s
  end
  function decl.credentials(c)
    local e = check_fields("credentials", c, CREDENTIAL_FIELDS)
    for dialect, fields in pairs(type(c) == "table" and c or {}) do
      e = e or check_fields("credentials." .. dialect, fields, CREDENTIAL_FIELDS[dialect])
      for k, v in pairs(type(fields) == "table" and fields or {}) do
        e = e or check_string(("credentials.%s.%s"):format(dialect, k), v)
      end
    end
    e = e or once("credentials", d.credentials ~= nil)
    if e then
      error(e, 2)
    end
    d.credentials = c
  end
  function decl.cmk(c)
    local e = check_cmk(c)
    if e then
      error(e, 2)
    end
    -- Only the line: "file:line" is formatted if a message needs it.
    c.line = line_of_caller()
    d.cmks[#d.cmks + 1] = c
  end

  local chunk, lerr = load(src, "@" .. path, "t", sandbox(decl, d))
  if not chunk then
    return nil, lerr
  end
  local ok, rerr = pcall(chunk)
  if not ok then
    return nil, tostring(rerr)
  end
  return d
end

-- The parts of a world that the harness adds to every one: faults drawn
-- from the seed, shaping hooks, the journal and the counters.
local function harness(w, seed, jrnl)
  w.faults = faults.new(seed)
  w.hooks = w.hooks or {}
  w.journal = jrnl or journal.new()
  w.metrics = metrics.new()
  return w
end

local NO_ROTATION = {} -- read only

-- Adds a checked cmk{} declaration to a key store: a scenario's fixture
-- or a key the admin API creates. Returns the key, or nil and why.
function M.add_cmk(keys, creds, c)
  local d = DIALECTS[c.dialect].scenario
  local owner, why = d.owner(c, creds[c.dialect])
  if not owner then
    return nil, why
  end
  if c.id and keys:get(c.dialect, owner, c.id) then
    return nil, ("duplicate key id '%s'"):format(c.id)
  end
  local spec = c.spec or d.DEFAULT_SPEC
  local material = c.material
  if material and not keystore.is_asymmetric(spec) then
    material = core.unhex(material)
  end
  local r = c.rotation or NO_ROTATION
  local deletion_date = c.deletion_date
  if c.state == "pending_deletion" and not deletion_date then
    deletion_date = DIALECTS[c.dialect].default_deletion_date(util.now())
  end
  local f = {
    id = c.id, dialect = c.dialect, owner = owner, spec = spec, usage = c.usage,
    state = c.state, alias = c.alias, description = c.description,
    created = c.created, deletion_date = deletion_date, origin = c.origin,
    tags = c.tags, material = material,
    rotation = { enabled = r.enabled == true, interval_days = r.interval_days or 365 },
  }
  for field, spec_of in pairs(d.CMK_FIELDS) do
    if spec_of.keep then
      f[field] = c[field]
    end
  end
  local key = keys:add(f)
  for _ = 2, r.versions or 1 do
    keys:rotate(key)
  end
  return key
end

-- The checks cmk{} makes, for a declaration from elsewhere (the admin API).
M.check_cmk = function(c)
  return check_cmk(c)
end

-- The world with no scenario: no credentials, no keys.
function M.empty()
  util.clock_set(util.wall())
  return harness({ credentials = {}, keys = keystore.new(M.DEFAULT_SEED) }, M.DEFAULT_SEED)
end

-- Builds the world a scenario describes: credentials, a key store, its
-- faults and hooks.
function M.load(path)
  local f, err = io.open(path, "rb")
  if not f then
    return nil, err
  end
  local src = f:read("a")
  f:close()
  return M.load_source(src, path)
end

-- The same from the text of a scenario; name stands for its file.
function M.load_source(src, name)
  local path = name
  local jrnl = journal.new()
  local d, err = run(src, path, jrnl)
  if not d then
    return nil, err
  end
  -- Before any key exists: creation and deletion dates read the clock.
  if d.clock then
    util.clock_set(d.clock.at and util.parse_instant(d.clock.at), d.clock.frozen)
  else
    util.clock_set(util.wall())
  end
  local creds = d.credentials or {}
  for name, c in pairs(creds) do
    for k, v in pairs(DIALECTS[name].scenario.CREDENTIAL_DEFAULTS) do
      if c[k] == nil then
        c[k] = v
      end
    end
  end
  local keys = keystore.new(d.seed or M.DEFAULT_SEED)
  for _, c in ipairs(d.cmks) do
    local _, kerr = M.add_cmk(keys, creds, c)
    if kerr then
      return nil, ("%s:%d: cmk: %s"):format(path, c.line, kerr)
    end
  end
  local w = harness({ path = path, source = src, credentials = creds, keys = keys, hooks = d.hooks,
           steps = d.steps, run_state = d.run_state }, d.seed or M.DEFAULT_SEED, jrnl)
  for field, v in pairs(d.extras) do
    w[field] = v
  end
  for _, f in ipairs(d.faults) do
    assert(w.faults:add(f)) -- ids were checked as they were declared
  end
  return w
end

return M
