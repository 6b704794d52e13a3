-- Huawei-only rules of the data-key and data operations: field types, the
-- DEK hash and length checks, the ciphertext frame, projects, and the
-- gateway's flat errors. Through the router, no sockets.
local client = require "support.client"
local core = require "kmsemu.core"
local kmsemu = require "kmsemu"

assert(kmsemu.start { scenario = "scenarios/default.lua" } == nil)

local AES = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
local SM4 = "5f3c2a10-6b7d-4e8f-9a01-23456789abcd"
local OTHER_PROJECT_KEY = "3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b"

local function call(action, body, opts)
  opts = opts or {}
  opts.action, opts.body = action, body
  local res = kmsemu.handle(client.huawei(opts))
  assert.are.equal("application/json", res.headers["Content-Type"])
  assert.matches("^%x+$", res.headers["X-Request-Id"])
  return res.status, client.json(res)
end

local function assert_kms_error(status, code, got_status, body)
  assert.are.equal(status, got_status)
  assert.is_table(body.error, "KMS errors are nested under \"error\"")
  assert.are.equal(code, body.error.error_code)
  assert.is_string(body.error.error_msg)
end

describe("huawei create-datakey", function()
  it("returns upper-case hex of the requested length, numbers as strings", function()
    for bits, bytes in pairs { ["8"] = 1, ["256"] = 32, ["512"] = 64, ["8192"] = 1024 } do
      local status, r = call("create-datakey", { key_id = AES, datakey_length = bits })
      assert.are.equal(200, status)
      assert.are.equal(AES, r.key_id)
      assert.matches("^[0-9A-F]+$", r.plain_text)
      assert.are.equal(bytes * 2, #r.plain_text)
      assert.matches("^02", r.cipher_text)
    end
  end)

  it("sizes the key by key_spec, 256 bits by default, datakey_length winning", function()
    local cases = {
      { { key_spec = "AES_128" }, 16 }, { { key_spec = "AES_256" }, 32 }, { {}, 32 },
      { { key_spec = "AES_128", datakey_length = "512" }, 64 },
    }
    for _, c in ipairs(cases) do
      c[1].key_id = AES
      local status, r = call("create-datakey", c[1])
      assert.are.equal(200, status)
      assert.are.equal(c[2] * 2, #r.plain_text)
    end
  end)

  it("refuses bad lengths and specs with their own codes", function()
    assert_kms_error(400, "KMS.1901", call("create-datakey", { key_id = AES, datakey_length = "0" }))
    assert_kms_error(400, "KMS.1901", call("create-datakey", { key_id = AES, datakey_length = "8200" }))
    assert_kms_error(400, "KMS.1901", call("create-datakey", { key_id = AES, datakey_length = "abc" }))
    assert_kms_error(400, "KMS.1903", call("create-datakey", { key_id = AES, datakey_length = "12" }))
    assert_kms_error(400, "KMS.1902", call("create-datakey", { key_id = AES, key_spec = "DES" }))
  end)

  it("frames the ciphertext as the cloud's published example: a 64-byte key in 188 bytes", function()
    local _, r = call("create-datakey", { key_id = AES, datakey_length = "512" })
    local raw = core.unhex(r.cipher_text)
    assert.are.equal(188, #raw)
    assert.are.equal("02009800", core.hex(raw:sub(1, 4)))
    assert.are.equal(AES, raw:sub(117, 152)) -- the key id at offset 116
    assert.are.equal("\0\0\0\0", raw:sub(153, 156))
    assert.are.equal(32, #raw - 156)
  end)

  it("makes every ciphertext 124 bytes plus the plaintext padded to 16, as the cloud's", function()
    for _, c in ipairs { { "8", 140 }, { "120", 140 }, { "128", 140 }, { "136", 156 }, { "8192", 1148 } } do
      local _, r = call("create-datakey", { key_id = SM4, datakey_length = c[1] })
      assert.are.equal(c[2], #core.unhex(r.cipher_text), c[1] .. " bits")
      local _, d = call("decrypt-datakey", { key_id = SM4, cipher_text = r.cipher_text,
        datakey_cipher_length = tostring(tonumber(c[1]) // 8) })
      assert.are.equal(tonumber(c[1]) // 4, #d.data_key)
    end
    for _, n in ipairs { 1, 4, 16, 17, 4096 } do
      local _, e = call("encrypt-data", { key_id = AES, plain_text = ("p"):rep(n) })
      assert.are.equal(124 + (n + 15) // 16 * 16, #core.unb64(e.cipher_text), n .. " bytes")
      local _, d = call("decrypt-data", { cipher_text = e.cipher_text })
      assert.are.equal(("p"):rep(n), d.plain_text)
    end
  end)

  it("create-datakey-without-plaintext returns no plain_text", function()
    local status, r = call("create-datakey-without-plaintext", { key_id = AES })
    assert.are.equal(200, status)
    assert.is_nil(r.plain_text)
    local s2, d = call("decrypt-datakey", { key_id = AES, cipher_text = r.cipher_text,
      datakey_cipher_length = "32" })
    assert.are.equal(200, s2)
    assert.are.equal(64, #d.data_key)
  end)
end)

describe("huawei encrypt-datakey and decrypt-datakey", function()
  local dek = ("\0"):rep(64)

  it("decrypts to the DEK with its SHA-256, the cloud's own example", function()
    local plain = core.hex(dek .. core.digest("sha256", dek))
    local status, r = call("encrypt-datakey", { key_id = AES, plain_text = plain, datakey_plain_length = "64" })
    assert.are.equal(200, status)
    assert.are.equal("64", r.datakey_length)
    local s2, d = call("decrypt-datakey", { key_id = AES, cipher_text = r.cipher_text,
      datakey_cipher_length = "64" })
    assert.are.equal(200, s2)
    assert.are.equal(("0"):rep(128), d.data_key)
    assert.are.equal("64", d.datakey_length)
    assert.are.equal("F5A5FD42D16A20302798EF6ED309979B43003D2320D9F0E8EA9831A92759FB4B", d.datakey_dgst)
  end)

  it("uses SM3 for the DEK hash under an SM4 key", function()
    local key = core.random(16)
    local plain = core.hex(key .. core.digest("sm3", key))
    local status, r = call("encrypt-datakey", { key_id = SM4, plain_text = plain, datakey_plain_length = "16" })
    assert.are.equal(200, status)
    local _, d = call("decrypt-datakey", { key_id = SM4, cipher_text = r.cipher_text, datakey_cipher_length = "16" })
    assert.are.equal(core.hex(core.digest("sm3", key)):upper(), d.datakey_dgst)
    local sha = core.hex(key .. core.digest("sha256", key))
    assert_kms_error(400, "KMS.2103", call("encrypt-datakey", { key_id = SM4, plain_text = sha, datakey_plain_length = "16" }))
  end)

  it("refuses a wrong hash (KMS.2103), a wrong length (KMS.2104), bad hex (KMS.2101)", function()
    local plain = core.hex(dek .. core.digest("sha256", "other"))
    assert_kms_error(400, "KMS.2103", call("encrypt-datakey", { key_id = AES, plain_text = plain, datakey_plain_length = "64" }))
    plain = core.hex(dek .. core.digest("sha256", dek))
    assert_kms_error(400, "KMS.2104", call("encrypt-datakey", { key_id = AES, plain_text = plain, datakey_plain_length = "32" }))
    assert_kms_error(400, "KMS.2101", call("encrypt-datakey", { key_id = AES, plain_text = "zz", datakey_plain_length = "64" }))
  end)

  it("refuses a cipher length that does not match (KMS.2204) and a foreign key id (KMS.2201)", function()
    local _, r = call("create-datakey", { key_id = AES })
    assert_kms_error(400, "KMS.2204", call("decrypt-datakey", { key_id = AES, cipher_text = r.cipher_text, datakey_cipher_length = "16" }))
    assert_kms_error(400, "KMS.2201", call("decrypt-datakey", { key_id = SM4, cipher_text = r.cipher_text, datakey_cipher_length = "32" }))
    assert_kms_error(400, "KMS.2201", call("decrypt-datakey", { key_id = AES, cipher_text = "02ZZ", datakey_cipher_length = "32" }))
  end)
end)

describe("huawei encrypt-data and decrypt-data", function()
  it("takes raw text and returns Base64 that decrypts without a key_id", function()
    local status, r = call("encrypt-data", { key_id = AES, plain_text = "12345678" })
    assert.are.equal(200, status)
    assert.are.equal("\2\0", core.unb64(r.cipher_text):sub(1, 2))
    local s2, d = call("decrypt-data", { cipher_text = r.cipher_text })
    assert.are.equal(200, s2)
    assert.are.same({ key_id = AES, plain_text = "12345678" }, d)
  end)

  it("takes up to 4096 bytes and refuses more, and an asymmetric algorithm", function()
    assert.are.equal(200, (call("encrypt-data", { key_id = AES, plain_text = ("x"):rep(4096) })))
    assert_kms_error(400, "KMS.0308", call("encrypt-data", { key_id = AES, plain_text = ("x"):rep(4097) }))
    assert_kms_error(400, "KMS.2105", call("encrypt-data", { key_id = AES, plain_text = "x",
      encryption_algorithm = "RSAES_OAEP_SHA_256" }))
  end)

  it("refuses AAD over 128 bytes", function()
    assert_kms_error(400, "KMS.0208", call("encrypt-data", { key_id = AES, plain_text = "x",
      additional_authenticated_data = ("a"):rep(129) }))
  end)
end)

describe("huawei request validation", function()
  it("answers malformed JSON with KMS.0202 and a missing field with KMS.0204", function()
    assert_kms_error(400, "KMS.0202", call("encrypt-data", "{not json"))
    assert_kms_error(400, "KMS.0202", call("encrypt-data", "[1,2]"))
    assert_kms_error(400, "KMS.0204", call("encrypt-data", { plain_text = "x" }))
    assert_kms_error(400, "KMS.0204", call("decrypt-datakey", { key_id = AES, cipher_text = "00" }))
  end)

  it("refuses a number where the model declares a string", function()
    assert_kms_error(400, "KMS.0308", call("create-datakey", { key_id = AES, datakey_length = 512 }))
    assert_kms_error(400, "KMS.0308", call("encrypt-data", { key_id = AES, plain_text = 42 }))
  end)

  it("checks the sequence number when one is sent", function()
    assert_kms_error(400, "KMS.0206", call("encrypt-data", { key_id = AES, plain_text = "x", sequence = "1" }))
    assert.are.equal(200, (call("encrypt-data", { key_id = AES, plain_text = "x",
      sequence = "919c82d4-8046-4722-9094-35c3c6524cff" })))
  end)

  it("finds a key only under its own project", function()
    assert_kms_error(404, "KMS.0207", call("encrypt-data", { key_id = OTHER_PROJECT_KEY, plain_text = "x" }))
    local status = call("encrypt-data", { key_id = OTHER_PROJECT_KEY, plain_text = "x" },
      { project_id = "ffffffffffffffffffffffffffffffff" })
    assert.are.equal(200, status)
  end)

  it("answers an unknown action or method with the gateway's flat 404", function()
    for _, opts in ipairs { { path = "/v1.0/p/kms/no-such-action" }, { method = "GET" }, { path = "/nowhere" } } do
      local status, body = call("encrypt-data", { key_id = AES, plain_text = "x" }, opts)
      assert.are.equal(404, status)
      assert.are.equal("APIGW.0101", body.error_code)
      assert.is_string(body.request_id)
      assert.is_nil(body.error)
    end
  end)

  it("answers bad credentials with the gateway's flat 401", function()
    local req = client.huawei { action = "encrypt-data", body = { key_id = AES, plain_text = "x" } }
    req.headers.authorization = nil
    local res = kmsemu.handle(req)
    assert.are.equal(401, res.status)
    local body = client.json(res)
    assert.are.equal("APIGW.0301", body.error_code)
    assert.matches("^Incorrect IAM authentication information", body.error_msg)
    assert.are.equal(res.headers["X-Request-Id"], body.request_id)
  end)
end)
