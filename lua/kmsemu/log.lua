-- The access log: one line per request (--log, --log-format, --quiet),
-- built once from the call record the router journals. Lines collect in a
-- buffer written out in one write when it fills, on the server's tick
-- (about once a second while it serves) and when the state closes, so a
-- request costs a string.format and no system call. What a line holds is
-- what the journal holds, never a request's body, query or credentials;
-- a dialect's diagnostic (call.diagnostic) is printed as it wrote it.
local util = require "kmsemu.util"

local M = {}

M.FORMATS = { "text", "json" }
M.DEFAULT_FORMAT = "text"

local FLUSH_BYTES = 32 * 1024
local MAX_VALUE = 160 -- bytes of a client's value (key id, path) kept
local MAX_REASON = 1024

local out, render
M.on = false
local buf, n, bytes = {}, 0, 0

function M.flush()
  if n > 0 then
    local text = table.concat(buf, "", 1, n)
    buf, n, bytes = {}, 0, 0
    out:write(text)
  end
end

-- "2026-12-03T13:05:01Z", made once per second.
local stamp_of, stamp = nil, nil
local function iso(t)
  if t ~= stamp_of then
    stamp_of, stamp = t, os.date("!%Y-%m-%dT%H:%M:%SZ", t)
  end
  return stamp
end

local function cut(s, max)
  s = tostring(s)
  max = max or MAX_VALUE
  return #s > max and s:sub(1, max) .. "..." or s
end

-- A client's value as one token of a text line: bare when it has no
-- space, quote, backslash or control byte, else as a JSON string. Values
-- repeat (key ids, callers, actions), so the answers are remembered.
local memo, nmemo = {}, 0

