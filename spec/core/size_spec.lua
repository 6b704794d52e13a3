-- The C core stays small enough to read: no function of src/*.c over
-- MAX_FUNCTION lines, from the first line of its signature to its closing
-- brace. Functions are written as the core writes them: the signature
-- follows a blank line, a comment or a declaration, and the body opens
-- and closes with a brace alone at column 0.
--   LUA_PATH='./spec/?.lua;;' lua5.4 spec/core/size_spec.lua   lists every function over 40 lines
local fs = require "support.fs"

local MAX_FUNCTION = 60

local M = {}

local function source_files()
  return fs.lines("ls src/*.c")
end

-- { file, line, name, lines } of every function in path.
function M.functions(path)
  local lines, out = {}, {}
  for l in io.lines(path) do
    lines[#lines + 1] = l
  end
  local i = 1
  while i <= #lines do
    if lines[i] == "{" then
      local s = i - 1
      while s > 1 and lines[s - 1]:match("%S") and not lines[s - 1]:match("[;}/]%s*$")
        and not lines[s - 1]:match("^#") do
        s = s - 1
      end
      local e = i
      while lines[e] and lines[e] ~= "}" and not lines[e]:match("^}[%s;]") do
        e = e + 1
      end
      local signature = table.concat(lines, " ", s, i - 1)
      local name = signature:match("([%a_][%w_]*)%s*%(") or signature
      out[#out + 1] = { file = path, line = s, name = name, lines = e - s + 1 }
      i = e
    end
    i = i + 1
  end
  return out
end

if not describe then -- run as a script: the longest functions
  for _, path in ipairs(source_files()) do
    for _, f in ipairs(M.functions(path)) do
      if f.lines > 40 then
        print(("%4d  %s:%d  %s"):format(f.lines, f.file, f.line, f.name))
      end
    end
  end
  return
end

describe("the C core", function()
  it("has no function over " .. MAX_FUNCTION .. " lines", function()
    local long, seen = {}, 0
    for _, path in ipairs(source_files()) do
      for _, f in ipairs(M.functions(path)) do
        seen = seen + 1
        if f.lines > MAX_FUNCTION then
          long[#long + 1] = ("%s:%d %s: %d lines"):format(f.file, f.line, f.name, f.lines)
        end
      end
    end
    assert.is_true(seen > 100, "found only " .. seen .. " functions: the parser is lost")
    assert.are.same({}, long)
  end)

  it("measures a function from its signature to its closing brace", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write("/* a comment */\nstatic int\nshort_one(int a,\n          int b)\n{\n    return a + b;\n}\n\n",
      "int long_one(void)\n{\n", ("    x();\n"):rep(60), "}\n")
    f:close()
    local fns = M.functions(path)
    os.remove(path)
    assert.are.same({ "short_one", 6, "long_one", 63 },
      { fns[1].name, fns[1].lines, fns[2].name, fns[2].lines })
  end)
end)
