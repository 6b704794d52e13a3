-- README's Tencent coverage table lists exactly the actions of the API,
-- each as supported or differs: the dialect emulates all of them. A
-- "differs" action must be named in the Tencent known differences of
-- docs/dialects.md.
local tencent = require "kmsemu.dialect.tencent"
local util = require "kmsemu.util"

local function readme()
  local f = assert(io.open("README.md", "rb"))
  local text = f:read("a")
  f:close()
  return text
end

local function table_rows(text)
  local block = assert(text:match("<!%-%- tencent%-coverage.-%-%->\n(.-)<!%-%- /tencent%-coverage %-%->"),
    "README has no tencent-coverage block")
  local rows, order = {}, {}
  for actions, status in block:gmatch("\n| [^|]+ | ([%w ]+) | ([%w ]+) |") do
    for action in actions:gmatch("%w+") do
      assert.is_nil(rows[action], "listed twice: " .. action)
      rows[action] = status
      order[#order + 1] = action
    end
  end
  return rows, order
end

describe("README tencent coverage", function()
  local text = readme()
  local rows, order = table_rows(text)

  it("lists every emulated action as supported or differs", function()
    for name in pairs(tencent.ACTIONS) do
      assert.is_truthy(rows[name] == "supported" or rows[name] == "differs",
        name .. " is " .. tostring(rows[name]))
    end
  end)

  it("lists nothing else: the 69 actions of kms 2019-01-18", function()
    for _, name in ipairs(order) do
      assert.is_truthy(tencent.ACTIONS[name], "unknown action " .. name)
    end
    assert.are.equal(69, #order)
  end)

  it("explains every difference under docs/dialects.md's Known differences", function()
    local f = assert(io.open("docs/dialects.md", "rb"))
    local doc = f:read("a")
    f:close()
    local known = assert(doc:match("\n## Known differences\n.-\n### Tencent\n(.-)\n### "),
      "no Tencent known differences")
    for action, status in pairs(rows) do
      if status == "differs" then
        assert.is_truthy(known:find(action, 1, true), action .. " differs but is not explained")
      end
    end
  end)
end)

describe("the Tencent action groups loaded on first use", function()
  it("name exactly the actions of their modules, which no other group has", function()
    local seen = {}
    for group, names in pairs(tencent.LATER) do
      local listed = {}
      for _, name in ipairs(names) do
        assert.is_nil(seen[name], name .. " is in two groups")
        seen[name] = group
        listed[name] = true
      end
      assert.are.same(util.sorted_keys(require("kmsemu.dialect.tencent." .. group).ACTIONS),
        util.sorted_keys(listed), group)
    end
    assert.are.same(util.sorted_keys(tencent.ACTIONS), tencent.action_names())
  end)

  it("answer their first call, loaded by then", function()
    for name, group in pairs { RotateKey = "rotation", EncryptByWhiteBox = "whitebox", GetRegions = "service" } do
      assert.are.equal(require("kmsemu.dialect.tencent." .. group).ACTIONS[name], tencent.ACTIONS[name])
    end
    assert.is_nil(tencent.ACTIONS.NoSuchAction)
    assert.is_false(tencent.known("NoSuchAction"))
  end)
end)
