-- The spec harness (support.server) leaves evidence: a server that dies of
-- a signal the harness did not send fails the stop() that finds it, with
-- its exit status and stderr, so that a run which lost its server says why.
local server = require "support.server"

local function start()
  local s = server.start { "--lua-dir", "spec/fixtures/lua-broken" }
  assert.is_string(s.url, "kmsemu did not start")
  return s
end

describe("support.server #http", function()
  it("fails stop() for a death by a signal it did not send, with the status and stderr", function()
    local s = start()
    -- A Lua error the core reports on stderr, then a signal from elsewhere.
    assert.are.equal(500, (server.send(s, { method = "GET", path = "/error", headers = {}, body = "" })))
    os.execute(("kill -USR1 %d"):format(s.pid))
    assert.is_number(server.wait(s))
    assert.is_true(server.died(s))
    local ok, err = pcall(server.stop, s)
    assert.is_false(ok)
    assert.is_truthy(err:find("died of a signal the harness did not send", 1, true), err)
    assert.is_truthy(err:find("killed by signal 10 (not sent by the harness)", 1, true), err)
    assert.is_truthy(err:find("boom", 1, true), "stderr is shown: " .. err)
  end)

  it("stops quietly with the signal it sent, and keeps the exit status and stderr", function()
    local s = start()
    assert.are.equal(137, (server.stop(s, "KILL")))
    assert.is_false(server.died(s))
    s = start()
    local status, err = server.stop(s)
    assert.are.equal(0, status)
    assert.is_truthy(err:find("signal 15, stopping", 1, true), err)
    assert.is_truthy(server.describe(s):find("exit 0", 1, true))
  end)
end)
