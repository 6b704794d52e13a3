-- A refused signature explains itself in the access log and the journal,
-- never in the answer: each dialect's check writes what it expected (the
-- canonical request, the string to sign, the Host forms it tried, the
-- credential scope) for a wrong secret, and why for an unknown access key,
-- a timestamp outside the window and (Huawei) a project outside the
-- account. The answer stays the cloud's, byte for byte.
local cjson = require "cjson"
local core = require "kmsemu.core"
local kmsemu = require "kmsemu"
local log = require "kmsemu.log"
local client = require "support.client"
local tc_auth = require "kmsemu.dialect.tencent.auth"

local HOST = "127.0.0.1:8080"
local WRONG = "PLANTEDwrongSECRET000000000000000000000"

-- Per dialect: a signed request, its answer's code and message for each
-- failure, and the signature a right client sends for the same request.
local DIALECTS = {
  huawei = {
    creds = client.HUAWEI,
    request = function(o)
      return client.huawei { action = "list-keys", body = {}, host = HOST, creds = o.creds,
        date = o.at, project_id = o.project }
    end,
    with_secret = function(c, sk) return { ak = c.ak, sk = sk, project_id = c.project_id } end,
    with_id = function(c, id) return { ak = id, sk = c.sk, project_id = c.project_id } end,
    id_of = function(c) return c.ak end,
    secret_of = function(c) return c.sk end,
    signature = function(req) return req.headers.authorization:match("Signature=(%x+)") end,
    sign = function(sts, c) return core.hex(core.hmac("sha256", c.sk, sts)) end,
    answers = {
      signature = { "APIGW.0301", "Incorrect IAM authentication information: verify aksk signature fail" },
      unknown = { "APIGW.0301", "Incorrect IAM authentication information: ak HWAKNOBODY0000000000 not exist" },
    },
    unknown_id = "HWAKNOBODY0000000000",
    scope = "^credential: AK HWAKEXAMPLE0000000000; SDK%-HMAC%-SHA256 signs no date or region scope$",
    mismatch = "^signature mismatch for AK HWAKEXAMPLE0000000000 %(SDK%-HMAC%-SHA256, SignedHeaders "
      .. "content%-type;host;x%-project%-id;x%-sdk%-date%)$",
    unknown = "^unknown AK HWAKNOBODY0000000000: the scenario's AKs are HWAKEXAMPLE0000000000$",
    skew = "^X%-Sdk%-Date %d+T%d+Z is (%d+) s behind the server's clock %(%d+T%d+Z%); the gateway allows 900 s$",
    first_lines = { "  | POST", "  | /v1.0/0a1b2c3d4e5f60718293a4b5c6d7e8f9/kms/list-keys/", "  | " },
  },
  tencent = {
    creds = client.TENCENT,
    request = function(o)
      return client.tencent { action = "ListKeys", params = {}, host = HOST, creds = o.creds, timestamp = o.at }
    end,
    with_secret = function(c, sk) return { secret_id = c.secret_id, secret_key = sk, region = c.region } end,
    with_id = function(c, id) return { secret_id = id, secret_key = c.secret_key, region = c.region } end,
    id_of = function(c) return c.secret_id end,
    secret_of = function(c) return c.secret_key end,
    signature = function(req) return req.headers.authorization:match("Signature=(%x+)") end,
    sign = function(sts, c)
      local date = sts:match("\n(%d%d%d%d%-%d%d%-%d%d)/")
      return core.hex(core.hmac("sha256", tc_auth.signing_key(c.secret_key, date, "kms"), sts))
    end,
    answers = {
      signature = { "AuthFailure.SignatureFailure",
        "The provided credentials could not be validated. Please check your signature is correct." },
      unknown = { "AuthFailure.SecretIdNotFound" },
    },
    unknown_id = "AKIDnobody000000000000000000000000000",
    scope = "^credential scope: %d%d%d%d%-%d%d%-%d%d/kms/tc3_request$",
    mismatch = "^signature mismatch for SecretId AKIDkmsemuEXAMPLE0000000000000000000 %(TC3%-HMAC%-SHA256, "
      .. "SignedHeaders content%-type;host%)$",
    unknown = "^unknown SecretId AKIDnobody000000000000000000000000000: the scenario's is "
      .. "AKIDkmsemuEXAMPLE0000000000000000000$",
    skew = "^X%-TC%-Timestamp %d+ %(%S+%) is (%d+) s behind the server's clock %(%S+%); the API allows 300 s$",
    first_lines = { "  | POST", "  | /", "  | " },
  },
}

local path

-- Sends req in-process; returns the answer and its access-log line (JSON).
local function call(req)
  local res = kmsemu.handle(req)
  log.flush()
  local f = assert(io.open(path))
  local last
  for line in f:lines() do
    last = line
  end
  f:close()
  return res, cjson.decode(last)
