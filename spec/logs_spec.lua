-- Secrets never reach the log: a server with distinctive credentials and
-- admin token serves plaintexts, data keys and failing requests of both
-- dialects that carry them, and its stderr holds none of them afterwards.
-- The start-up banner on stdout prints the scenario's test credentials
-- by design; that is checked too, so the capture is known to work.
local client = require "support.client"
local core = require "kmsemu.core"
local server = require "support.server"

local SK = "HWSKlogcheckSECRETsk000000000000000000"
local SECRET_KEY = "TCSKlogcheckSECRETkey00000000000"
local TOKEN = "admin-token-logcheck-SECRET"
local PLAIN = "plaintext-logcheck-SECRET"
local HW_KEY, TC_KEY = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", "6d4f5e70-1e38-11e9-b129-5cb9019b4b06"

local SCENARIO = ([[
credentials {
  huawei = { ak = "HWAKLOGCHECK00000000", sk = %q, project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9" },
  tencent = { secret_id = "AKIDlogcheck000000000000000000000000", secret_key = %q, region = "ap-guangzhou" },
}
cmk { id = %q, dialect = "huawei" }
cmk { id = %q, dialect = "tencent" }
-- An injected internal error must not log what the call carried either.
fault { action = "encrypt", nth = 2, error = "internal" }
]]):format(SK, SECRET_KEY, HW_KEY, TC_KEY)

describe("what kmsemu writes to stderr #http #logs", function()
  it("never holds a secret key, token, plaintext or data key", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(SCENARIO)
    f:close()
    local s = server.start { "--scenario", path, "--admin-token", TOKEN, "--max-body", "4096" }
    assert.is_string(s.url)
    local host = s.url:match("^http://(.*)$")
    local hw = { ak = "HWAKLOGCHECK00000000", sk = SK, project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9" }
    local tc = { secret_id = "AKIDlogcheck000000000000000000000000", secret_key = SECRET_KEY, region = "ap-guangzhou" }
    local wrong_hw = { ak = hw.ak, sk = SK .. "x", project_id = hw.project_id }
    local wrong_tc = { secret_id = tc.secret_id, secret_key = SECRET_KEY .. "x", region = tc.region }
    local secrets = { SK, SECRET_KEY, TOKEN, PLAIN, core.b64(PLAIN) }
    local function send(req)
      local status, _, body = server.send(s, req)
      return status, body
    end

    for _ = 1, 2 do -- the second encrypt of each dialect meets the fault
      local _, body = send(client.tencent { action = "Encrypt", host = host, creds = tc,
        params = { KeyId = TC_KEY, Plaintext = core.b64(PLAIN) } })
      local blob = client.json { body = body }.Response.CiphertextBlob
      if blob then
        send(client.tencent { action = "Decrypt", host = host, creds = tc, params = { CiphertextBlob = blob } })
      end
      local status
      status, body = send(client.huawei { action = "encrypt-data", host = host, creds = hw,
        body = { key_id = HW_KEY, plain_text = PLAIN } })
      if status == 200 then
        send(client.huawei { action = "decrypt-data", host = host, creds = hw,
          body = { cipher_text = client.json { body = body }.cipher_text } })
      end
    end
    local _, body = send(client.tencent { action = "GenerateDataKey", host = host, creds = tc,
      params = { KeyId = TC_KEY, KeySpec = "AES_256" } })
    local dk = client.json { body = body }.Response.Plaintext
    assert.is_string(dk)
    secrets[#secrets + 1] = dk
    local status
    status, body = send(client.huawei { action = "create-datakey", host = host, creds = hw, body = { key_id = HW_KEY } })
    assert.are.equal(200, status)
    secrets[#secrets + 1] = client.json { body = body }.plain_text

    -- Failures that carry the secrets: wrong keys, bad JSON, too large,
    -- a wrong admin token, a plaintext in a Tencent GET query.
    send(client.tencent { action = "Encrypt", host = host, creds = wrong_tc,
      params = { KeyId = TC_KEY, Plaintext = core.b64(PLAIN) } })
    send(client.huawei { action = "encrypt-data", host = host, creds = wrong_hw,
      body = { key_id = HW_KEY, plain_text = PLAIN } })
    send(client.huawei { action = "encrypt-data", host = host, creds = hw, body = '{"plain_text":"' .. PLAIN })
    send(client.tencent { action = "Encrypt", host = host, creds = tc, method = "GET",
      params = { KeyId = TC_KEY, Plaintext = core.b64(PLAIN) } })
    send(client.huawei { action = "encrypt-data", host = host, creds = hw,
      body = { key_id = HW_KEY, plain_text = PLAIN:rep(200) } })
    server.send(s, { method = "GET", path = "/_kmsemu/keys", query = "", body = "",
      headers = { authorization = "Bearer " .. TOKEN .. "x" } })

    local banner = io.open(s.out):read("a")
    local exit, err = server.stop(s)
    os.remove(path)
    assert.are.equal(0, exit)
    assert.is_truthy(banner:find(SK, 1, true), "the banner prints the test SK by design")
    assert.matches("kmsemu: signal 15, stopping", err, 1, true)
    for _, secret in ipairs(secrets) do
      assert.is_falsy(err:find(secret, 1, true), "stderr holds a secret: " .. err)
    end
  end)
end)
