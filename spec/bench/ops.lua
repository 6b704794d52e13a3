-- The requests the benchmark and the in-process profiler send: signed
-- requests in the table shape of kmsemu.handle, for a given host.
local client = require "support.client"
local core = require "kmsemu.core"

local M = {}

-- AES_256 keys of the default scenario, one per dialect.
M.TENCENT_AES = "6d4f5e70-1e38-11e9-b129-5cb9019b4b06"
M.HUAWEI_AES = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"

-- In the order of the table; `main` is the figure with its own target.
M.OPS = {
  { name = "tencent GenerateDataKey", short = "gdk", main = true, make = function(host)
    return client.tencent { action = "GenerateDataKey", host = host,
      params = { KeyId = M.TENCENT_AES, KeySpec = "AES_256" } }
  end },
  { name = "tencent Encrypt 4 KiB", short = "enc", make = function(host)
    return client.tencent { action = "Encrypt", host = host,
      params = { KeyId = M.TENCENT_AES, Plaintext = core.b64(("k"):rep(4096)) } }
  end },
  { name = "huawei create-datakey", short = "hdk", make = function(host)
    return client.huawei { action = "create-datakey", host = host, body = { key_id = M.HUAWEI_AES } }
  end },
  { name = "huawei encrypt-data 4 KiB", short = "henc", make = function(host)
    return client.huawei { action = "encrypt-data", host = host,
      body = { key_id = M.HUAWEI_AES, plain_text = ("k"):rep(4096) } }
  end },
  { name = "tencent DescribeKey", short = "desc", make = function(host)
    return client.tencent { action = "DescribeKey", host = host, params = { KeyId = M.TENCENT_AES } }
  end },
}

-- Asymmetric keys declared for the key-generation figure: their material
-- is generated the first time GetPublicKey asks for it.
function M.asymmetric_id(i)
  return ("%08x-0000-4000-9000-%012x"):format(i, i)
end

function M.public_key(host, i)
  return client.tencent { action = "GetPublicKey", host = host, params = { KeyId = M.asymmetric_id(i) } }
end

return M
