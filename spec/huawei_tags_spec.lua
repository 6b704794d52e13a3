-- Huawei tags (204 answers with a Content-Type), resource_instances, and
-- the alias calls, through the router.
local client = require "support.client"
local huawei = require "support.huawei"
local kmsemu = require "kmsemu"

local P = client.HUAWEI.project_id
local AES = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
local SM4 = "5f3c2a10-6b7d-4e8f-9a01-23456789abcd"
local TAGGED = "d0000001-0000-4000-8000-000000000001"
local PENDING_DELETION = "8a9b0c1d-2e3f-4051-8617-28394a5b6c7d"

local function call(action, body, opts)
  return client.huawei_call(kmsemu, action, body, opts)
end

local function tags_path(id, rest)
  return ("/v1.0/%s/kms/%s/tags%s"):format(P, id, rest or "")
end

local assert_error = huawei.assert_error

local function assert_204(status, body, res)
  assert.are.equal(204, status)
  assert.is_nil(body)
  assert.are.equal("", res.body)
  assert.are.equal("application/json", res.headers["Content-Type"])
  assert.is_string(res.headers["X-Request-Id"])
end

local function show(id)
  local status, r = call(nil, "", { method = "GET", path = tags_path(id) })
  assert.are.equal(200, status)
  return r
end

before_each(function()
  assert(kmsemu.start { scenario = "scenarios/huawei.lua" } == nil)
end)

describe("huawei key tags", function()
  it("shows a key's tags sorted, with existTagsNum", function()
    local status, r, res = call(nil, "", { method = "GET", path = tags_path(TAGGED) })
    assert.are.equal(200, status)
    assert.are.same({ { key = "env", value = "prod" }, { key = "team", value = "pay" } }, r.tags)
    assert.matches('"existTagsNum":2', res.body)
    local _, _, empty = call(nil, "", { method = "GET", path = tags_path(AES) })
    assert.matches('"tags":%[%]', empty.body)
  end)

  it("creates a tag with 204, replacing the value of an existing key", function()
    assert_204(call(nil, { tag = { key = "env", value = "dev" } }, { path = tags_path(AES) }))
    assert_204(call(nil, { tag = { key = "env", value = "test" } }, { path = tags_path(AES) }))
    assert.are.same({ { key = "env", value = "test" } }, show(AES).tags)
  end)

  it("creates and deletes in batches", function()
    assert_204(call(nil, { action = "create", tags = { { key = "a", value = "1" }, { key = "b", value = "2" } } },
      { path = tags_path(AES, "/action") }))
    assert.are.equal(2, show(AES).existTagsNum)
    assert_204(call(nil, { action = "delete", tags = { { key = "a" } } }, { path = tags_path(AES, "/action") }))
    assert.are.same({ { key = "b", value = "2" } }, show(AES).tags)
    assert_error(400, "KMS.0404", call(nil, { action = "merge", tags = { { key = "a" } } },
      { path = tags_path(AES, "/action") }))
    assert_error(400, "KMS.0401", call(nil, { action = "create", tags = {} }, { path = tags_path(AES, "/action") }))
  end)

  it("deletes one tag by its key in the path, 404 KMS.0416 when absent", function()
    assert_204(call(nil, "", { method = "DELETE", path = tags_path(TAGGED, "/env") }))
    assert.are.same({ { key = "team", value = "pay" } }, show(TAGGED).tags)
    assert_error(404, "KMS.0416", call(nil, "", { method = "DELETE", path = tags_path(TAGGED, "/env") }))
    -- The tag key travels percent-encoded in the path.
    call(nil, { tag = { key = "équipe", value = "x" } }, { path = tags_path(TAGGED) })
    assert_204(call(nil, "", { method = "DELETE", path = tags_path(TAGGED, "/%C3%A9quipe") }))
    assert.are.equal(1, show(TAGGED).existTagsNum)
  end)

  it("checks keys, values and the limit of ten", function()
    local function create(tag)
      return call(nil, { tag = tag }, { path = tags_path(AES) })
    end
    assert_error(400, "KMS.0406", create { key = "", value = "v" })
    assert_error(400, "KMS.0406", create { key = "a=b", value = "v" })
    assert_error(400, "KMS.0411", create { key = ("k"):rep(37), value = "v" })
    assert_error(400, "KMS.0405", create { key = "k", value = "<v>" })
    assert_error(400, "KMS.0410", create { key = "k", value = ("v"):rep(44) })
    for i = 1, 10 do
      assert.are.equal(204, (create { key = "k" .. i, value = "v" }))
    end
    assert_error(400, "KMS.0409", create { key = "k11", value = "v" })
    assert.are.equal(204, (create { key = "k1", value = "replaced" }))
  end)

  it("answers 404 for an unknown key and 400 for a malformed id", function()
    assert_error(404, "KMS.0207", call(nil, "", { method = "GET",
      path = tags_path("00000000-0000-4000-8000-000000000000") }))
    assert_error(400, "KMS.0205", call(nil, "", { method = "GET", path = tags_path("NOPE") }))
  end)
end)

