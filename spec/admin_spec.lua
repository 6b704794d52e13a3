-- The admin API's operations for the dashboard (catalog, key lifecycle,
-- faults switched on and off, the journal cursor, the page's files) and
-- its access rules for a browser, through the router; the page's files
-- also from the binary, built in and with --lua-dir.
local cjson = require "cjson"
local client = require "support.client"
local dialects = require "kmsemu.dialect"
local fs = require "support.fs"
local kmsemu = require "kmsemu"
local server = require "support.server"

local TC_KEY = "23e80852-1e38-11e9-b129-5cb9019b4b01"
local HW_KEY = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"

local function start(token)
  assert(kmsemu.start { scenario = "scenarios/default.lua", admin_token = token } == nil)
end

local function admin(...)
  return client.admin(kmsemu, ...)
end

local function action(t)
  return admin("POST", "keys/action", cjson.encode(t))
end

local function tc(name, params)
  return cjson.decode(kmsemu.handle(client.tencent { action = name, params = params }).body).Response
end

local function key(dialect, id)
  for _, k in ipairs(select(2, admin("GET", "keys")).keys) do
    if k.dialect == dialect and k.id == id then
      return k
    end
  end
end

local function read(path)
  return assert(fs.read(path))
end

describe("the admin catalog", function()
  before_each(function() start() end)

  it("lists each dialect of the registry with its actions, codes and key fields", function()
    local status, c = admin("GET", "catalog")
    assert.are.equal(200, status)
    assert.are.equal(#dialects.NAMES, #c.dialects)
    for i, name in ipairs(dialects.NAMES) do
      local d, shown = dialects.BY_NAME[name], c.dialects[i]
      assert.are.equal(name, shown.name)
      assert.are.equal(#d.action_names(), #shown.actions)
      assert.are.same(d.error_codes(), shown.errors)
      assert.are.equal(d.KEY_ID_SHAPE, shown.key_id_shape)
      for _, a in ipairs(shown.actions) do
        assert.are.equal(d.neutral(a.native), a.neutral)
      end
    end
    assert.are.same({ "cancel_deletion", "disable", "enable", "schedule_deletion" }, c.key_actions)
    assert.are.same({ "nth", "first", "every", "times", "probability" }, c.fault.triggers)
    assert.is_truthy(#c.journal_filters >= 11)
  end)
end)

describe("the admin key lifecycle", function()
  before_each(function() start() end)

  it("lists each key's aliases, deletion date and the operations its state allows", function()
    local k = key("tencent", TC_KEY)
    assert.are.same({ "disable", "schedule_deletion" }, k.actions)
    assert.are.same({ "app-data" }, k.aliases)
    assert.are.equal(cjson.null, k.deletion_date)
    assert.are.same({ "cancel_deletion" }, key("tencent", "3a7c2b4d-1e38-11e9-b129-5cb9019b4b03").actions)
  end)

  it("disables a key by dialect and id, and the dialect then refuses it", function()
    local status, k = action { dialect = "tencent", id = TC_KEY, action = "disable" }
    assert.are.equal(200, status)
    assert.are.same({ "disabled", { "enable", "schedule_deletion" } }, { k.state, k.actions })
    assert.are.equal("ResourceUnavailable.CmkDisabled", tc("Encrypt", { KeyId = TC_KEY, Plaintext = "aGk=" }).Error.Code)
    assert.are.equal(200, (action { dialect = "tencent", id = TC_KEY, action = "enable" }))
    assert.is_nil(tc("Encrypt", { KeyId = TC_KEY, Plaintext = "aGk=" }).Error)
  end)

  it("schedules a deletion at the dialect's shortest window, and cancels it", function()
    local _, k = action { dialect = "huawei", id = HW_KEY, action = "schedule_deletion" }
    assert.are.equal("pending_deletion", k.state)
    assert.are.equal(dialects.BY_NAME.huawei.default_deletion_date(require("kmsemu.util").now()), k.deletion_date)
    local _, back = action { dialect = "huawei", id = HW_KEY, action = "cancel_deletion" }
    assert.are.same({ "disabled", cjson.null }, { back.state, back.deletion_date })
  end)

  it("refuses what could never take effect, with the reason", function()
    local function refused(t)
      local status, body = action(t)
      return status, body.error
    end
    assert.are.same({ 409, ("disable: key %s is disabled; disable takes a key that is enabled"):format(
      "2f8d1a3e-1e38-11e9-b129-5cb9019b4b02") },
      { refused { dialect = "tencent", id = "2f8d1a3e-1e38-11e9-b129-5cb9019b4b02", action = "disable" } })
    assert.are.same({ 409, ("enable: key %s is pending_deletion; enable takes a key that is disabled"):format(
      "3a7c2b4d-1e38-11e9-b129-5cb9019b4b03") },
      { refused { dialect = "tencent", id = "3a7c2b4d-1e38-11e9-b129-5cb9019b4b03", action = "enable" } })
    assert.are.same({ 404, "no tencent key nope" }, { refused { dialect = "tencent", id = "nope", action = "disable" } })
    assert.are.same({ 404, "no tencent key " .. TC_KEY .. " in ap-beijing" },
      { refused { dialect = "tencent", id = TC_KEY, owner = "ap-beijing", action = "disable" } })
    assert.are.same({ 400, "dialect must be one of huawei, tencent (did you mean 'tencent'?)" },
      { refused { dialect = "tencnet", id = TC_KEY, action = "disable" } })
    assert.are.same({ 400, "action must be one of cancel_deletion, disable, enable, schedule_deletion"
      .. " (did you mean 'disable'?)" }, { refused { dialect = "tencent", id = TC_KEY, action = "disabel" } })
    assert.are.same({ 400, "the body must be {dialect, id, action (, owner)}" },
      { refused { dialect = "tencent", id = TC_KEY } })
    assert.are.equal("enabled", key("tencent", TC_KEY).state)
  end)

  it("asks for the owner when two owners hold the id", function()
    assert.are.equal(201, (admin("POST", "keys", cjson.encode { dialect = "tencent", id = TC_KEY, region = "ap-beijing" })))
    local status, body = action { dialect = "tencent", id = TC_KEY, action = "disable" }
    assert.are.same({ 409, "tencent key " .. TC_KEY .. " is in ap-beijing, ap-guangzhou: give owner" },
      { status, body.error })
    local _, k = action { dialect = "tencent", id = TC_KEY, owner = "ap-beijing", action = "disable" }
    assert.are.same({ "ap-beijing", "disabled" }, { k.owner, k.state })
  end)
end)

describe("admin faults switched off and on", function()
  before_each(function() start() end)

  it("stops a fault seeing calls while off, and shows whether it is on", function()
    local _, added = admin("POST", "faults", '{"dialect":"tencent","action":"ListKeys","nth":2,"error":"InternalError"}')
    assert.is_nil(tc("ListKeys", {}).Error) -- call 1
    local status, body = admin("POST", "faults/" .. added.id .. "/off")
    assert.are.same({ 200, { id = added.id, on = false } }, { status, body })
    assert.is_nil(tc("ListKeys", {}).Error) -- not counted
    assert.are.same({ 1, false }, { select(2, admin("GET", "faults")).faults[1].calls,
                                     select(2, admin("GET", "faults")).faults[1].on })
    assert.are.equal(200, (admin("POST", "faults/" .. added.id .. "/on")))
    assert.are.equal("InternalError", tc("ListKeys", {}).Error.Code) -- call 2
    assert.is_true(select(2, admin("GET", "faults")).faults[1].on)
  end)

  it("refuses a fault that is not there, and a switch that is neither on nor off", function()
    local status, body = admin("POST", "faults/9/off")
    assert.are.same({ 404, "no fault 9" }, { status, body.error })
    admin("POST", "faults", '{"action":"encrypt","error":"internal"}')
    assert.are.equal(404, (admin("POST", "faults/1/maybe")))
    assert.are.equal(404, (admin("GET", "faults/1/off")))
  end)
end)

describe("the journal cursor", function()
  before_each(function() start() end)

  it("gives the newest entry's number, for since", function()
    tc("ListKeys", {})
    tc("ListKeys", {})
    local _, j = admin("GET", "journal?limit=1")
    assert.are.same({ 2, 1 }, { j.seq, #j.entries })
    tc("GetServiceStatus", {})
    local _, later = admin("GET", "journal?since=" .. math.tointeger(j.seq))
    assert.are.same({ 3, { 3 } }, { later.seq, { later.entries[1].seq } })
    admin("POST", "reset")
    assert.are.equal(0, select(2, admin("GET", "journal?since=3")).seq)
  end)
end)

describe("the dashboard's files", function()
  before_each(function() start() end)

  it("serves the page at ui and each file of lua/kmsemu/ui/ by name, typed", function()
    local status, _, res = admin("GET", "ui")
    assert.are.equal(200, status)
    assert.are.equal(read("lua/kmsemu/ui/index.html"), res.body)
    assert.are.equal("text/html; charset=utf-8", res.headers["Content-Type"])
    assert.matches("^default%-src 'self'", res.headers["Content-Security-Policy"])
    for name, ctype in pairs { ["app.js"] = "text/javascript", ["style.css"] = "text/css" } do
      local _, _, r = admin("GET", "ui/" .. name)
      assert.are.same({ read("lua/kmsemu/ui/" .. name), ctype .. "; charset=utf-8" },
        { r.body, r.headers["Content-Type"] })
    end
  end)

  it("serves no other path", function()
    for _, path in ipairs { "ui/init.lua", "ui/nope.js", "ui/..%2Finit.lua", "ui/.hidden.js", "ui/app.js/x" } do
      assert.are.equal(404, (admin("GET", path)), path)
    end
    assert.are.equal(404, (admin("POST", "ui")))
  end)
end)

describe("the admin API for a browser", function()
  it("takes the token as a Basic password too, and asks for it", function()
    start("s3cret")
    local status, body, res = admin("GET", "ui")
    assert.are.same({ 401, 'Basic realm="kmsemu admin", charset="UTF-8"' },
      { status, res.headers["WWW-Authenticate"] })
    assert.is_string(body.error)
    local basic = function(s) return { authorization = "Basic " .. require("kmsemu.core").b64(s) } end
    assert.are.equal(200, (admin("GET", "ui", nil, basic("anyone:s3cret"))))
    assert.are.equal(200, (admin("GET", "health", nil, basic(":s3cret"))))
    assert.are.equal(401, (admin("GET", "health", nil, basic("s3cret:x"))))
    assert.are.equal(401, (admin("GET", "health", nil, basic("s3cret"))))
    assert.are.equal(401, (admin("GET", "health", nil, { authorization = "Basic !!" })))
  end)

  it("refuses a request another origin's page makes, token or not", function()
    start("s3cret")
    local bearer = { authorization = "Bearer s3cret", host = "127.0.0.1:8080" }
    bearer.origin = "http://evil.example"
    local status, body = admin("POST", "reset", nil, bearer)
    assert.are.same({ 403, "the admin API refuses browser requests from another origin (http://evil.example)" },
      { status, body.error })
    bearer.origin = "null"
    assert.are.equal(403, (admin("POST", "reset", nil, bearer)))
    bearer.origin = "http://127.0.0.1:8080"
    assert.are.equal(200, (admin("POST", "reset", nil, bearer)))
    start()
    assert.are.equal(403, (admin("DELETE", "faults", nil, { host = "127.0.0.1:8080", origin = "http://localhost:8080" })))
  end)
end)

describe("the binary's dashboard", function()
  local function page(args)
    local s = server.start(args)
    local out = {}
    for _, name in ipairs { "", "/app.js" } do
      local status, headers, body = server.send(s, { method = "GET", path = "/_kmsemu/ui" .. name, headers = {}, body = "" })
      out[#out + 1] = { status, headers["content-type"], body }
    end
    server.stop(s)
    return out
  end

  it("carries the files in itself, and reads them from --lua-dir", function()
    local want = {
      { 200, "text/html; charset=utf-8", read("lua/kmsemu/ui/index.html") },
      { 200, "text/javascript; charset=utf-8", read("lua/kmsemu/ui/app.js") },
    }
    assert.are.same(want, page { "--scenario", "scenarios/default.lua" })
    assert.are.same(want, page { "--scenario", "scenarios/default.lua", "--lua-dir", "lua" })
  end)
end)
