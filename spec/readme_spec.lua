-- README is the user's manual: at most 30 KB, its Contents naming every
-- section, and every file it links to present.
local fs = require "support.fs"

describe("README", function()
  local text = fs.read("README.md")

  it("stays within 30 KB", function()
    assert.is_true(#text <= 30 * 1024, ("README is %d bytes"):format(#text))
  end)

  it("lists every section in its Contents", function()
    local contents = assert(text:match("\n## Contents\n(.-)\n## "))
    for heading in text:gmatch("\n##+ ([^\n]+)") do
      if heading ~= "Contents" then
        assert.is_truthy(contents:find("[" .. heading .. "]", 1, true), heading)
      end
    end
  end)

  it("links only to files that exist", function()
    for target in text:gmatch("%]%(([^)#]+)[^)]*%)") do
      if not target:find("^https?:") then
        local f = io.open(target)
        assert.is_truthy(f, target)
        f:close()
      end
    end
  end)
end)