describe("huawei project tags and resource_instances", function()
  it("lists every tag key of the project with its values", function()
    call(nil, { tag = { key = "env", value = "dev" } }, { path = tags_path(AES) })
    local status, r = call("tags", "", { method = "GET" })
    assert.are.equal(200, status)
    assert.are.same({ { key = "env", values = { "dev", "prod" } }, { key = "team", values = { "pay" } } }, r.tags)
  end)

  local function instances(body)
    return call("resource_instances/action", body)
  end

  it("filters keys by tags and name, counting all matches", function()
    call(nil, { tag = { key = "env", value = "dev" } }, { path = tags_path(AES) })
    local status, r, res = instances { action = "filter", tags = { { key = "env", values = { "prod" } } } }
    assert.are.equal(200, status)
    assert.are.equal(1, r.total_count)
    assert.matches('"total_count":1', res.body)
    local hit = r.resources[1]
    assert.are.equal(TAGGED, hit.resource_id)
    assert.are.equal("hw/tagged", hit.resource_name)
    assert.are.equal(TAGGED, hit.resource_detail.key_id)
    assert.are.equal("2", hit.resource_detail.key_state)
    _, r = instances { action = "filter", tags = { { key = "env", values = {} } } }
    assert.are.equal(2, r.total_count)
    _, r = instances { action = "count", tags = { { key = "env", values = { "prod", "dev" } } } }
    assert.are.same({ total_count = 2 }, r)
    _, r = instances { action = "filter", matches = { { key = "resource_name", value = "aes" } } }
    assert.are.equal(AES, r.resources[1].resource_id)
  end)

  it("pages with limit and offset", function()
    local _, all = instances { action = "filter", limit = "1000" }
    local _, page = instances { action = "filter", limit = "2", offset = "1" }
    assert.are.equal(all.total_count, page.total_count)
    assert.are.equal(2, #page.resources)
    assert.are.equal(all.resources[2].resource_id, page.resources[1].resource_id)
    local _, default = instances { action = "filter" }
    assert.are.equal(10, #default.resources)
  end)

  it("refuses a bad action, match key or value, limit and offset", function()
    assert_error(400, "KMS.0404", instances { action = "sum" })
    assert_error(400, "KMS.0403", instances { action = "filter", matches = { { key = "alias", value = "x" } } })
    assert_error(400, "KMS.0402", instances { action = "filter", matches = { { key = "resource_name", value = "" } } })
    assert_error(400, "KMS.1601", instances { action = "filter", limit = "0" })
    assert_error(400, "KMS.0417", instances { action = "filter", offset = "-1" })
  end)
end)

describe("huawei aliases", function()
  local function create(id, alias)
    return call("aliases", { key_id = id, alias = alias })
  end

  local function list(query)
    local status, r = call("aliases", "", { method = "GET", query = query or "" })
    assert.are.equal(200, status)
    assert.are.equal(1, #r, "the body is a one-page array")
    return r[1]
  end

  it("creates aliases, several per key, unique in the project", function()
    local status, r = create(AES, "alias/app-data")
    assert.are.equal(200, status)
    assert.are.equal(AES, r.key_id)
    assert.are.equal("alias/app-data", r.alias)
    assert.are.equal("kms:cn-north-4:d0d1d2d3d4d5d6d7d8d9dadbdcdddedf:alias:app-data", r.alias_urn)
    assert.matches("^%d+000$", r.create_time)
    assert.are.equal(200, (create(AES, "alias/second")))
    assert_error(400, "KMS.1104", create(SM4, "alias/app-data"))
    assert_error(400, "KMS.1101", create(AES, "no-prefix"))
    assert_error(400, "KMS.0210", create(PENDING_DELETION, "alias/late"))
  end)

  it("lists them, for one key or all, paged", function()
    create(AES, "alias/a1")
    create(AES, "alias/a2")
    create(SM4, "alias/s1")
    local page = list()
    assert.are.equal(3, #page.aliases)
    assert.are.equal(3, page.page_info.current_count)
    assert.are.equal("", page.page_info.next_marker)
    page = list("key_id=" .. SM4)
    assert.are.same({ "alias/s1" }, { page.aliases[1].alias })
    page = list("limit=2")
    assert.are.equal(2, #page.aliases)
    assert.are.equal("2", page.page_info.next_marker)
  end)

  it("moves an alias to another key, and deletes aliases", function()
    create(AES, "alias/moving")
    local status, r = call("alias/associate", { alias = "alias/moving", target_key_id = SM4 })
    assert.are.equal(200, status)
    assert.are.equal(SM4, r.key_id)
    assert.are.equal(0, #list("key_id=" .. AES).aliases)
    assert_error(400, "KMS.0308", call("alias/associate", { alias = "alias/none", target_key_id = SM4 }))
    assert_error(400, "KMS.0308", call("aliases", { key_id = AES, aliases = { "alias/moving" } }, { method = "DELETE" }))
    status, r = call("aliases", { key_id = SM4, aliases = { "alias/moving" } }, { method = "DELETE" })
    assert.are.equal(200, status)
    assert.are.same({}, r)
    assert.are.equal(0, #list().aliases)
  end)
end)
