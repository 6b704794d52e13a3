-- The command line as installed: --version from the Makefile's VERSION,
-- every option also as a KMSEMU_ variable (the flag wins, a bad value is
-- refused naming the variable), and --help, the man page and README's
-- "Command line" naming the same options (the man page the variables too).
local fs = require "support.fs"
local server = require "support.server"

local BIN = server.BIN

local sh, tmpdir = fs.run, fs.tmpdir

-- The binary run with `env` set: a wrapper script that support.server
-- starts in its place (the exec keeps the pid it signals).
local function with_env(dir, env)
  local bin = BIN:sub(1, 1) == "/" and BIN or (fs.sh("pwd"):gsub("\n$", "") .. "/" .. BIN)
  local path = dir .. "/kmsemu-env"
  fs.write(path, ("#!/bin/sh\nexec env %s %s \"$@\"\n"):format(env, bin))
  assert(os.execute("chmod +x " .. path))
  return path
end

local function start_with_env(dir, env, args)
  return server.with_bin(with_env(dir, env), server.start, args)
end

local help = select(2, sh(BIN .. " --help"))

-- "--name" of every option --help lists, and the variables it names.
local function help_flags()
  local flags, vars = {}, {}
  for name in help:gmatch("\n  (%-%-[%w-]+)") do
    flags[name] = true
  end
  for var in help:gmatch("KMSEMU_[%u_]+") do
    vars[var] = true
  end
  return flags, vars
end

local function variable(flag)
  return "KMSEMU_" .. flag:sub(3):upper():gsub("-", "_")
end

describe("--version", function()
  it("prints the Makefile's VERSION, 0.x.y", function()
    local version = fs.read("Makefile"):match("\nVERSION := ([%d.]+)\n")
    assert.matches("^0%.%d+%.%d+$", version)
    local status, out = sh(BIN .. " --version")
    assert.are.equal(0, status)
    assert.are.equal("kmsemu " .. version .. "\n", out)
  end)
end)

describe("options as KMSEMU_ variables #http", function()
  local dir

  before_each(function()
    dir = tmpdir()
  end)

  after_each(function()
    os.execute("rm -rf " .. dir)
  end)

  it("--help names the variable of every option that sets something", function()
    local flags, vars = help_flags()
    local n = 0
    for flag in pairs(flags) do
      if flag ~= "--help" and flag ~= "--version" then
        assert.is_true(vars[variable(flag)], variable(flag) .. " missing from --help")
        n = n + 1
      end
    end
    assert.is_true(n >= 15, "--help lists " .. n .. " options")
    for var in pairs(vars) do
      assert.is_true(flags["--" .. var:sub(8):lower():gsub("_", "-")], var .. " names no option")
    end
  end)

  it("a variable sets its option: KMSEMU_TLS_SELF_SIGNED serves https", function()
    local s = start_with_env(dir, "KMSEMU_TLS_SELF_SIGNED=" .. dir .. "/c.pem", {})
    assert.matches("^https://127%.0%.0%.1:%d+$", s.url or server.describe(s))
    local code = sh(("curl -sf -o /dev/null --cacert %s/c.pem %s/"):format(dir, s.url))
    assert.are.equal(0, code)
    assert.are.equal(0, server.stop(s))
  end)

  it("the flag wins over its variable, which is then not read", function()
    local s = start_with_env(dir, "KMSEMU_LISTEN=nowhere KMSEMU_THREADS=many",
      { "--threads", "4" })
    assert.matches("^http://127%.0%.0%.1:%d+$", s.url or server.describe(s))
    assert.are.equal(0, server.stop(s))
  end)

  it("a switch takes 1 or 0: KMSEMU_QUIET=1 silences the access log", function()
    local logs = {}
    for _, v in ipairs { "0", "1" } do
      local s = start_with_env(dir, "KMSEMU_QUIET=" .. v, {})
      assert.is_string(s.url, server.describe(s))
      sh(("curl -s -o /dev/null %s/"):format(s.url))
      local status, err = server.stop(s)
      assert.are.equal(0, status)
      logs[v] = select(2, err:gsub("GET /", ""))
    end
    assert.are.equal(1, logs["0"], "KMSEMU_QUIET=0 logs the request")
    assert.are.equal(0, logs["1"], "KMSEMU_QUIET=1 does not")
  end)

  it("an empty variable counts as unset", function()
    local s = start_with_env(dir, "KMSEMU_THREADS= KMSEMU_SCENARIO=", {})
    assert.is_string(s.url, server.describe(s))
    assert.are.equal(0, server.stop(s))
  end)

  local bad = {
    { "KMSEMU_THREADS=many", "KMSEMU_THREADS wants a number from 1 to 1024, not 'many'" },
    { "KMSEMU_MAX_HEADERS=99", "KMSEMU_MAX_HEADERS wants a number from 1 to 63, not '99'" },
    { "KMSEMU_MAX_BODY=lots", "KMSEMU_MAX_BODY wants a number from 1024" },
    { "KMSEMU_MAX_BODY='=5'", "KMSEMU_MAX_BODY wants BYTES or DIALECT=BYTES, not '=5'" },
    { "KMSEMU_QUIET=yes", "KMSEMU_QUIET wants 1 or 0, not 'yes'" },
  }
  for _, b in ipairs(bad) do
    it("refuses a bad value, naming the variable: " .. b[1], function()
      local status, out = sh(("env %s timeout 30 %s --listen 127.0.0.1:0"):format(b[1], BIN))
      assert.are.equal(2, status, out)
      assert.is_truthy(out:find("kmsemu: " .. b[2], 1, true), out)
      assert.is_nil(out:find("listening", 1, true))
    end)
  end
end)

describe("the man page and README's Command line", function()
  local man = fs.read("docs/kmsemu.1")
  local readme = fs.read("README.md")
  local command_line = readme:match("\n## Command line\n(.-)\n## ")

  it("name every option and variable --help names, and no other", function()
    local flags, vars = help_flags()
    local man_flags = {}
    for name in man:gmatch("\\%-\\%-([%w\\-]+)") do
      man_flags["--" .. name:gsub("\\%-", "-")] = true
    end
    for flag in pairs(flags) do
      assert.is_true(man_flags[flag], flag .. " missing from docs/kmsemu.1")
    end
    for flag in pairs(man_flags) do
      assert.is_true(flags[flag], flag .. " of docs/kmsemu.1 is not in --help")
    end
    for var in pairs(vars) do
      assert.is_truthy(man:find(var, 1, true), var .. " missing from docs/kmsemu.1")
    end
    for flag in pairs(flags) do
      assert.is_truthy(command_line:find(flag:gsub("%-", "%%-") .. "[%s%]]"), flag .. " missing from README's Command line")
    end
  end)

  it("carry the version placeholder make install fills in", function()
    assert.matches('\n%.TH KMSEMU 1 "[^"]*" "kmsemu @VERSION@"', man)
  end)
end)
