-- Latency: a fixed delay and a seeded uniform range. The C core sleeps
-- after it releases the Lua lock, so other requests are served meanwhile.
seed "faults-latency"

credentials {
  huawei = { ak = "HWAKEXAMPLE0000000000", sk = "HWSKEXAMPLEsecretkey0000000000000000000",
             project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9" },
  tencent = { secret_id = "AKIDkmsemuEXAMPLE0000000000000000000",
              secret_key = "kmsemuEXAMPLEsecretkey0000000000", region = "ap-guangzhou" },
}

cmk { id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", dialect = "huawei", alias = "app/data" }
cmk { id = "23e80852-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", alias = "app-data" }

-- Every data key takes 300 ms more, in both clouds.
fault { action = "generate_data_key", delay_ms = 300 }

-- Decryption takes from 50 to 150 ms, drawn from the seed.
fault { action = "decrypt", delay_ms = { 50, 150 } }

-- DescribeKey is usually quick but has a long tail: lognormal around
-- 80 ms, never over 2 s.
fault { action = "describe_key", delay_ms = { median = 80, sigma = 0.5, max = 2000 } }