local function token(v, once, max)
  local t = memo[v]
  if t then
    return t
  end
  local s = cut(v, max)
  local q = util.encode(s)
  t = (#q == #s + 2 and s ~= "" and not s:find(" ", 1, true)) and s or q
  if not once then
    if nmemo == 1024 then
      memo, nmemo = {}, 0
    end
    memo[v], nmemo = t, nmemo + 1
  end
  return t
end

local function escape_lines(text)
  return (text:gsub("[%z\1-\9\11-\31\127-\255]", function(ch) return ("\\x%02x"):format(ch:byte()) end))
end

-- time dialect action status code latency, then key=, faults=,
-- connection=, caller=, request_id=, reason=; a diagnostic's further
-- lines follow, indented.
local function text(c, ms)
  local line = ("%s %s %s %d %s %.2fms%s%s%s%s%s%s\n"):format(iso(c.time), c.dialect,
    c.action and token(c.action) or token(c.method, true) .. " " .. token(c.path, true),
    c.status, c.error and token(c.error) or "-", ms,
    c.key_id and " key=" .. token(c.key_id) or "",
    #c.faults > 0 and " faults=" .. token(table.concat(c.faults, ",")) or "",
    c.connection and " connection=" .. c.connection or "",
    c.caller and " caller=" .. token(c.caller) or "",
    c.request_id and " request_id=" .. token(c.request_id, true) or "",
    c.reason and " reason=" .. token(c.reason, false, MAX_REASON) or "")
  local rest = c.diagnostic and c.diagnostic:match("^[^\n]*\n(.+)$")
  if rest then
    line = line .. escape_lines(rest):gsub("[^\n]+", "    %0") .. "\n"
  end
  return line
end

local function json(c, ms)
  return util.encode {
    time = iso(c.time), dialect = c.dialect, action = c.action, key_id = c.key_id and cut(c.key_id),
    caller = c.caller and cut(c.caller), method = c.method, path = cut(c.path), status = c.status,
    error = c.error, latency_ms = math.floor(ms * 1000 + 0.5) / 1000,
    faults = #c.faults > 0 and c.faults or nil, connection = c.connection,
    request_id = c.request_id, reason = c.reason, diagnostic = c.diagnostic,
  } .. "\n"
end

local RENDER = { text = text, json = json }

-- A block of a diagnostic (a canonical request, a string to sign): each
-- line of text after "  | ", as a list of lines. hide(line), when given,
-- may return what to show instead (a secret's value replaced by its
-- length): diagnostics name what was signed, never a secret.
function M.block(text, hide)
  local out = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    out[#out + 1] = "  | " .. (hide and hide(line) or line)
  end
  return out
end

-- A value replaced by its length, for a diagnostic.
function M.hidden(v)
  return ("<%d bytes, not shown>"):format(#v)
end

-- A predicate on parameter names: whether name, in any case, contains one
-- of words (the dialect's names of secret-bearing parameters).
function M.secret_names(words)
  return function(name)
    name = name:lower()
    for _, word in ipairs(words) do
      if name:find(word, 1, true) then
        return true
      end
    end
    return false
  end
end

-- A canonical request as a block, with the values of the query's (third
-- line) parameters that secret(name) picks and of token and authorization
-- headers replaced by their length.
local function canonical_block(canonical, secret)
  local i = 0
  return M.block(canonical, function(line)
    i = i + 1
    local name = i > 3 and line:match("^([%w%-]+):")
    if i == 3 then
      return (line:gsub("([^&=]+)=([^&]*)", function(k, v)
        if secret(k) then
          return k .. "=" .. M.hidden(v)
        end
      end))
    elseif name and (name:find("token", 1, true) or name == "authorization") then
      return name .. ":" .. M.hidden(line:sub(#name + 2))
    end
  end)
end

-- A signature mismatch's account: lines (its head), then what kmsemu signed
-- for each form of the Host header (as sent, without its port), in full
-- for the first. sign(h) returns the canonical request and its string to
-- sign, or nil and the line that says why there is none.
function M.mismatch(lines, host, sign, secret)
  local forms = { host, host:match("^(.*):%d+$") }
  for i, h in ipairs(forms) do
    local canonical, sts = sign(h)
    if not canonical then
      lines[#lines + 1] = sts
      break
    end
    if i == 1 then
      lines[#lines + 1] = ("canonical request kmsemu expected (Host %s):"):format(h)
      local request, signed = canonical_block(canonical, secret), M.block(sts)
      table.move(request, 1, #request, #lines + 1, lines)
      lines[#lines + 1] = "string to sign:"
      table.move(signed, 1, #signed, #lines + 1, lines)
    else
      lines[#lines + 1] = ("with Host %s instead: canonical request hash %s"):format(h, sts:match("[^\n]*$"))
    end
  end
  lines[#lines + 1] = "host forms tried: " .. table.concat(forms, ", ")
  return table.concat(lines, "\n")
end

-- Opens the log: target "-" is stderr, another string a file appended
-- to, nil no log. Returns an error message, or nil.
function M.open(target, format)
  M.close()
  format = format or M.DEFAULT_FORMAT
  if not RENDER[format] then
    return ("--log-format must be one of %s, not '%s'"):format(table.concat(M.FORMATS, ", "), format)
  end
  if target == nil then
    return nil
  end
  if target == "-" then
    out = io.stderr
  else
    local f, err = io.open(target, "a")
    if not f then
      return "--log: " .. err
    end
    f:setvbuf("no") -- the buffer is ours: one write per flush
    out = f
  end
  render = RENDER[format]
  M.on = true
  -- The state's closing writes out what is left.
  M.closer = setmetatable({}, { __gc = function() pcall(M.flush) end })
end

function M.close()
  if out then
    M.flush()
    if out ~= io.stderr then
      out:close()
    end
  end
  out, render, M.on, M.closer = nil, nil, false, nil
end

-- The line of a journaled call; ms: its latency in milliseconds.
function M.write(c, ms)
  local line = render(c, ms)
  n = n + 1
  buf[n] = line
  bytes = bytes + #line
  if bytes >= FLUSH_BYTES then
    M.flush()
  end
end

return M
