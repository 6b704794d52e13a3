-- README's Huawei coverage table is checked against the route table, so
-- neither can change without the other; and every KMS code the dialect
-- raises has a status and message in its catalog.
local huawei = require "kmsemu.dialect.huawei"
local catalog = require("kmsemu.dialect.huawei.errors").CATALOG

-- Each row: a group, its operations in backquotes, their status.
local function readme_rows()
  local f = assert(io.open("README.md", "rb"))
  local text = f:read("a")
  f:close()
  local block = assert(text:match("<!%-%- huawei%-coverage.-%-%->\n(.-)<!%-%- /huawei%-coverage %-%->"),
    "README has a huawei-coverage block")
  local rows = {}
  for ops, status in block:gmatch("\n| [^|]+ | ([^|]+) | ([%w ]+) |") do
    for op in ops:gmatch("`([^`]+)`") do
      assert.is_nil(rows[op], "README lists " .. op .. " once")
      rows[op] = status
    end
  end
  return rows
end

local function route_rows()
  local rows = {}
  for _, list in ipairs { huawei.ROUTES, huawei.ROOT_ROUTES } do
    for _, r in ipairs(list) do
      rows[r.op] = r.coverage
    end
  end
  return rows
end

describe("README huawei coverage table", function()
  it("lists exactly the routed operations with their status", function()
    assert.are.same(route_rows(), readme_rows())
  end)

  it("leaves no operation unsupported", function()
    for op, status in pairs(readme_rows()) do
      assert.is_truthy(status == "supported" or status == "differs", op)
    end
  end)
end)

describe("huawei error catalog", function()
  it("has every KMS code the dialect raises", function()
    local dir = "lua/kmsemu/dialect/huawei/"
    local seen = 0
    for _, file in ipairs { "init", "keys", "crypto", "sign", "rotation", "import", "tags",
                            "grants", "aliases", "iam", "params", "context", "errors", "keystores",
                            "policies", "access_points", "capsules", "regions" } do
      local f = assert(io.open(dir .. file .. ".lua", "rb"))
      for code in f:read("a"):gmatch('"(KMS%.%d%d%d%d)"') do
        seen = seen + 1
        assert.is_table(catalog[code], file .. ".lua raises " .. code)
      end
      f:close()
    end
    assert.is_true(seen > 50)
  end)
end)
