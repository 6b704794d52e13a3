-- The dashboard's files: the HTML, CSS and JS beside this module, which
-- the admin API serves under /_kmsemu/ui. The binary carries them as the
-- module kmsemu.ui.files (src/embed.lua makes it); with --lua-dir they
-- are read from that directory on each request, so an edit shows on the
-- next reload.
local M = {}

local TYPES = {
  html = "text/html; charset=utf-8",
  css = "text/css; charset=utf-8",
  js = "text/javascript; charset=utf-8",
}

-- The file's text from the directory of the module's source, or nil when
-- the modules come from the binary.
local function from_source(name)
  local init = package.searchpath("kmsemu.ui", package.path)
  if not init then
    return nil
  end
  local f = io.open(init:gsub("init%.lua$", "") .. name, "rb")
  if not f then
    return nil
  end
  local text = f:read("a")
  f:close()
  return text
end

-- The text and Content-Type of a dashboard file, or nil. Only a plain
-- file name of a known type is looked up: never a path.
function M.file(name)
  local ctype = TYPES[name:match("^[%w_%-]+%.(%a+)$")]
  if not ctype then
    return nil
  end
  local text = from_source(name)
  if text == nil then
    local ok, files = pcall(require, "kmsemu.ui.files")
    text = ok and files[name] or nil
  end
  if text == nil then
    return nil
  end
  return text, ctype
end

return M
