-- Throttling: each cloud's throttling answer (Huawei's gateway 429
-- APIGW.0308, Tencent's RequestLimitExceeded) for a burst of calls, so a
-- client's retry loop can be tested.
seed "faults-throttling"

credentials {
  huawei = { ak = "HWAKEXAMPLE0000000000", sk = "HWSKEXAMPLEsecretkey0000000000000000000",
             project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9" },
  tencent = { secret_id = "AKIDkmsemuEXAMPLE0000000000000000000",
              secret_key = "kmsemuEXAMPLEsecretkey0000000000", region = "ap-guangzhou" },
}

cmk { id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", dialect = "huawei", alias = "app/data" }
cmk { id = "23e80852-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", alias = "app-data" }

-- Huawei: the 1st and 2nd data keys are throttled, the 3rd goes through.
fault { dialect = "huawei", action = "generate_data_key", times = 2, error = "throttled" }

-- Tencent: every 3rd Encrypt is over the limit.
fault { dialect = "tencent", action = "Encrypt", every = 3, error = "throttled" }

-- A token bucket: 2 GenerateRandom calls a second, bursts of 3, per
-- dialect; past it each cloud's throttling answer (Huawei's with
-- Retry-After).
fault { action = "generate_random", rate = 2, burst = 3 }
