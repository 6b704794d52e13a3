-- Small helpers shared by the dialects: JSON with the settings both clouds
-- need, request ids, and hex in the case each cloud prints.
local core = require "kmsemu.core"
local cjson = require "cjson.safe"

local M = {}

cjson.decode_max_depth(64)
cjson.encode_max_depth(64)

M.null = cjson.null

-- Decodes a JSON object. Returns the table, or nil when the text is not
-- JSON or not an object (both clouds take only objects as bodies).
function M.decode_object(text)
  local t = cjson.decode(text)
  if type(t) ~= "table" or (next(t) == 1) then
    return nil
  end
  return t
end

-- s with every occurrence of the plain string `old` replaced by `new`,
-- in C: gsub tries a pattern at every byte (~80 us for the JSON of a 4 KiB
-- ciphertext) and a Lua loop of plain finds still took ~50 us.
M.replace = core.replace

-- Base64 carries '/', which Debian's cjson 2.1.0 always escapes as "\/":
-- legal JSON, but not what a cloud sends. cjson escapes every '/', so each
-- "\/" in its output is one escaped slash and can be undone safely.
--
-- cjson 2.1.0 has no empty-array value either and writes every empty
-- table as {}. A list that must read [] when empty goes through array():
-- an empty one becomes a marker string, random per process so that no
-- request text can be it, which encode() turns into []. The marker never
-- leaves kmsemu.
local EMPTY = "kmsemu-empty-array-" .. core.hex(assert(core.random(16)))
local EMPTY_JSON = '"' .. EMPTY .. '"'

function M.array(t)
  if next(t) == nil then
    return EMPTY
  end
  return t
end

-- A document as JSON text: cjson, then two plain scans in C.
function M.encode(t)
  return M.replace(M.replace(assert(cjson.encode(t)), "\\/", "/"), EMPTY_JSON, "[]")
end

-- Lists of a document a hook may change carry this metatable, so that a
-- list the hook empties still reads [] once settled.
local LIST = {}
local MAX_DEPTH = 64 -- cjson's; a deeper (or cyclic) table is its error

-- A deep copy of a document built with array(), for a hook to change: the
-- dialect's own tables stay as they were, and its lists are tables again.
function M.editable(v)
  if v == EMPTY then
    return setmetatable({}, LIST)
  end
  if type(v) ~= "table" then
    return v
  end
  local out = {}
  for k, x in pairs(v) do
    out[k] = M.editable(x)
  end
  if out[1] ~= nil then
    setmetatable(out, LIST)
  end
  return out
end

-- An edited document ready for encode(): its empty lists as markers.
function M.settled(v, depth)
  depth = depth or 0
  if type(v) ~= "table" or depth > MAX_DEPTH then
    return v
  end
  if next(v) == nil then
    return getmetatable(v) == LIST and EMPTY or v
  end
  local out = {}
  for k, x in pairs(v) do
    out[k] = M.settled(x, depth + 1)
  end
  return out
end

function M.hex_upper(s)
  return core.hex(s):upper()
end

-- A version 4 UUID, as request ids and key ids look.
M.uuid = core.uuid

-- The emulated clock, in unix seconds: what key lifecycles, deletion
-- dates, rotations, import and IAM token lifetimes and fault windows
-- read. A scenario's clock{} or the admin API may start it elsewhere,
-- move it, or stop it; signatures are still checked against wall time
-- (M.wall), since the SDKs sign with the machine's clock. M.now_ms is
-- the same clock to the millisecond, for rates: it runs on the monotonic
-- clock from where the clock was last set (`anchor` is its lead over it).
local clock = { offset = 0, anchor = os.time() * 1000 - core.clock() }

function M.now()
  return clock.frozen or os.time() + clock.offset
end

function M.now_ms()
  return clock.frozen and clock.frozen * 1000 or core.clock() + clock.anchor
end

function M.wall()
  return os.time()
end

-- Sets the clock: at (unix seconds; nil for now), frozen (stands still
-- until set or advanced again). M.clock_set() is real time again.
function M.clock_set(at, frozen)
  at = at or M.now()
  clock.offset = at - os.time()
  clock.anchor = at * 1000 - core.clock()
  clock.frozen = frozen and at or nil
end

function M.clock_advance(seconds)
  if clock.frozen then
    clock.frozen = clock.frozen + seconds
  else
    clock.offset = clock.offset + seconds
    clock.anchor = clock.anchor + seconds * 1000
  end
end

function M.clock_state()
  return { now = M.now(), iso = os.date("!%Y-%m-%dT%H:%M:%SZ", M.now()),
           frozen = clock.frozen ~= nil, offset = M.now() - os.time() }
end

-- "2026-01-01T00:00:00Z" (or with a fraction, or an integer) as unix
-- seconds; nil for anything else.
function M.parse_instant(v)
  if math.type(v) == "integer" then
    return v
  end
  local y, mo, d, h, mi, s = tostring(v):match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)%.?%d*Z$")
  if not y then
    return nil
  end
  return M.timegm(tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(s))
end

