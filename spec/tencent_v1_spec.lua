-- Tencent request styles other than TC3 POST: the legacy v1 signature
-- (HmacSHA1 and HmacSHA256, section 3.4) in a form body and in a query,
-- with flattened lists, and TC3 GET with lists and objects.
local core = require "kmsemu.core"
local client = require "support.client"
local kmsemu = require "kmsemu"
local tc = require "support.tencent"
local util = require "kmsemu.util"

local K = tc.K
local HOST = "127.0.0.1:8080"

-- A v1 request as the SDKs build it. o: action, params (flat), method,
-- signature_method, host (signed), creds, timestamp, tamper (a function
-- given the pairs after signing).
local function v1(o)
  local creds = o.creds or client.TENCENT
  local pairs_ = {
    Action = o.action, Version = o.version or "2019-01-18", Region = o.region or "ap-guangzhou",
    SecretId = creds.secret_id, Timestamp = tostring(o.timestamp or util.now()),
    Nonce = "58964", RequestClient = "SDK_NODEJS_4.1.313", SignatureMethod = o.signature_method,
  }
  for k, v in pairs(tc.flatten(o.params or {})) do
    pairs_[k] = v
  end
  local plain = {}
  for i, k in ipairs(util.sorted_keys(pairs_)) do
    plain[i] = k .. "=" .. pairs_[k]
  end
  local method = o.method or "POST"
  local sts = method .. (o.signed_host or HOST) .. "/?" .. table.concat(plain, "&")
  local hash = o.signature_method == "HmacSHA256" and "sha256" or "sha1"
  pairs_.Signature = core.b64(core.hmac(hash, creds.secret_key, sts))
  if o.tamper then
    o.tamper(pairs_)
  end
  local enc = {}
  for k, v in pairs(pairs_) do
    enc[#enc + 1] = util.uri_encode(k) .. "=" .. util.uri_encode(v)
  end
  local form = table.concat(enc, "&")
  local req = { method = method, path = "/", headers = { host = HOST }, remote_addr = "127.0.0.1",
    query = method == "GET" and form or "", body = method == "GET" and "" or form }
  if method == "POST" then
    req.headers["content-type"] = "application/x-www-form-urlencoded"
  end
  return client.json(kmsemu.handle(req)).Response
end

describe("tencent v1 signature", function()
  before_each(function() tc.start() end)

  for _, c in ipairs { { "POST", "HmacSHA256" }, { "POST", nil }, { "GET", "HmacSHA1" }, { "GET", "HmacSHA256" } } do
    it(("accepts %s with %s"):format(c[1], c[2] or "the default HmacSHA1"), function()
      local r = v1 { action = "Encrypt", method = c[1], signature_method = c[2],
        params = { KeyId = K.sm4, Plaintext = "dGVzdA==" } }
      assert.is_nil(r.Error, r.Error and r.Error.Message)
      local d = v1 { action = "Decrypt", method = c[1], signature_method = c[2],
        params = { CiphertextBlob = r.CiphertextBlob } }
      assert.are.equal("dGVzdA==", d.Plaintext)
    end)
  end

  it("reads flattened lists and objects, and integers given as text", function()
    local r = v1 { action = "DescribeKeys", signature_method = "HmacSHA256",
      params = { KeyIds = { K.sm4, K.aes } } }
    assert.are.equal(K.aes, r.KeyMetadatas[2].KeyId)
    r = v1 { action = "ListKeyDetail", params = { Limit = 1, KeyUsage = "ALL",
      TagFilters = { { TagKey = "env", TagValue = { "prod" } } } } }
    assert.are.equal(1, r.TotalCount)
    assert.are.equal(K.aes, r.KeyMetadatas[1].KeyId)
  end)

  it("takes the region from Region and signs the host with or without its port", function()
    local r = v1 { action = "DescribeKey", region = "ap-singapore", params = { KeyId = K.singapore } }
    assert.is_nil(r.Error)
    r = v1 { action = "DescribeKey", signed_host = "127.0.0.1", params = { KeyId = K.sm4 } }
    assert.is_nil(r.Error)
  end)

  it("refuses a wrong signature, key, clock, method, version and missing fields", function()
    local p = { KeyId = K.sm4 }
    local function code(o)
      o.action = o.action or "DescribeKey"
      o.params = o.params or p
      local r = v1(o)
      return r.Error and r.Error.Code
    end
    assert.are.equal("AuthFailure.SignatureFailure", code { tamper = function(t) t.KeyId = K.aes end })
    assert.are.equal("AuthFailure.SignatureFailure", code { creds = {
      secret_id = client.TENCENT.secret_id, secret_key = "wrong" } })
    assert.are.equal("AuthFailure.SignatureFailure", code { signature_method = "HmacSHA256",
      tamper = function(t) t.SignatureMethod = "HmacSHA1" end })
    assert.are.equal("AuthFailure.SecretIdNotFound", code { creds = { secret_id = "AKIDnope", secret_key = "x" } })
    assert.are.equal("AuthFailure.SignatureExpire", code { timestamp = util.now() - 301 })
    assert.are.equal("NoSuchVersion", code { version = "2017-03-12" })
    assert.are.equal("InvalidAction", code { action = "Nope" })
    for _, field in ipairs { "Nonce", "Signature", "SecretId", "Timestamp", "Action" } do
      assert.are.equal("MissingParameter", code { tamper = function(t) t[field] = nil end }, field)
    end
  end)
end)

describe("tencent TC3 GET", function()
  before_each(function() tc.start() end)

  it("reads lists of objects from the query", function()
    local r = tc.ok("CreateKey", { Alias = "get-tags", Tags = { { TagKey = "a", TagValue = "1" },
      { TagKey = "b", TagValue = "2" } } }, { method = "GET" })
    assert.are.equal(0, r.TagCode)
    assert.are.equal(1, tc.ok("ListKeyDetail", { TagFilters = { { TagKey = "b" } } }).TotalCount)
  end)

  it("refuses gaps, and names that are not in the schema", function()
    local req = client.tencent { action = "DescribeKeys", method = "GET",
      params = { ["KeyIds.0"] = K.sm4, ["KeyIds.2"] = K.aes } }
    assert.are.equal("InvalidParameter", client.json(kmsemu.handle(req)).Response.Error.Code)
    req = client.tencent { action = "CreateKey", method = "GET",
      params = { Alias = "x", ["Tags.0.TagKey"] = "a", ["Tags.0.TagValue"] = "b", ["Tags.0.Colour"] = "c" } }
    local e = client.json(kmsemu.handle(req)).Response.Error
    assert.are.equal("UnknownParameter", e.Code)
    assert.matches("Tags.0.Colour", e.Message, 1, true)
  end)
end)
