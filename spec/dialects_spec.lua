-- Behaviour both clouds share, asserted on both wires through the router
-- (no sockets): round trips, binding of AAD / EncryptionContext, tamper
-- detection, key states, key ids and signatures, each with the code and
-- envelope its dialect documents.
local client = require "support.client"
local core = require "kmsemu.core"
local kmsemu = require "kmsemu"

assert(kmsemu.start { scenario = "scenarios/default.lua" } == nil)

-- What a call returned: ok and a body, or the error's status and code.
local function huawei_call(action, body, opts)
  opts = opts or {}
  opts.action, opts.body = action, body
  local res = kmsemu.handle(client.huawei(opts))
  local j = client.json(res)
  if res.status == 200 then
    return true, j
  end
  local e = j.error or j
  return false, { status = res.status, code = e.error_code, msg = e.error_msg }
end

local function tencent_call(action, params, opts)
  opts = opts or {}
  opts.action, opts.params = action, params
  local res = kmsemu.handle(client.tencent(opts))
  assert.are.equal(200, res.status)
  assert.are.equal("application/json", res.headers["Content-Type"])
  local r = client.json(res).Response
  assert.is_string(r.RequestId)
  if r.Error then
    return false, { status = 200, code = r.Error.Code, msg = r.Error.Message }
  end
  return true, r
end

local function b64(s) return core.b64(s) end

local dialects = {
  {
    name = "huawei",
    keys = { aes = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", sm4 = "5f3c2a10-6b7d-4e8f-9a01-23456789abcd",
             disabled = "7e1d2c3b-4a59-4687-9abc-def012345678",
             pending_deletion = "8a9b0c1d-2e3f-4051-8617-28394a5b6c7d",
             pending_import = "9b8a7c6d-5e4f-4321-8fed-cba987654321",
             absent = "00000000-0000-4000-8000-000000000000" },
    malformed_id = "not-a-key",
    codes = {
      not_found = { 404, "KMS.0207" }, malformed_id = { 400, "KMS.0205" },
      disabled = { 400, "KMS.0209" }, pending_deletion = { 400, "KMS.0210" },
      pending_import = { 400, "KMS.0308" }, bad_ciphertext = { 400, "KMS.2201" },
      signature = { 401, "APIGW.0301" }, unknown_ak = { 401, "APIGW.0301" },
      expired = { 401, "APIGW.0301" },
    },
    encrypt = function(key, text, aad, opts)
      local ok, r = huawei_call("encrypt-data",
        { key_id = key, plain_text = text, additional_authenticated_data = aad }, opts)
      return ok, ok and r.cipher_text or r
    end,
    decrypt = function(ct, aad)
      local ok, r = huawei_call("decrypt-data", { cipher_text = ct, additional_authenticated_data = aad })
      return ok, ok and r.plain_text or r
    end,
    data_key = function(key, aad)
      local ok, r = huawei_call("create-datakey", { key_id = key, additional_authenticated_data = aad })
      return ok, ok and core.unhex(r.plain_text) or r, ok and r.cipher_text
    end,
    open_data_key = function(key, ct, aad)
      local ok, r = huawei_call("decrypt-datakey", { key_id = key, cipher_text = ct,
        datakey_cipher_length = "32", additional_authenticated_data = aad })
      return ok, ok and core.unhex(r.data_key) or r
    end,
    -- Flips one bit of the ciphertext body, whatever its encoding.
    tamper = function(ct)
      local raw = core.unb64(ct)
      local i = 30
      return b64(raw:sub(1, i - 1) .. string.char(raw:byte(i) ~ 1) .. raw:sub(i + 1))
    end,
    auth_opts = {
      signature = { creds = { ak = client.HUAWEI.ak, sk = "wrong", project_id = client.HUAWEI.project_id } },
      unknown_ak = { creds = { ak = "NOSUCHAK", sk = client.HUAWEI.sk, project_id = client.HUAWEI.project_id } },
      expired = { date = os.time() - 3600 },
    },
  },
  {
    name = "tencent",
    keys = { aes = "6d4f5e70-1e38-11e9-b129-5cb9019b4b06", sm4 = "23e80852-1e38-11e9-b129-5cb9019b4b01",
             disabled = "2f8d1a3e-1e38-11e9-b129-5cb9019b4b02",
             pending_deletion = "3a7c2b4d-1e38-11e9-b129-5cb9019b4b03",
             pending_import = "4b6d3c5e-1e38-11e9-b129-5cb9019b4b04",
             absent = "00000000-0000-4000-8000-000000000000" },
    malformed_id = "not-a-key",
    codes = {
      not_found = { 200, "ResourceUnavailable.CmkNotFound" },
      malformed_id = { 200, "InvalidParameterValue.InvalidKeyId" },
      disabled = { 200, "ResourceUnavailable.CmkDisabled" },
      pending_deletion = { 200, "ResourceUnavailable.CmkStateNotSupport" },
      pending_import = { 200, "ResourceUnavailable.CmkStateNotSupport" },
      bad_ciphertext = { 200, "InvalidParameterValue.InvalidCiphertext" },
      signature = { 200, "AuthFailure.SignatureFailure" },
      unknown_ak = { 200, "AuthFailure.SecretIdNotFound" },
      expired = { 200, "AuthFailure.SignatureExpire" },
    },
    encrypt = function(key, text, aad, opts)
      local ok, r = tencent_call("Encrypt", { KeyId = key, Plaintext = b64(text),
        EncryptionContext = aad ~= "" and ('{"aad":"' .. aad .. '"}') or nil }, opts)
      return ok, ok and r.CiphertextBlob or r
    end,
    decrypt = function(ct, aad)
      local ok, r = tencent_call("Decrypt", { CiphertextBlob = ct,
        EncryptionContext = aad ~= "" and ('{"aad":"' .. aad .. '"}') or nil })
      return ok, ok and core.unb64(r.Plaintext) or r
    end,
    data_key = function(key, aad)
      local ok, r = tencent_call("GenerateDataKey", { KeyId = key, KeySpec = "AES_256",
        EncryptionContext = aad ~= "" and ('{"aad":"' .. aad .. '"}') or nil })
      return ok, ok and core.unb64(r.Plaintext) or r, ok and r.CiphertextBlob
    end,
    open_data_key = function(_, ct, aad)
      local ok, r = tencent_call("Decrypt", { CiphertextBlob = ct,
        EncryptionContext = aad ~= "" and ('{"aad":"' .. aad .. '"}') or nil })
      return ok, ok and core.unb64(r.Plaintext) or r
    end,
    tamper = function(ct)
      local a, b, c = ct:match("^(.-)%-k%-(.-)%-k%-(.*)$")
      local raw = core.unb64(c)
      return a .. "-k-" .. b .. "-k-" .. b64(string.char(raw:byte(1) ~ 1) .. raw:sub(2))
    end,
    auth_opts = {
      signature = { creds = { secret_id = client.TENCENT.secret_id, secret_key = "wrong", region = "ap-guangzhou" } },
      unknown_ak = { creds = { secret_id = "AKIDnosuchid", secret_key = "x", region = "ap-guangzhou" } },
      expired = { timestamp = os.time() - 600 },
    },
  },
}

