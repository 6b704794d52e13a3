-- README's Huawei coverage table is checked against the route table, so
-- neither can change without the other; and every KMS code the dialect
-- raises has a status and message in its catalog.
local huawei = require "kmsemu.dialect.huawei"
local catalog = require("kmsemu.dialect.huawei.errors").CATALOG

local function readme_rows()
  local f = assert(io.open("README.md", "rb"))
  local text = f:read("a")
  f:close()
  local block = assert(text:match("<!%-%- huawei%-coverage.-%-%->\n(.-)<!%-%- /huawei%-coverage %-%->"),
    "README has a huawei-coverage block")
  local rows = {}
  for line in block:gmatch("[^\n]+") do
    local cells = {}
    for cell in line:gmatch("|([^|]*)") do
      cells[#cells + 1] = cell:match("^%s*(.-)%s*$")
    end
    local op, status = cells[1], cells[#cells - 1]
    if op and op ~= "operation" and not op:find("^%-") then
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
  for _, op in ipairs(huawei.NOT_SUPPORTED) do
    rows[op] = "not supported"
  end
  return rows
end

describe("README huawei coverage table", function()
  it("lists exactly the routed operations with their status", function()
    assert.are.same(route_rows(), readme_rows())
  end)

  it("uses only the three statuses", function()
    for op, status in pairs(readme_rows()) do
      assert.is_truthy(({ supported = true, differs = true, ["not supported"] = true })[status], op)
    end
  end)
end)

describe("huawei error catalog", function()
  it("has every KMS code the dialect raises", function()
    local dir = "lua/kmsemu/dialect/huawei/"
    local seen = 0
    for _, file in ipairs { "init", "keys", "crypto", "sign", "rotation", "import", "tags",
                            "grants", "aliases", "iam", "params", "context", "errors" } do
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
