-- The servers make bench measures kmsemu against, as spec/bench/peers.sh
-- installs them under BUILD/bench: local-kms and moto's server. Both speak
-- the AWS KMS JSON protocol; each is started on a given port with its state
-- in a fresh directory, and each has a key to ask a data key of.
local fs = require "support.fs"

local M = {}

-- The AES key local-kms is seeded with (its README's example key).
local LOCAL_KMS_KEY = "bc436485-5092-42b8-92a3-0aa8b93536dc"

local SEED = ([[
Keys:
  Symmetric:
    Aes:
      - Metadata:
          KeyId: %s
        BackingKeys:
          - 5cdaead27fe7da2de47945d73cd6d79e36494e73802f3cd3869f1d2cb0b5d7a9
]]):format(LOCAL_KMS_KEY)

-- The headers an AWS SDK sends with a KMS call. Neither peer checks the
-- signature; moto finds the service in the credential scope.
local AUTHORIZATION = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/kms/aws4_request, "
  .. "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" .. ("0"):rep(64)

-- A request in the table shape of kmsemu.handle (and of bench.lua's wrk
-- scripts); the Host header is the caller's.
function M.request(target, body)
  return { method = "POST", path = "/", query = "", body = body, headers = {
    ["content-type"] = "application/x-amz-json-1.1",
    ["x-amz-target"] = "TrentService." .. target,
    ["x-amz-date"] = "20260101T000000Z",
    ["authorization"] = AUTHORIZATION,
  } }
end

local function generate_data_key(key_id)
  return M.request("GenerateDataKey", ('{"KeyId":"%s","KeySpec":"AES_256"}'):format(key_id))
end

-- Each peer: `command(build, port, dir)` prepares dir and returns the argv
-- that serves on 127.0.0.1:port; `probe` is the first request start-up is
-- timed to; `key(server, call)` the key id GenerateDataKey names, where
-- call(server, req) sends a request and returns its status and body.
M.local_kms = {
  name = "local-kms",
  command = function(build, port, dir)
    fs.write(dir .. "/seed.yaml", SEED)
    return { "env", "PORT=" .. port, "KMS_DATA_PATH=" .. dir .. "/data",
             "KMS_SEED_PATH=" .. dir .. "/seed.yaml", build .. "/bench/local-kms" }
  end,
  probe = generate_data_key(LOCAL_KMS_KEY),
  key = function()
    return LOCAL_KMS_KEY
  end,
}

-- moto cannot be seeded: start-up is timed to its first CreateKey.
M.moto = {
  name = "moto",
  command = function(build, port)
    return { build .. "/bench/moto-venv/bin/moto_server", "-H", "127.0.0.1", "-p", tostring(port) }
  end,
  probe = M.request("CreateKey", "{}"),
  key = function(server, call)
    local status, body = call(server, M.request("CreateKey", "{}"))
    local id = status == "200" and body:match('"KeyId":%s*"([^"]+)"')
    return assert(id, "moto CreateKey: " .. status .. " " .. body)
  end,
}

function M.generate_data_key(server)
  return generate_data_key(server.key)
end

return M
