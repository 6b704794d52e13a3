-- Signature verification against published test vectors: the Huawei Go
-- SDK's signer tests and requests captured from the Tencent Node and
-- Python SDKs (reference: huawei-kms.md 4.3, tencent-kms.md 3.3).
local core = require "kmsemu.core"
local huawei = require "kmsemu.dialect.huawei.auth"
local tencent = require "kmsemu.dialect.tencent.auth"
local util = require "kmsemu.util"

describe("huawei SDK-HMAC-SHA256", function()
  local creds = { ak = "AccessKey", sk = "SecretKey" }
  local now = util.timegm(2006, 1, 2, 15, 4, 5)

  local function request(method, query, body, signature)
    return {
      method = method, path = "/path", query = query, body = body,
      headers = {
        ["x-sdk-date"] = "20060102T150405Z",
        host = "example.huaweicloud.com",
        authorization = "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=" .. signature,
      },
    }
  end

  it("matches the Go signer's GET vector", function()
    local req = request("GET", "limit=1", "",
      "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624")
    assert.are.equal("AccessKey", huawei.verify(creds, req, now))
  end)

  it("matches the Go signer's POST vector, trailing newline included", function()
    local req = request("POST", "key=value", '{"Name":"test","Id":1}\n',
      "cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59")
    assert.are.equal("AccessKey", huawei.verify(creds, req, now))
    req.body = '{"Name":"test","Id":1}'
    local ok, e = pcall(huawei.verify, creds, req, now)
    assert.is_false(ok)
    assert.are.equal("AUTH_SIGNATURE", e.code)
  end)

  it("refuses a date more than 15 minutes away", function()
    local req = request("GET", "limit=1", "",
      "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624")
    assert.are.equal("AccessKey", huawei.verify(creds, req, now + 900))
    local ok, e = pcall(huawei.verify, creds, req, now + 901)
    assert.is_false(ok)
    assert.are.equal("AUTH_EXPIRED", e.code)
  end)

  it("tells a missing, a malformed and an unknown credential apart", function()
    local req = request("GET", "limit=1", "", "00")
    local cases = {
      { nil, "AUTH_MISSING" },
      { "Basic dXNlcjpwYXNz", "AUTH_MALFORMED" },
      { "SDK-HMAC-SHA256 Access=Other, SignedHeaders=x-sdk-date, Signature=00", "AUTH_UNKNOWN_KEY" },
    }
    for _, c in ipairs(cases) do
      req.headers.authorization = c[1]
      local ok, e = pcall(huawei.verify, creds, req, now)
      assert.is_false(ok)
      assert.are.equal(c[2], e.code)
    end
  end)
end)

