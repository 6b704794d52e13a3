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
    { "duplicate.lua", 3, "duplicate key id 'a'" },
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
