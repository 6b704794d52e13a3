-- A flaky service: one call in five fails with an internal error, one in
-- ten is slow. The draws come from the seed: the same seed fails the same
-- calls on every run, so a flaky CI failure can be replayed.
seed "flaky-1"

credentials {
  huawei = { ak = "HWAKEXAMPLE0000000000", sk = "HWSKEXAMPLEsecretkey0000000000000000000",
             project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9" },
  tencent = { secret_id = "AKIDkmsemuEXAMPLE0000000000000000000",
              secret_key = "kmsemuEXAMPLEsecretkey0000000000", region = "ap-guangzhou" },
}

cmk { id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", dialect = "huawei", alias = "app/data" }
cmk { id = "23e80852-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", alias = "app-data" }

fault { action = "*", probability = 0.2, error = "internal" }
fault { action = "*", probability = 0.1, delay_ms = { 100, 400 } }
