-- The data directory (--data-dir): what changed at run time survives a
-- restart. The scenario's fixtures are the base; the log in the directory
-- (kmsemu.core.store_*, an append-only file of checksummed records) holds
-- every key changed since, each record the whole key as it then was, or a
-- tombstone. Start-up replays it (the last record of a key wins) and
-- compacts it. The router calls flush() after each request: the keys the
-- request touched (keystore's dirty set) are appended and fsync'd before
-- the response goes out. Requests that change nothing write nothing.
--
-- Records are JSON objects:
--   { t = "header", format = 1, seed = HMAC of the scenario seed }
--   { t = "scenario", name =, source = }  the scenario replaced at run time
--   { t = "key", key = the key or a dialect's object, encoded as below }
--   { t = "del", dialect =, owner =, id =, kind = an object's }
-- Material derived from the seed is left out (the seed makes it again);
-- given and imported material is kept, which is why the log is mode 0600.
local core = require "kmsemu.core"
local cjson = require "cjson.safe"
local scenario = require "kmsemu.scenario"

local M = {}

M.FORMAT = 1

-- Key fields not written: caches the key rebuilds on its own.
local SKIP = { derived = true }

local store    -- the open log, or nil without a data directory
local base     -- the scenario path given at start-up (nil: none)
local unsaved = {} -- keys whose last write failed

-- Lua values as JSON that reads back as the same values: table keys carry
-- their type ("s:name", "i:3"), so sparse and mixed tables survive;
-- strings that are not UTF-8 (digests, raw material) go as {b = base64},
-- floats as {f = text}, integers past 2^53 as {i = text}.
local encode

local function encode_table(t, skip)
  local out = {}
  for k, v in pairs(t) do
    if not (skip and skip[k]) then
      local name
      if type(k) == "string" then
        name = "s:" .. k
      elseif math.type(k) == "integer" then
        name = "i:" .. k
      else
        error("kmsemu.persist: a key field indexed by a " .. type(k))
      end
      out[name] = encode(v)
    end
  end
  return out
end

function encode(v)
  local t = type(v)
  if t == "string" then
    return utf8.len(v) and v or { b = core.b64(v) }
  elseif math.type(v) == "integer" then
    return (v > -2 ^ 53 and v < 2 ^ 53) and v or { i = tostring(v) }
  elseif t == "number" then
    return { f = ("%.17g"):format(v) }
  elseif t == "boolean" then
    return v
  elseif t == "table" then
    return encode_table(v)
  end
  error("kmsemu.persist: cannot keep a " .. t .. " in a key")
end

local function decode(v)
  local t = type(v)
  if t == "number" then
    return math.tointeger(v) or v
  elseif t ~= "table" then
    return v
  end
  if v.b then
    return core.unb64(v.b)
  elseif v.f then
    return tonumber(v.f) + 0.0
  elseif v.i then
    return math.tointeger(tonumber(v.i))
  end
  local out = {}
  for name, x in pairs(v) do
    local kind, k = name:sub(1, 2), name:sub(3)
    out[kind == "i:" and math.tointeger(tonumber(k)) or k] = decode(x)
  end
  return out
end

local function slot(k)
  return k.dialect .. "\0" .. (k.kind or "") .. "\0" .. k.owner .. "\0" .. k.id
end

local function key_record(key)
  return cjson.encode { t = "key", key = encode_table(key, SKIP) }
end

local function tombstone(key)
  return cjson.encode { t = "del", dialect = key.dialect, owner = key.owner, id = key.id, kind = key.kind }
end

local function seed_check(world)
  return core.hex(core.hmac("sha256", world.keys.seed, "kmsemu data directory seed"))
end

-- The records every log starts with: the header, and the scenario when
-- it is not the one named at start-up (replaced through the admin API).
local function preamble(world)
  local out = { cjson.encode { t = "header", format = M.FORMAT, seed = seed_check(world) } }
  if world.path ~= base then
    out[2] = cjson.encode { t = "scenario", name = world.path, source = world.source }
  end
  return out
end

-- Decodes the log's records; nil and "file: offset N: why" for one that
-- passed its checksum yet is not a kmsemu record (never skipped).
local function parse(payloads, offsets, path)
  local out = {}
  for i, p in ipairs(payloads) do
    local r = cjson.decode(p)
    local ok = type(r) == "table" and (r.t == "header" or r.t == "scenario" or r.t == "del"
      or (r.t == "key" and type(r.key) == "table"))
    if not ok then
      return nil, ("%s: offset %d: not a kmsemu record"):format(path, offsets[i])
    end
    out[i] = r
  end
  return out
end

-- The world to replay onto: the scenario the log kept, or the given one.
local function base_world(world, records)
  for _, r in ipairs(records) do
    if r.t == "scenario" then
      return scenario.load_source(r.source, r.name)
    end
  end
  return world
end

local function check_seed(world, records, path)
  local header, keys = nil, 0
  for _, r in ipairs(records) do
    header = header or (r.t == "header" and r)
    keys = keys + (r.t == "key" and 1 or 0)
  end
  if keys > 0 and header and header.seed ~= seed_check(world) then
    return ("%s: the keys in it were made under another scenario seed, so their material "
      .. "would differ; start with the scenario it was written with, or another --data-dir"):format(path)
  end
  if header and header.format ~= M.FORMAT then
    return ("%s: format %s, this kmsemu reads format %d"):format(path, tostring(header.format), M.FORMAT)
  end
end

-- Applies the key records in order; returns the last payload of each key,
-- in the order keys first appear, for compaction.
local function replay(world, records, payloads)
  local last, order = {}, {}
  for i, r in ipairs(records) do
    local k = r.t == "key" and decode(r.key) or r.t == "del" and r
    if k then
      if r.t == "key" then
        world.keys:restore(k)
      else
        world.keys:remove(k)
      end
      local s = slot(k)
      if not last[s] then
        order[#order + 1] = s
      end
      last[s] = payloads[i]
    end
  end
  local out = {}
  for i, s in ipairs(order) do
    out[i] = last[s]
  end
  return out
end

local function close()
  if store then
    core.store_close(store)
    store = nil
  end
end

-- Opens dir (taking its lock), replays its log onto world and compacts
-- it. Returns the world to serve (a scenario replaced at run time comes
-- back too), or nil and the reason start-up must stop.
function M.open(dir, world)
  close()
  base = world.path
  local h, err = core.store_open(dir)
  if not h then
    return nil, err
  end
  local payloads, offsets, warning, path = core.store_read(h)
  if not payloads then
    core.store_close(h)
    return nil, offsets
  end
  if warning then
    io.stderr:write("kmsemu: warning: ", warning, "\n")
  end
  local records, perr = parse(payloads, offsets, path)
  local w, werr
  if records then
    w, werr = base_world(world, records)
  end
  perr = perr or werr or check_seed(w, records, path)
  if perr then
    core.store_close(h)
    return nil, perr
  end
  local kept = replay(w, records, payloads)
  local log = preamble(w)
  table.move(kept, 1, #kept, #log + 1, log)
  local ok, rerr = core.store_rewrite(h, log)
  if not ok then
    core.store_close(h)
    return nil, rerr
  end
  store, unsaved = h, {}
  w.keys.dirty = {}
  return w
end

-- Writes the keys the last request touched, fsync'd. Returns true, or
-- nil and the reason. Keys whose write failed are written again with the
-- next request that changes something; a request that changes nothing
-- still writes nothing, so reads go on being served while the disk is
-- full.
function M.flush(world)
  local keys = world.keys
  local dirty = keys.dirty
  if not (store and dirty and next(dirty)) then
    return true
  end
  for key in pairs(unsaved) do
    dirty[key] = true
  end
  keys.dirty, unsaved = {}, {}
  local records = {}
  for key in pairs(dirty) do
    records[#records + 1] = keys:holds(key) and key_record(key) or tombstone(key)
  end
  local ok, err = core.store_append(store, records)
  if not ok then
    io.stderr:write("kmsemu: data directory: ", err, "\n")
    unsaved = dirty
    return nil, err
  end
  return true
end

-- The admin API's answer to a change that could not be written (the
-- reason is on stderr).
M.UNSAVED = { status = 500, headers = { ["Content-Type"] = "application/json" },
  body = '{"error":"the change could not be written to the data directory"}' }

-- A new world (the admin API's reset or scenario replacement) starts the
-- log afresh: what the directory holds is what changed since it.
function M.rebase(world)
  if not store then
    return true
  end
  local ok, err = core.store_rewrite(store, preamble(world))
  if not ok then
    return nil, err
  end
  world.keys.dirty, unsaved = {}, {}
  return true
end

return M