end

-- The code and message of an answer, in either envelope.
local function error_of(res)
  local doc = cjson.decode(res.body)
  local e = doc.Response and doc.Response.Error or doc.error or doc
  return e.Code or e.error_code, e.Message or e.error_msg
end

local function lines(text)
  local out = {}
  for l in (text .. "\n"):gmatch("([^\n]*)\n") do
    out[#out + 1] = l
  end
  return out
end

-- The lines of the diagnostic's block after `title`, without "  | ".
local function block(diag, title)
  local out, inside = {}, false
  for _, l in ipairs(lines(diag)) do
    if l == title then
      inside = true
    elseif inside and l:sub(1, 4) == "  | " then
      out[#out + 1] = l:sub(5)
    elseif inside then
      break
    end
  end
  return table.concat(out, "\n")
end

describe("signature diagnostics #logs", function()
  before_each(function()
    path = os.tmpname()
    assert.is_nil(kmsemu.start { scenario = "scenarios/default.lua", log = path, log_format = "json" })
  end)

  after_each(function()
    log.close()
    os.remove(path)
  end)

  for name, d in pairs(DIALECTS) do
    describe(name, function()
      it("shows the canonical request and string to sign it expected for a wrong secret", function()
        local now = os.time()
        local res, entry = call(d.request { creds = d.with_secret(d.creds, WRONG), at = now })
        local code, message = error_of(res)
        assert.are.same(d.answers.signature, { code, message })
        assert.is_nil(res.body:find("canonical", 1, true))
        assert.matches(d.mismatch, entry.reason)
        local diag = lines(entry.diagnostic)
        assert.are.equal(entry.reason, diag[1])
        assert.matches(d.scope, diag[2])
        assert.are.equal("canonical request kmsemu expected (Host " .. HOST .. "):", diag[3])
        assert.are.same(d.first_lines, { diag[4], diag[5], diag[6] })
        assert.is_truthy(entry.diagnostic:find("\n  | host:" .. HOST .. "\n", 1, true))
        assert.are.equal("host forms tried: 127.0.0.1:8080, 127.0.0.1", diag[#diag])
        assert.matches("^with Host 127%.0%.0%.1 instead: canonical request hash %x+$", diag[#diag - 1])
        -- What the log shows is what kmsemu expects: the right secret over
        -- the string to sign shown gives the right client's signature.
        local sts = block(entry.diagnostic, "string to sign:")
        local right = d.request { creds = d.creds, at = now }
        assert.are.equal(d.signature(right), d.sign(sts, d.creds))
        assert.are.equal(200, kmsemu.handle(right).status)
        assert.is_nil(entry.diagnostic:find(WRONG, 1, true))
        assert.is_nil(entry.diagnostic:find(d.secret_of(d.creds), 1, true))
        -- The journal keeps the same account, under the answer's request id.
        local j = kmsemu.world().journal:query({ request_id = entry.request_id })
        assert.are.equal(1, #j)
        assert.are.equal(entry.reason, j[1].reason)
        assert.are.equal(entry.diagnostic, j[1].diagnostic)
        assert.are.equal(code, j[1].error)
      end)

      it("names the access keys it knows for an unknown one", function()
        local res, entry = call(d.request { creds = d.with_id(d.creds, d.unknown_id) })
        local code, message = error_of(res)
        assert.are.equal(d.answers.unknown[1], code)
        if d.answers.unknown[2] then
          assert.are.equal(d.answers.unknown[2], message)
        end
        assert.matches(d.unknown, entry.reason)
        assert.are.equal(entry.reason, entry.diagnostic)
      end)

      it("says how far a timestamp is off and what the window is", function()
        local res, entry = call(d.request { creds = d.creds, at = os.time() - 3600 })
        assert.are.equal(entry.error, (error_of(res)))
        local off = tonumber(entry.reason:match(d.skew))
        assert.is_truthy(off, entry.reason)
        assert.is_true(off == 3600 or off == 3601, entry.reason) -- the second may turn between
      end)
    end)
  end

  it("says which projects the account has for a Huawei project outside it", function()
    local other = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    local res, entry = call(DIALECTS.huawei.request { creds = client.HUAWEI, project = other })
    assert.are.equal(401, res.status)
    assert.are.equal("APIGW.0301", (error_of(res)))
    assert.are.equal(("project %s is not in the account of AK HWAKEXAMPLE0000000000: its projects are "
      .. "0a1b2c3d4e5f60718293a4b5c6d7e8f9, ffffffffffffffffffffffffffffffff"):format(other), entry.reason)
  end)

  it("hides a plaintext in a signed Tencent GET query and a token header's value", function()
    local req = client.tencent { action = "Encrypt", method = "GET", host = HOST,
      creds = DIALECTS.tencent.with_secret(client.TENCENT, WRONG),
      params = { KeyId = "6d4f5e70-1e38-11e9-b129-5cb9019b4b06", Plaintext = "UExBTlRFRHBsYWludGV4dA==" } }
    local _, entry = call(req)
    assert.is_nil(entry.diagnostic:find("UExBTlRFRHBsYWludGV4dA", 1, true))
    assert.is_truthy(entry.diagnostic:find("&Plaintext=<28 bytes, not shown>", 1, true), entry.diagnostic)
    req = client.huawei { action = "list-keys", body = {}, host = HOST,
      creds = DIALECTS.huawei.with_secret(client.HUAWEI, WRONG) }
    req.headers["x-security-token"] = "PLANTEDsecuritytoken"
    req.headers.authorization = req.headers.authorization:gsub("SignedHeaders=", "SignedHeaders=x-security-token;")
    _, entry = call(req)
    assert.is_nil(entry.diagnostic:find("PLANTEDsecuritytoken", 1, true))
    assert.is_truthy(entry.diagnostic:find("\n  | x-security-token:<20 bytes, not shown>\n", 1, true),
      entry.diagnostic)
  end)

  it("shows a Tencent v1 request's string to sign, its plaintext hidden", function()
    local function v1(params, secret)
      local pairs_ = { Action = "Encrypt", Version = "2019-01-18", Region = "ap-guangzhou", Nonce = "1",
        SecretId = client.TENCENT.secret_id, Timestamp = tostring(os.time()), SignatureMethod = "HmacSHA256" }
      for k, v in pairs(params) do
        pairs_[k] = v
      end
      local plain, enc = {}, {}
      for k, v in pairs(pairs_) do
        plain[#plain + 1], enc[#enc + 1] = k .. "=" .. v, k .. "=" .. v:gsub("[^%w]", function(ch)
          return ("%%%02X"):format(ch:byte())
        end)
      end
      table.sort(plain)
      local sts = "POST" .. HOST .. "/?" .. table.concat(plain, "&")
      local sig = core.b64(core.hmac("sha256", secret, sts))
      enc[#enc + 1] = "Signature=" .. sig:gsub("[^%w]", function(ch) return ("%%%02X"):format(ch:byte()) end)
      return { method = "POST", path = "/", query = "", remote_addr = "127.0.0.1", body = table.concat(enc, "&"),
        headers = { host = HOST, ["content-type"] = "application/x-www-form-urlencoded" } }, sts
    end
    local params = { KeyId = "6d4f5e70-1e38-11e9-b129-5cb9019b4b06", Plaintext = "UExBTlRFRHBsYWludGV4dA==" }
    local res, entry = call((v1(params, WRONG)))
    assert.are.equal("AuthFailure.SignatureFailure", (error_of(res)))
    assert.are.equal("signature mismatch for SecretId " .. client.TENCENT.secret_id .. " (v1, HmacSHA256)",
      entry.reason)
    local _, right = v1(params, client.TENCENT.secret_key)
    local shown = block(entry.diagnostic, "string to sign kmsemu expected (Host " .. HOST .. "):")
    assert.are.equal((right:gsub("Plaintext=[^&]*", "Plaintext=<24 bytes, not shown>")), shown)
    assert.is_nil(entry.diagnostic:find("UExBTlRFRHBsYWludGV4dA", 1, true))
  end)

  it("prints the diagnosis under the text line, indented, one line per line", function()
    log.close()
    assert.is_nil(kmsemu.start { scenario = "scenarios/default.lua", log = path, log_format = "text" })
    kmsemu.handle(DIALECTS.tencent.request { creds = DIALECTS.tencent.with_secret(client.TENCENT, WRONG) })
    log.flush()
    local text = assert(io.open(path)):read("a")
    local l = lines(text)
    assert.matches('^%S+Z tencent ListKeys 200 AuthFailure%.SignatureFailure [%d.]+ms caller=AKID%w+ '
      .. 'request_id=[%x-]+ reason="signature mismatch for SecretId AKID%w+ %(TC3%-HMAC%-SHA256, '
      .. 'SignedHeaders content%-type;host%)"$', l[1])
    assert.matches("^    credential scope: %S+/kms/tc3_request$", l[2])
    assert.are.equal("    canonical request kmsemu expected (Host 127.0.0.1:8080):", l[3])
    assert.are.equal("      | POST", l[4])
    assert.are.equal("    host forms tried: 127.0.0.1:8080, 127.0.0.1", l[#l - 1])
    assert.are.equal("", l[#l])
  end)
end)
