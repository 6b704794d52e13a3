-- kmsemu run FILE: the shipped demos pass, a failing expectation fails the
-- run with its line, and every shipped scenario passes kmsemu check.
local server = require "support.server"

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1; echo \"exit=$?\""))
  local out = p:read("a")
  p:close()
  return out, tonumber(out:match("exit=(%d+)%s*$"))
end

local function each_scenario(fn)
  local p = assert(io.popen("find scenarios -name '*.lua' | sort"))
  for path in p:lines() do
    fn(path)
  end
  p:close()
end

describe("kmsemu run", function()
  for _, demo in ipairs { "envelope-tencent", "envelope-huawei", "faults" } do
    it("runs scenarios/demo/" .. demo .. ".lua with every step passing", function()
      local out, status = sh(server.BIN .. " run scenarios/demo/" .. demo .. ".lua")
      assert.are.equal(0, status, out)
      assert.is_truthy(out:find("%d+ steps, 0 failed"), out)
      assert.is_truthy(out:find("  -> ", 1, true), out) -- requests are shown
      assert.is_truthy(out:find("  <- 200 ", 1, true), out)
    end)
  end

  it("fails with the expectation's line, and goes on with the next step", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write([[
credentials { tencent = { secret_id = "AKIDx", secret_key = "k", region = "ap-guangzhou" } }
step("wrong", function(kms)
  local r = kms.tencent("GenerateRandom", { NumberOfBytes = 16 })
  expect(r.Error ~= nil, "an error was expected")
end)
step("right", function(kms)
  expect(kms.tencent("GenerateRandom", { NumberOfBytes = 16 }).Plaintext ~= nil, "bytes")
end)
step("raises", function() error("boom") end)
]])
    f:close()
    local out, status = sh(server.BIN .. " run " .. path)
    os.remove(path)
    assert.are.equal(1, status, out)
    assert.is_truthy(out:find("FAILED: line 4: an error was expected", 1, true), out)
    assert.is_truthy(out:find("boom", 1, true), out)
    assert.is_truthy(out:find("3 steps, 2 failed", 1, true), out)
  end)
end)

describe("kmsemu check on the shipped scenarios", function()
  each_scenario(function(path)
    it(path, function()
      local out, status = sh(server.BIN .. " check " .. path)
      assert.are.equal(0, status, out)
    end)
  end)
end)