describe("tencent TC3-HMAC-SHA256", function()
  local creds = { secret_id = "AKIDEXAMPLE", secret_key = "SECRETEXAMPLE" }

  local function request(o)
    return {
      method = o.method or "POST", path = "/", query = o.query or "", body = o.body or "",
      headers = {
        host = "127.0.0.1:18080",
        ["content-type"] = o.content_type or "application/json",
        ["x-tc-timestamp"] = o.timestamp,
        authorization = ("TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2026-11-22/%s/tc3_request, "
          .. "SignedHeaders=content-type;host, Signature=%s"):format(o.service, o.signature),
      },
    }
  end

  local vectors = {
    { name = "Node SDK POST (host signed without port, service from the endpoint)",
      timestamp = "1795345475", service = "127",
      body = '{"KeyId":"k1","Plaintext":"dGVzdA==","EncryptionContext":"{\\"a\\":\\"b\\"}"}',
      signature = "7f9b52e81b26632eae80c820260fa4ecda3b82533648af0036c7197d1874c42b" },
    { name = "Python SDK POST (host signed with port, service kms)",
      timestamp = "1795345273", service = "kms",
      body = '{"KeyId": "k1", "Plaintext": "dGVzdA=="}',
      signature = "414911f5d11d09a62ba3a3f3a4d7a218a4b1fd98bddc6723936ad08e05910a19" },
    { name = "Node SDK GET", method = "GET", timestamp = "1795345475", service = "127",
      query = "KeyId=k1&Plaintext=dGVzdA%3D%3D", content_type = "application/x-www-form-urlencoded",
      signature = "dfda40b59629cb77db2b8e93ace1455585ae69293b4cc3130e3692b861eefb90" },
  }

  for _, v in ipairs(vectors) do
    it("verifies the " .. v.name .. " vector", function()
      local req = request(v)
      local now = tonumber(v.timestamp)
      assert.are.equal("AKIDEXAMPLE", tencent.verify(creds, req, v.timestamp, now))
      req.body = req.body .. " "
      local ok, e = pcall(tencent.verify, creds, req, v.timestamp, now)
      assert.is_false(ok)
      assert.are.equal("AUTH_SIGNATURE", e.code)
    end)
  end

  it("tries first the host form the last good signature used", function()
    local hmacs, hmac = 0, core.hmac
    core.hmac = function(...)
      hmacs = hmacs + 1
      return hmac(...)
    end
    local counts = {}
    for _, i in ipairs { 1, 1, 2, 2, 1 } do -- Node (bare host), then Python (host:port)
      local v = vectors[i]
      tencent.verify(creds, request(v), v.timestamp, tonumber(v.timestamp))
      hmacs = 0
      tencent.verify(creds, request(v), v.timestamp, tonumber(v.timestamp))
      counts[#counts + 1] = hmacs
    end
    core.hmac = hmac
    assert.are.same({ 1, 1, 1, 1, 1 }, counts) -- once known, one HMAC per check
    assert.are.same({ "h:1", "h" }, { util.host_forms({}, "h:1") })
    assert.are.same({ "h", "h:1" }, { util.host_forms({ bare = true }, "h:1") })
    assert.are.same({ "h" }, { util.host_forms({ bare = true }, "h") })
  end)

  it("refuses a timestamp more than five minutes away", function()
    local v = vectors[2]
    local req = request(v)
    assert.are.equal("AKIDEXAMPLE", tencent.verify(creds, req, v.timestamp, tonumber(v.timestamp) - 300))
    local ok, e = pcall(tencent.verify, creds, req, v.timestamp, tonumber(v.timestamp) + 301)
    assert.is_false(ok)
    assert.are.equal("AUTH_EXPIRED", e.code)
  end)

  it("refuses an unknown SecretId and a header that is not TC3", function()
    local v = vectors[2]
    local ok, e = pcall(tencent.verify, { secret_id = "AKIDother", secret_key = "x" },
      request(v), v.timestamp, tonumber(v.timestamp))
    assert.is_false(ok)
    assert.are.equal("AUTH_UNKNOWN_KEY", e.code)
    local req = request(v)
    req.headers.authorization = "HMAC-SHA1 whatever"
    ok, e = pcall(tencent.verify, creds, req, v.timestamp, tonumber(v.timestamp))
    assert.is_false(ok)
    assert.are.equal("AUTH_MALFORMED", e.code)
  end)
end)

-- parse() takes the SDKs' exact form in one match and anything else
-- through the general parser; both must read a header alike.
describe("Authorization parsing", function()
  local cases = {
    { huawei, "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=ABCdef01",
      { "SDK-HMAC-SHA256  Access=AK1,SignedHeaders=host;x-sdk-date,   Signature=ABCdef01",
        "SDK-HMAC-SHA256 Signature=ABCdef01, Access=AK1, SignedHeaders=host;x-sdk-date" } },
    { tencent, "TC3-HMAC-SHA256 Credential=AKID1/2026-11-23/kms/tc3_request, SignedHeaders=content-type;host, Signature=ABCdef01",
      { "TC3-HMAC-SHA256 Credential=AKID1/2026-11-23/kms/tc3_request,SignedHeaders=content-type;host,Signature=ABCdef01",
        "TC3-HMAC-SHA256   Signature=ABCdef01, SignedHeaders=content-type;host, Credential=AKID1/2026-11-23/kms/tc3_request" } },
  }
  for _, c in ipairs(cases) do
    local mod, sdk, others = c[1], c[2], c[3]
    it(mod.ALGORITHM .. ": every spelling reads as the SDKs' own", function()
      local want = mod.parse(sdk)
      assert.is_table(want)
      assert.are.equal("abcdef01", want.signature)
      for _, h in ipairs(others) do
        assert.are.same(want, mod.parse(h), h)
      end
    end)
    it(mod.ALGORITHM .. ": a signature that is not hex is refused on both paths", function()
      assert.is_nil(mod.parse((sdk:gsub("ABCdef01", "ABCdefXY"))))
      assert.is_nil(mod.parse((others[1]:gsub("ABCdef01", "ABCdefXY"))))
    end)
  end
end)
