-- Small file and shell helpers shared by the spec support code, the
-- benchmark and the soak.
local M = {}

-- A command's whole standard output.
function M.sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

-- Runs cmd in the shell: its exit status, then its output (standard
-- output and error together).
function M.run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1; echo \"status=$?\""))
  local out = p:read("a")
  p:close()
  return tonumber(out:match("status=(%d+)\n$")), (out:gsub("status=%d+\n$", ""))
end

-- A new empty directory.
function M.tmpdir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  return dir
end

-- A command's standard output, a line an element.
function M.lines(cmd)
  local out = {}
  for line in M.sh(cmd):gmatch("[^\n]+") do
    out[#out + 1] = line
  end
  return out
end

function M.write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

-- A file's bytes, or nil when it cannot be opened.
function M.read(path)
  local f = io.open(path, "rb")
  if not f then
    return nil
  end
  local s = f:read("a")
  f:close()
  return s
end

return M
