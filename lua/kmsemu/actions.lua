-- Action names across dialects. Scenarios and the journal speak of an
-- operation by a neutral snake_case name ("generate_data_key") or by a
-- dialect's own native name; each dialect maps its names to the neutral
-- ones, so that a rule written once matches in every cloud.
local dialects = require "kmsemu.dialect"
local util = require "kmsemu.util"

local M = {}

-- Names worked out by a dialect are remembered, up to a bound: action
-- names come from requests, and a client could send any number of them.
local CACHE_MAX = 512
local cached = 0
local NEUTRAL = {}
for _, name in ipairs(dialects.NAMES) do
  NEUTRAL[name] = {}
end

-- The neutral name of a dialect's action name (nil for nil).
function M.neutral(dialect, native)
  if native == nil then
    return nil
  end
  local known = NEUTRAL[dialect]
  local n = known[native]
  if n then
    return n
  end
  n = dialects.BY_NAME[dialect].neutral(native)
  if cached < CACHE_MAX then
    known[native], cached = n, cached + 1
  end
  return n
end

-- Whether a rule's action pattern names this call: "*" or nil match all,
-- otherwise the neutral or the native name.
function M.matches(pattern, neutral, native)
  return pattern == nil or pattern == "*" or pattern == neutral or pattern == native
end

-- Every name a rule may give an action of the dialect: its own and the
-- neutral ones; a set, and a sorted list for suggestions.
local names = {}

function M.names(dialect)
  local n = names[dialect]
  if not n then
    n = { set = {}, list = {} }
    local d = dialects.BY_NAME[dialect]
    for _, native in ipairs(d.action_names()) do
      n.set[native], n.set[d.neutral(native)] = true, true
    end
    for name in pairs(n.set) do
      n.list[#n.list + 1] = name
    end
    table.sort(n.list)
    names[dialect] = n
  end
  return n
end

-- The dialects (of `among`, a list of names) that have an action called
-- `pattern`; all of them for "*".
function M.reach(pattern, among)
  local out = {}
  for _, dialect in ipairs(among) do
    if pattern == "*" or M.names(dialect).set[pattern] then
      out[#out + 1] = dialect
    end
  end
  return out
end

-- Refusal text for an action pattern no dialect of `among` has.
function M.unknown(what, pattern, among)
  local all = {}
  for _, dialect in ipairs(among) do
    table.move(M.names(dialect).list, 1, #M.names(dialect).list, #all + 1, all)
  end
  return ("%s '%s' is not an action of %s%s"):format(what, tostring(pattern), table.concat(among, " or "),
    util.did_you_mean(pattern, all))
end

return M
