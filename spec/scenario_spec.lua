-- The scenario language: what loads, what is refused and where, the
-- sandbox, and the key model it builds (states, determinism, material).
local core = require "kmsemu.core"
local scenario = require "kmsemu.scenario"

local FIX = "spec/fixtures/scenarios/"

describe("scenario loading", function()
  it("loads the default scenario with keys of both dialects", function()
    local w = assert(scenario.load("scenarios/default.lua"))
    assert.are.equal("ap-guangzhou", w.credentials.tencent.region)
    assert.is_table(w.keys:get("huawei", "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "0d0466b0-e727-4d9c-b35d-f84bb474a37f"))
    assert.is_table(w.keys:get("tencent", "ap-shanghai", "5c5e4d6f-1e38-11e9-b129-5cb9019b4b05"))
    assert.is_nil(w.keys:get("tencent", "ap-guangzhou", "5c5e4d6f-1e38-11e9-b129-5cb9019b4b05"))
  end)

  local broken = {
    { "bad_keyspec.lua", 2, "cmk.spec 'DES' is not supported" },
    { "unknown_field.lua", 3, "unknown field 'colour'" },
    { "bad_state.lua", 2, "cmk.state 'frozen'" },
    { "short_material.lua", 2, "cmk.material must be 32 bytes" },
    { "duplicate.lua", 3, "duplicate key id '0a000000-0000-4000-8000-000000000001'" },
    { "forbidden_os.lua", 2, "undeclared global 'os'" },
    { "forbidden_io.lua", 2, "undeclared global 'io'" },
    { "forbidden_require.lua", 2, "undeclared global 'require'" },
    { "global_write.lua", 2, "assignment to undeclared global 'counter'" },
    { "syntax.lua", 3, "'}' expected" },
  }
  for _, b in ipairs(broken) do
    it("refuses " .. b[1] .. " with file:line: message", function()
      local w, err = scenario.load(FIX .. b[1])
      assert.is_nil(w)
      assert.are.equal(FIX .. b[1] .. ":" .. b[2] .. ":", err:match("^[^:]+:%d+:"))
      assert.is_truthy(err:find(b[3], 1, true), err)
    end)
  end

  it("reports a missing file", function()
    local w, err = scenario.load(FIX .. "no_such_file.lua")
    assert.is_nil(w)
    assert.matches("no_such_file", err)
  end)
end)

describe("the key model", function()
  it("derives the same material from the same seed, and other material from another", function()
    local a = assert(scenario.load("scenarios/default.lua"))
    local b = assert(scenario.load("scenarios/default.lua"))
    local c = assert(scenario.load(FIX .. "fixed.lua"))
    local id, p = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    local ka, kb = a.keys:get("huawei", p, id), b.keys:get("huawei", p, id)
    assert.are.equal(32, #a.keys:material(ka, 1))
    assert.are.equal(a.keys:material(ka, 1), b.keys:material(kb, 1))
    assert.are_not.equal(a.keys:material(ka, 1), a.keys:material(ka, 2))
    c.keys:add { id = id, dialect = "huawei", owner = p, spec = "AES_256", state = "enabled" }
    assert.are_not.equal(a.keys:material(ka, 1), c.keys:material(c.keys:get("huawei", p, id), 1))
  end)

  it("uses fixture material as given", function()
    local w = assert(scenario.load(FIX .. "fixed.lua"))
    local k = w.keys:get("tencent", "ap-guangzhou", "11111111-2222-4333-8444-666666666666")
    assert.are.equal("00112233445566778899aabbccddeeff", core.hex(w.keys:material(k, 1)))
    assert.are.equal(1700000000, k.created)
  end)

  it("lets only an enabled key be used, each other state with its own error", function()
    local w = assert(scenario.load("scenarios/default.lua"))
    local p = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    local cases = {
      { "0d0466b0-e727-4d9c-b35d-f84bb474a37f", nil },
      { "7e1d2c3b-4a59-4687-9abc-def012345678", "KEY_DISABLED" },
      { "8a9b0c1d-2e3f-4051-8617-28394a5b6c7d", "KEY_PENDING_DELETION" },
      { "9b8a7c6d-5e4f-4321-8fed-cba987654321", "KEY_PENDING_IMPORT" },
      { "00000000-0000-4000-8000-000000000000", "KEY_NOT_FOUND" },
    }
    for _, c in ipairs(cases) do
      local ok, e = pcall(w.keys.usable, w.keys, "huawei", p, c[1])
      if c[2] then
        assert.is_false(ok)
        assert.are.equal(c[2], e.code)
      else
        assert.is_true(ok)
        assert.are.equal(c[1], e.id)
      end
    end
  end)
end)

describe("randomness in a scenario", function()
  -- Draws at load time land in a key's description; a hook draws at run
  -- time into a header.
  local function load(seed, extra)
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(('seed %q\n'):format(seed), [[
local draws = {}
for i = 1, 8 do draws[i] = math.random(1, 1000000) end
draws[#draws + 1] = math.random()
draws[#draws + 1] = math.random(0)
cmk { id = "0a000000-0000-4000-8000-000000000001", dialect = "tencent", description = table.concat(draws, ",") }
]], extra or "", "\n")
    f:close()
    local w, err = scenario.load(path)
    os.remove(path)
    assert.is_table(w, err)
    return w.keys:get("tencent", "ap-guangzhou", "0a000000-0000-4000-8000-000000000001").description
  end

  it("math.random draws the same values on every load of the same seed, others with another", function()
    local a = load("rand-1")
    assert.are.equal(a, load("rand-1"))
    assert.are_not.equal(a, load("rand-2"))
    local ints = {}
    for v in a:gmatch("[^,]+") do
      ints[#ints + 1] = tonumber(v)
    end
    assert.are.equal(10, #ints)
    for i = 1, 8 do
      assert.is_true(ints[i] >= 1 and ints[i] <= 1000000 and math.type(ints[i]) == "integer")
    end
    assert.is_true(ints[9] >= 0 and ints[9] < 1)
  end)

  it("math.randomseed(x) starts again from the seed and x, the same on every load", function()
    local reseeded = 'math.randomseed(42)\ncmk { id = "0a000000-0000-4000-8000-000000000002", dialect = "tencent", '
      .. 'description = tostring(math.random(1, 1000000)) }'
    local function second(seed)
      local path = os.tmpname()
      local f = assert(io.open(path, "wb"))
      f:write(('seed %q\n'):format(seed), reseeded, "\n")
      f:close()
      local w = assert(scenario.load(path))
      os.remove(path)
      return w.keys:get("tencent", "ap-guangzhou", "0a000000-0000-4000-8000-000000000002").description
    end
    assert.are.equal(second("rand-1"), second("rand-1"))
    assert.are_not.equal(second("rand-1"), second("rand-2"))
  end)

  it("a hook's math.random draws the same sequence after every load", function()
    local kmsemu = require "kmsemu"
    local client = require "support.client"
    local path = require("support.scenario_file").with(
      'on("tencent", "GenerateRandom", function(req, res) res.headers["X-Draw"] = tostring(math.random(1e6)) end)')
    local function draws()
      assert(kmsemu.start { scenario = path } == nil)
      local out = {}
      for i = 1, 5 do
        out[i] = kmsemu.handle(client.tencent { action = "GenerateRandom", params = { NumberOfBytes = 4 } })
          .headers["X-Draw"]
      end
      return table.concat(out, ",")
    end
    local a = draws()
    assert.are.equal(a, draws())
    assert.is_truthy(a:find("^%d+,%d+,%d+,%d+,%d+$"), a)
  end)

  it("refuses a seed declared after math.random has drawn", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write('local x = math.random(10)\nseed "late"\n')
    f:close()
    local w, err = scenario.load(path)
    os.remove(path)
    assert.is_nil(w)
    assert.is_truthy(err:find(path .. ":2: seed comes before the first math.random", 1, true), err)
  end)
end)