local function assert_error(d, case, ok, r)
  assert.is_false(ok, case .. " should fail")
  assert.are.same(d.codes[case], { r.status, r.code })
end

for _, d in ipairs(dialects) do
  describe(d.name, function()
    for _, spec in ipairs { "aes", "sm4" } do
      it("round-trips data under an " .. spec .. " key, with and without AAD", function()
        for _, aad in ipairs { "", "order-42" } do
          local text = "attack at dawn \226\152\128 " .. spec
          local ok, ct = d.encrypt(d.keys[spec], text, aad)
          assert.is_true(ok, ct and ct.code)
          local ok2, back = d.decrypt(ct, aad)
          assert.is_true(ok2, back and back.code)
          assert.are.equal(text, back)
        end
      end)

      it("returns fresh data keys under an " .. spec .. " key that decrypt to themselves", function()
        local ok, dek, ct = d.data_key(d.keys[spec], "ctx")
        assert.is_true(ok)
        assert.are.equal(32, #dek)
        local ok2, dek2 = d.data_key(d.keys[spec], "ctx")
        assert.is_true(ok2)
        assert.are_not.equal(dek, dek2)
        local ok3, back = d.open_data_key(d.keys[spec], ct, "ctx")
        assert.is_true(ok3)
        assert.are.equal(dek, back)
      end)
    end

    it("binds AAD: a different or missing one is refused", function()
      local ok, ct = d.encrypt(d.keys.aes, "secret", "right")
      assert.is_true(ok)
      assert_error(d, "bad_ciphertext", d.decrypt(ct, "wrong"))
      assert_error(d, "bad_ciphertext", d.decrypt(ct, ""))
    end)

    it("detects a flipped bit in the ciphertext", function()
      local ok, ct = d.encrypt(d.keys.sm4, "secret", "")
      assert.is_true(ok)
      assert_error(d, "bad_ciphertext", d.decrypt(d.tamper(ct), ""))
    end)

    it("refuses garbage as ciphertext", function()
      assert_error(d, "bad_ciphertext", d.decrypt(("QUFB"):rep(40), ""))
    end)

    for _, state in ipairs { "disabled", "pending_deletion", "pending_import" } do
      it("refuses a key that is " .. state, function()
        assert_error(d, state, d.encrypt(d.keys[state], "x", ""))
      end)
    end

    it("answers an absent key and a malformed key id with their own codes", function()
      assert_error(d, "not_found", d.encrypt(d.keys.absent, "x", ""))
      assert_error(d, "malformed_id", d.encrypt(d.malformed_id, "x", ""))
    end)

    for _, case in ipairs { "signature", "unknown_ak", "expired" } do
      it("refuses a request whose credentials fail: " .. case, function()
        assert_error(d, case, d.encrypt(d.keys.aes, "x", "", d.auth_opts[case]))
      end)
    end
  end)
end
