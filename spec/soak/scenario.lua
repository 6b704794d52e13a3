-- The soak's scenario: the default test credentials, a key of each dialect
-- that stays enabled, one of each whose state flips back and forth, and
-- faults on every kind of call: errors, throttling and latency, each drawn
-- with a probability from the seed.
seed "kmsemu-soak"

credentials {
  huawei = { ak = "HWAKEXAMPLE0000000000", sk = "HWSKEXAMPLEsecretkey0000000000000000000",
             project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9" },
  tencent = { secret_id = "AKIDkmsemuEXAMPLE0000000000000000000",
              secret_key = "kmsemuEXAMPLEsecretkey0000000000", region = "ap-guangzhou" },
}

cmk { id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", dialect = "huawei", alias = "soak/steady" }
cmk { id = "5f3c2a10-6b7d-4e8f-9a01-23456789abcd", dialect = "huawei", alias = "soak/flips" }
cmk { id = "6d4f5e70-1e38-11e9-b129-5cb9019b4b06", dialect = "tencent", alias = "soak-steady" }
cmk { id = "23e80852-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", alias = "soak-flips" }

-- Errors: internal errors and throttling on any call.
fault { id = "internal", action = "*", probability = 0.02, error = "internal" }
fault { id = "throttled", action = "*", probability = 0.02, error = "throttled" }
fault { id = "unavailable", action = "generate_data_key", probability = 0.01, error = "unavailable" }

-- Latency: a few calls wait 1 to 3 ms (slept outside the Lua lock).
fault { id = "slow", action = "describe_key", probability = 0.05, delay_ms = { 1, 3 } }

-- State changes: the flipping keys are disabled now and then and enabled
-- again more often; calls in between see a disabled key.
for _, id in ipairs { "5f3c2a10-6b7d-4e8f-9a01-23456789abcd", "23e80852-1e38-11e9-b129-5cb9019b4b01" } do
  fault { id = "disable " .. id, key_id = id, action = "*", probability = 0.02, state = "disabled" }
  fault { id = "enable " .. id, key_id = id, action = "*", probability = 0.2, state = "enabled" }
end
