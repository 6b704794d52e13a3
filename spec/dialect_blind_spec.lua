-- The shared Lua layer knows no cloud by name: every module of
-- lua/kmsemu/ outside lua/kmsemu/dialect/ reaches a dialect only through
-- the registry (kmsemu.dialect), so a third cloud is one more module
-- there; the dashboard's files (lua/kmsemu/ui/) take theirs from the
-- admin API. This spec reads those files and fails on any line that
-- names a dialect, one of its error codes or code families, one of its
-- native action names, its signature or header vocabulary, or a
-- credential or cmk{} field of its own.
local dialects = require "kmsemu.dialect"
local fs = require "support.fs"

local function read(path)
  return assert(fs.read(path))
end

local function shared_modules()
  return fs.lines("ls lua/kmsemu/*.lua lua/kmsemu/ui/*")
end

-- Each forbidden word: plain text to find, and whether it must stand as
-- a whole word (a native action name such as "sign" is also English).
local function forbidden()
  local words, seen = {}, {}
  local function add(text, whole, why)
    if not seen[text] then
      seen[text] = true
      words[#words + 1] = { text = text, whole = whole, why = why }
    end
  end
  for _, name in ipairs(dialects.NAMES) do
    local d = dialects.BY_NAME[name]
    add(name, false, "dialect name")
    local codes = { table.unpack(d.error_codes()) }
    for _, code in pairs(d.FAULT_CODES) do
      codes[#codes + 1] = code
    end
    for _, code in ipairs(codes) do
      add(code, true, name .. " code")
      local family = code:match("^([%a]+)%.")
      if family then
        add(family, true, name .. " code family")
      end
    end
    for _, native in ipairs(d.action_names()) do
      if native ~= d.neutral(native) then
        add(native, true, name .. " action")
      end
    end
    for field in pairs(d.scenario.CREDENTIALS) do
      if field:find("_") then
        add(field, true, name .. " credential field")
      end
    end
    for field in pairs(d.scenario.CMK_FIELDS) do
      if field:find("_") then
        add(field, true, name .. " cmk field")
      end
    end
    for verb in pairs(d.scenario.VERBS) do
      add(verb, true, name .. " scenario verb")
    end
  end
  -- Signature and header vocabulary of the clouds.
  for _, w in ipairs { "x-tc-", "x-sdk-", "X-TC-", "X-Sdk-", "TC3", "SDK-HMAC", "HMAC-SHA256" } do
    add(w, false, "signature vocabulary")
  end
  return words
end

-- Whether `line` contains `w` (as a whole word when asked: the bytes
-- around it are no letter, digit, "_" or "-").
local function names(line, w)
  local from = 1
  while true do
    local i, j = line:find(w.text, from, true)
    if not i then
      return false
    end
    local before, after = line:sub(i - 1, i - 1), line:sub(j + 1, j + 1)
    if not w.whole or not (before:find("[%w_%-]") or after:find("[%w_%-]")) then
      return true
    end
    from = i + 1
  end
end

-- Every "path:line: word (why)" of a file's text.
local function findings(path, text, words)
  local out, n = {}, 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    local lower = line:lower()
    for _, w in ipairs(words) do
      local hay = w.why == "dialect name" and lower or line
      if names(hay, w) then
        out[#out + 1] = ("%s:%d: %s (%s)"):format(path, n, w.text, w.why)
      end
    end
  end
  return out
end

describe("the shared Lua layer", function()
  local words = forbidden()

  it("names no dialect, code, action, header or field of one", function()
    local all = {}
    for _, path in ipairs(shared_modules()) do
      for _, f in ipairs(findings(path, read(path), words)) do
        all[#all + 1] = f
      end
    end
    assert.are.same({}, all)
  end)

  it("looks at every module of lua/kmsemu/ and the dashboard, nothing under dialect/", function()
    local list = shared_modules()
    assert.is_true(#list >= 15)
    local ui = 0
    for _, path in ipairs(list) do
      assert.is_nil(path:find("/dialect/", 1, true), path)
      ui = ui + (path:find("^lua/kmsemu/ui/") and 1 or 0)
    end
    assert.is_true(ui >= 4)
  end)

  it("would catch each kind of name, as the dialect modules show", function()
    local hits = {}
    for _, name in ipairs(dialects.NAMES) do
      for _, f in ipairs(findings("x", read("lua/kmsemu/dialect/" .. name .. "/init.lua"), words)) do
        hits[f:match("%((.-)%)$")] = true
      end
    end
    for _, why in ipairs { "dialect name", "huawei code", "tencent code", "huawei action", "tencent action",
                           "signature vocabulary" } do
      assert.is_true(hits[why], why)
    end
    assert.are.same({ "x:1: GenerateDataKey (tencent action)" },
      findings("x", "-- was GenerateDataKey retried?", words))
    assert.are.same({ "x:1: KMS (huawei code family)" }, findings("x", 'e = "KMS.9999"', words))
    assert.are.same({}, findings("x", "-- signs and verifies the kmsemu.core digest", words))
  end)
end)
