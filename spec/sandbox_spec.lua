-- Escapes from the scenario sandbox: each is refused with a clear error or
-- is harmless. At load time through scenario.load_source; at request time
-- (fault predicates and shaping hooks run per request, under the time
-- budget and the Lua heap's ceiling) through the real binary, which must
-- answer every one and then keep serving.
local cjson = require "cjson"
local client = require "support.client"
local scenario = require "kmsemu.scenario"
local server = require "support.server"
local util = require "kmsemu.util"

-- { name, scenario text, what the error says } at load time.
local REFUSED = {
  { "string.dump", "string.dump(cmk)", "attempt to call a nil value (field 'dump')" },
  { "dump through the strings' metatable", "local f = (''):dump()", "method 'dump'" },
  { "load of a binary chunk", "load('\\27Lua')", "undeclared global 'load'" },
  { "load in mode b", "load(string.char(27), 'x', 'b')", "undeclared global 'load'" },
  { "getmetatable of a string", "getmetatable('').__index.upper = nil", "undeclared global 'getmetatable'" },
  { "a string's metatable by method", "('').__index = {}", "attempt to index a string value" },
  { "coroutine.wrap", "coroutine.wrap(function() end)()", "undeclared global 'coroutine'" },
  { "debug.sethook", "debug.sethook()", "undeclared global 'debug'" },
  { "debug.getregistry", "local r = debug.getregistry()", "undeclared global 'debug'" },
  { "io", "io.open('/etc/passwd')", "undeclared global 'io'" },
  { "os", "os.execute('true')", "undeclared global 'os'" },
  { "require", "require 'os'", "undeclared global 'require'" },
  { "package", "package.loaded.os.exit()", "undeclared global 'package'" },
  { "dofile", "dofile('/etc/passwd')", "undeclared global 'dofile'" },
  { "loadfile", "loadfile('/etc/passwd')", "undeclared global 'loadfile'" },
  { "collectgarbage", "collectgarbage('stop')", "undeclared global 'collectgarbage'" },
  { "rawset on _ENV", "rawset(_ENV, 'x', 1)", "undeclared global 'rawset'" },
  { "rawget", "rawget(_ENV, 'x')", "undeclared global 'rawget'" },
  { "a new global through _ENV", "_ENV.x = 1", "assignment to undeclared global 'x'" },
  { "_G", "_G.x = 1", "undeclared global '_G'" },
  { "setmetatable on the environment", "setmetatable(_ENV, {})", "undeclared global 'setmetatable'" },
  { "an error object with metamethods", "error(setmetatable({}, { __gc = print }))",
    "undeclared global 'setmetatable'" },
  { "string.rep beyond any size", "local s = string.rep('x', 1 << 62)", "resulting string too large" },
}

describe("the scenario sandbox at load time", function()
  for _, r in ipairs(REFUSED) do
    it("refuses " .. r[1], function()
      local w, err = scenario.load_source(r[2], "escape.lua")
      assert.is_nil(w)
      assert.matches("^escape%.lua:1: ", err)
      assert.is_truthy(err:find(r[3], 1, true), err)
    end)
  end

  it("keeps changes to its library tables to itself", function()
    local huge, upper = math.huge, string.upper
    local w = scenario.load_source("math.huge = 1; string.upper = nil; table.sort = nil", "own.lua")
    assert.is_table(w)
    assert.are.equal(huge, math.huge)
    assert.are.equal(upper, string.upper)
    assert.are.equal("X", ("x"):upper())
  end)
end)

-- Request-time escapes: each scenario's hook runs on Huawei list-keys.
local HOOKS = {
  loop = "while true do end",
  pcall_loop = "while true do pcall(function() while true do end end) end",
  xpcall_handler = "xpcall(function() error('x') end, function() while true do end end) while true do end",
  error_handler_loop = "for i = 1, 1e9 do pcall(error, i) end",
  rep_bomb = "local s = ('x'):rep(1 << 31)",
  concat_bomb = "local s = 'x' for i = 1, 40 do s = s .. s end",
  table_bomb = "local t = {} for i = 1, 1 << 30 do t[i] = i end",
  dump = "return ('').dump(function() end)",
}

-- What ended each, as kmsemu reports it on stderr: the time budget (the
-- --script-ms given below), the heap's ceiling or an error. A bomb meets
-- the budget or the ceiling first depending on the machine's speed.
local BUDGET, HEAP = "script time budget of 300 ms exceeded", "not enough memory"
local ENDED_BY = {
  loop = { BUDGET }, pcall_loop = { BUDGET }, xpcall_handler = { BUDGET }, error_handler_loop = { BUDGET },
  rep_bomb = { "resulting string too large" }, concat_bomb = { BUDGET, HEAP }, table_bomb = { BUDGET, HEAP },
  dump = { "attempt to call a nil value (field 'dump')" },
}

local function scenario_file(dir, hooks)
  local lines = { 'credentials { huawei = { ak = "%s", sk = "%s", project_id = "%s" } }' }
  lines[1] = lines[1]:format(client.HUAWEI.ak, client.HUAWEI.sk, client.HUAWEI.project_id)
  for name, body in pairs(hooks) do
    lines[#lines + 1] = ('fault { id = "%s", dialect = "huawei", action = "list-keys", '
      .. 'when = function(req) if req.headers["x-escape"] == "%s" then %s end return false end, '
      .. 'error = "KMS.0101" }'):format(name, name, body)
  end
  local path = dir .. "/escape.lua"
  local f = assert(io.open(path, "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  return path
end

describe("the scenario sandbox at request time", function()
  local srv, dir

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. dir)
    srv = server.start { "--scenario", scenario_file(dir, HOOKS), "--script-ms", "300" }
    assert.is_string(srv.url, "kmsemu did not start")
  end)

  teardown(function()
    assert.are.equal(0, (server.stop(srv)), "kmsemu exits cleanly on SIGTERM")
    os.execute("rm -rf " .. dir)
  end)

  for _, name in ipairs(util.sorted_keys(HOOKS)) do
    it("answers a hook that tries " .. name .. " with the emulator's 500, then serves", function()
      local host = srv.url:match("//(.*)")
      local req = client.huawei { action = "list-keys", body = {}, host = host }
      req.headers["x-escape"] = name
      local before = #(server.read(srv.err) or "")
      local status, _, body = server.send(srv, req)
      assert.are.equal(500, status)
      assert.are.same({ kmsemu_error = "the emulator failed to handle the request" },
        cjson.decode(body))
      -- The access line of the previous request may land after `before`.
      local report = ""
      server.eventually(function()
        local text = "\n" .. (server.read(srv.err) or ""):sub(before + 1)
        report = text:match("\nkmsemu: [^\n]*") or ""
        return report ~= ""
      end)
      local why
      for _, reason in ipairs(ENDED_BY[name]) do
        why = why or report:find(reason, 1, true) and reason
      end
      assert.is_string(why, "not ended by " .. table.concat(ENDED_BY[name], " or ") .. ": " .. report)
      status, _, body = server.send(srv, client.huawei { action = "list-keys", body = {}, host = host })
      assert.are.equal(200, status, body)
      assert.is_table(cjson.decode(body).keys)
    end)
  end
end)

describe("--lua-heap-mb", function()
  -- 24 MiB fits under the default ceiling and not under 16 MiB.
  local HOOK = { big = "local s = ('x'):rep(24 << 20)" }

  local function list_keys(srv)
    local req = client.huawei { action = "list-keys", body = {}, host = srv.url:match("//(.*)") }
    req.headers["x-escape"] = "big"
    return (server.send(srv, req))
  end

  for _, case in ipairs { { {}, 200 }, { { "--lua-heap-mb", "16" }, 500 } } do
    it(("answers a 24 MiB allocation with %d when started with {%s}"):format(case[2],
        table.concat(case[1], " ")), function()
      local dir = os.tmpname()
      os.remove(dir)
      os.execute("mkdir -p " .. dir)
      local args = { "--scenario", scenario_file(dir, HOOK) }
      table.move(case[1], 1, #case[1], 3, args)
      local srv = server.start(args)
      finally(function()
        server.stop(srv)
        os.execute("rm -rf " .. dir)
      end)
      assert.is_string(srv.url, "kmsemu did not start")
      assert.are.equal(case[2], list_keys(srv))
      local ok = server.send(srv, client.huawei { action = "list-keys", body = {}, host = srv.url:match("//(.*)") })
      assert.are.equal(200, ok)
    end)
  end
end)