-- Seconds since the epoch of a UTC calendar time; os.time() would read the
-- table as local time. Days from civil date, after H. Hinnant's algorithm.
function M.timegm(y, mo, d, h, mi, s)
  y = mo <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (mo + (mo > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + h * 3600 + mi * 60 + s
end

-- The bytes %s matches.
local SPACE = { [9] = true, [10] = true, [11] = true, [12] = true, [13] = true, [32] = true }

-- s without leading and trailing white space. Every signed header goes
-- through here, and nearly none has any: those come back as they are.
function M.trim(s)
  if not SPACE[s:byte(1)] and not SPACE[s:byte(-1)] then
    return s
  end
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- Splits an Authorization header of the form "ALGORITHM k1=v1, k2=v2"
-- (both clouds' signatures). Returns the fields when the algorithm is the
-- expected one, else nil.
function M.auth_fields(header, algorithm)
  local name, rest = header:match("^(%S+)%s+(.+)$")
  if name ~= algorithm then
    return nil
  end
  -- Split on commas first: a single gmatch of "(%w+)=" would backtrack
  -- through every position of the long hex signature.
  local f = {}
  for part in rest:gmatch("[^,]+") do
    local k, v = part:match("^%s*(%w+)=(%S+)%s*$")
    if k then
      f[k] = v
    end
  end
  return f
end

-- SignedHeaders lists, split once: a client sends the same list with
-- every call. At most 64 are kept, since the lists come from clients.
local split, nsplit = {}, 0

local function names_of(list)
  local names = split[list]
  if not names then
    names = {}
    for name in list:gmatch("[^;]+") do
      names[#names + 1] = name
    end
    if nsplit == 64 then
      split, nsplit = {}, 0
    end
    split[list], nsplit = names, nsplit + 1
  end
  return names
end

-- The canonical header block both clouds sign: "name:value\n" for each
-- name SignedHeaders lists (";"-separated), the value trimmed, and
-- lower-cased too when `lower` (a dialect's rule). host is passed apart: it
-- is tried with and without its port. nil when a signed header is absent.
function M.canonical_headers(req, list, host, lower)
  local out, headers = {}, req.headers
  for i, name in ipairs(names_of(list)) do
    local v = name == "host" and host or headers[name]
    if v == nil then
      return nil
    end
    v = M.trim(v)
    out[i] = name .. ":" .. (lower and v:lower() or v) .. "\n"
  end
  return table.concat(out)
end

-- The Host values a signature may have covered, most likely first: the
-- Node SDKs sign the hostname alone, Python's and Go's host:port. `memo`
-- (one per dialect) remembers which form the last good signature used:
-- a test run mostly uses one SDK, and each wrong guess costs a whole
-- canonical request, a digest and an HMAC. Returns one or two values.
function M.host_forms(memo, host)
  local bare = host:match("^(.*):%d+$")
  if bare and memo.bare then
    return bare, host
  end
  return host, bare
end

-- Whether sig_for(h, ...) gives `want` for one of those Host values, tried
-- in that order; remembers in memo which form matched. sig_for returns
-- nil when the request cannot have been signed with h.
function M.host_signed(memo, host, want, sig_for, ...)
  local first, second = M.host_forms(memo, host)
  for i = 1, second and 2 or 1 do
    local h = i == 1 and first or second
    local sig = sig_for(h, ...)
    if sig and core.equal(sig, want) then
      memo.bare = h ~= host
      return true
    end
  end
  return false
end

-- The usual UUID shape, lower or upper case hex.
function M.is_uuid(s)
  return type(s) == "string" and #s == 36 and
    s:find("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end

-- RFC 3986 percent-encoding of everything but the unreserved characters,
-- as both clouds' signers encode path segments and query parts.
function M.uri_encode(s)
  return (s:gsub("[^%w%-%._~]", function(c)
    return ("%%%02X"):format(c:byte())
  end))
end

function M.uri_decode(s)
  return (s:gsub("+", " "):gsub("%%(%x%x)", function(h)
    return string.char(tonumber(h, 16))
  end))
end

-- Levenshtein distance, for suggestions.
local function distance(a, b)
  local prev = {}
  for j = 0, #b do
    prev[j] = j
  end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

-- " (did you mean 'X'?)" for the candidate nearest to word, ignoring
-- case, when it is near enough to be the name meant; else "".
function M.did_you_mean(word, candidates)
  if type(word) ~= "string" then
    return ""
  end
  local lw, best, best_d = word:lower(), nil, math.huge
  for _, c in ipairs(candidates) do
    local d = distance(lw, c:lower())
    if d < best_d or (d == best_d and c < best) then
      best, best_d = c, d
    end
  end
  if best and best_d <= math.max(2, #word // 4) then
    return (" (did you mean '%s'?)"):format(best)
  end
  return ""
end

-- Declaration checks a scenario's verbs share, the dialects' included:
-- each returns the message for a bad value, or nil.
function M.check_fields(what, t, allowed)
  if type(t) ~= "table" then
    return what .. " takes a table"
  end
  for k in pairs(t) do
    if not allowed[k] then
      return ("%s: unknown field '%s'"):format(what, tostring(k))
    end
  end
end

function M.check_string(what, v)
  if type(v) ~= "string" or v == "" then
    return what .. " must be a non-empty string"
  end
end

-- Splits "a=1&b=2" into an ordered list of {name, value}, decoded.
function M.parse_query(q)
  local list = {}
  for part in q:gmatch("[^&]+") do
    local k, v = part:match("^([^=]*)=?(.*)$")
    list[#list + 1] = { M.uri_decode(k), M.uri_decode(v) }
  end
  return list
end


-- A table's keys, sorted.
function M.sorted_keys(t)
  local out = {}
  for k in pairs(t) do
    out[#out + 1] = k
  end
  table.sort(out)
  return out
end

-- A stand-in for a module that most runs never call, used through its
-- functions only: each loads the module with its first call, so start-up
-- goes without it.
function M.later(name)
  return setmetatable({}, {
    __index = function(stand_in, fn)
      local function call(...)
        return require(name)[fn](...)
      end
      rawset(stand_in, fn, call)
      return call
    end,
  })
end

return M
