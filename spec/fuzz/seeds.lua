-- Writes the seed corpora of the fuzz targets (spec/fuzz/corpus/<target>/)
-- from real requests, ciphertexts and scenarios, so that the fuzzer starts
-- from inputs that reach deep into each parser. Run from the checkout:
--   LUA_PATH='./lua/?.lua;./lua/?/init.lua;./spec/?.lua;;' \
--   LUA_CPATH='./build/lib/?.so;;' lua5.4 spec/fuzz/seeds.lua
local client = require "support.client"
local kmsemu = require "kmsemu"
local cjson = require "cjson"

local DIR = "spec/fuzz/corpus/"

local function write(target, name, data)
  local f = assert(io.open(DIR .. target .. "/" .. name, "wb"))
  f:write(data)
  f:close()
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- The request target's format (fuzz_request.c): mode byte, request line,
-- headers, empty line, body.
local function request_input(mode, req, skip_headers)
  local lines = { string.char(mode) .. req.method .. " " .. req.path
    .. (req.query ~= "" and ("?" .. req.query) or "") }
  local names = {}
  for k in pairs(req.headers) do
    names[#names + 1] = k
  end
  table.sort(names)
  for _, k in ipairs(names) do
    if not skip_headers then
      lines[#lines + 1] = k .. ": " .. req.headers[k]
    end
  end
  return table.concat(lines, "\n") .. "\n\n" .. req.body
end

assert(kmsemu.start { scenario = "scenarios/default.lua" } == nil)
local HW_KEY = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
local TC_KEY = "23e80852-1e38-11e9-b129-5cb9019b4b01"

local function huawei(action, body)
  local req = client.huawei { action = action, body = body }
  local res = kmsemu.handle(req)
  return req, res.body ~= "" and cjson.decode(res.body) or {}
end

local function tencent(action, params)
  local req = client.tencent { action = action, params = params }
  return req, cjson.decode(kmsemu.handle(req).body).Response
end

local _, enc = huawei("encrypt-data", { key_id = HW_KEY, plain_text = "hello kmsemu" })
local _, dk = huawei("create-datakey", { key_id = HW_KEY, datakey_length = "256" })
local _, tenc = tencent("Encrypt", { KeyId = TC_KEY, Plaintext = "aGVsbG8ga21zZW11" })

local hw_calls = {
  { "create-key", { key_alias = "fuzz/new", key_spec = "AES_256" } },
  { "describe-key", { key_id = HW_KEY } },
  { "list-keys", { limit = "10" } },
  { "encrypt-data", { key_id = HW_KEY, plain_text = "hello kmsemu",
                      additional_authenticated_data = "ctx" } },
  { "decrypt-data", { cipher_text = enc.cipher_text } },
  { "create-datakey", { key_id = HW_KEY, datakey_length = "256" } },
  { "decrypt-datakey", { key_id = HW_KEY, cipher_text = dk.cipher_text,
                         datakey_cipher_length = "32" } },
  { "gen-random", { random_data_length = "256" } },
  { "disable-key", { key_id = HW_KEY } },
  { "enable-key", { key_id = HW_KEY } },
  { "create-alias", { key_id = HW_KEY, alias = "alias/fuzz" } },
}
for i, c in ipairs(hw_calls) do
  local req = huawei(c[1], c[2])
  write("request", ("huawei-%02d-%s"):format(i, c[1]), request_input(1, req, true))
  write("request", ("raw-huawei-%02d-%s"):format(i, c[1]), request_input(0, req))
end

local tc_calls = {
  { "CreateKey", { Alias = "fuzz-new", KeyUsage = "ENCRYPT_DECRYPT" } },
  { "DescribeKey", { KeyId = TC_KEY } },
  { "ListKeys", { Limit = 10, Offset = 0 } },
  { "Encrypt", { KeyId = TC_KEY, Plaintext = "aGVsbG8ga21zZW11",
                 EncryptionContext = "{\"a\":\"b\"}" } },
  { "Decrypt", { CiphertextBlob = tenc.CiphertextBlob } },
  { "GenerateDataKey", { KeyId = TC_KEY, KeySpec = "AES_256" } },
  { "GenerateRandom", { NumberOfBytes = 32 } },
  { "DisableKey", { KeyId = TC_KEY } },
  { "EnableKey", { KeyId = TC_KEY } },
  { "ReEncrypt", { CiphertextBlob = tenc.CiphertextBlob, DestinationKeyId = TC_KEY } },
}
for i, c in ipairs(tc_calls) do
  local req = tencent(c[1], c[2])
  local signed = request_input(2, req, true):gsub("\n\n", "\nx-tc-action: " .. c[1] .. "\n\n", 1)
  write("request", ("tencent-%02d-%s"):format(i, c[1]), signed)
  write("request", ("raw-tencent-%02d-%s"):format(i, c[1]), request_input(0, req))
end

-- Signature headers, as both SDKs send them.
write("sigparse", "huawei", huawei("list-keys", {}).headers.authorization)
write("sigparse", "tencent", tencent("ListKeys", {}).headers.authorization)

-- Ciphertexts: Huawei frames raw, in Base64 and in hex; Tencent blobs.
local core = require "kmsemu.core"
write("blob", "huawei-b64", enc.cipher_text)
write("blob", "huawei-raw", core.unb64(enc.cipher_text))
write("blob", "huawei-datakey", core.unhex(dk.cipher_text))
write("blob", "tencent", tenc.CiphertextBlob)

-- The scenario target also reads scenarios/ itself (Makefile); these add
-- what those files do not show: hooks, predicates and the sandbox's edges.
write("scenario", "hooks", table.concat({
  'seed "fuzz"',
  'credentials { tencent = { secret_id = "AKIDfuzz", secret_key = "fuzz" } }',
  'cmk { id = "0f000000-0000-4000-8000-000000000001", dialect = "tencent", spec = "AES_256",',
  '      tags = { a = "b" },',
  '      rotation = { enabled = true, versions = 3 } }',
  'fault { id = "f", dialect = "tencent", action = "Encrypt", nth = 2, error = "InternalError" }',
  'on("tencent", "Decrypt", function(req, res) return res end)',
  'local ok = pcall(function() return string.rep("x", 10) .. ("y"):upper() end)',
  'xpcall(error, function(e) return e end, "boom")',
}, "\n"))
