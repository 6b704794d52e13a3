-- In-process cost of the Lua request path, without HTTP: calls
-- kmsemu.handle N times with one fixed signed request per operation and
-- prints microseconds per call. Under callgrind, the difference between
-- two runs of different N gives instructions per request, a figure that
-- holds still on a busy machine:
--   LUA_PATH='./lua/?.lua;./lua/?/init.lua;./spec/?.lua;;' \
--   LUA_CPATH='./build/lib/?.so;;' lua5.4 spec/bench/profile.lua [op] [n]
-- op: gdk, enc, hdk, henc or desc (default: all); n: calls (2000).
local kmsemu = require "kmsemu"
local ops = require "bench.ops"

local only, n = arg[1], tonumber(arg[2] or "2000")
assert(kmsemu.start { scenario = "scenarios/default.lua" } == nil)
for _, op in ipairs(ops.OPS) do
  if not only or only == op.short then
    local req = op.make("127.0.0.1:8080")
    local res = kmsemu.handle(req)
    assert(res.status == 200 and not res.body:find('"Error"'), res.body)
    local t0 = os.clock()
    for _ = 1, n do
      kmsemu.handle(req)
    end
    print(("%-5s %7.1f us/call"):format(op.short, (os.clock() - t0) / n * 1e6))
  end
end
