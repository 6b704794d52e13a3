-- Connection faults: what a network or a crashing gateway does to a call.
-- Each effect is tied to one action so that a test (or a demo) can ask
-- for it by calling that action; the operation itself runs, only the
-- answer is lost or mangled on its way back.
seed "faults-connection"

credentials {
  huawei = { ak = "HWAKEXAMPLE0000000000", sk = "HWSKEXAMPLEsecretkey0000000000000000000",
             project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9" },
  tencent = { secret_id = "AKIDkmsemuEXAMPLE0000000000000000000",
              secret_key = "kmsemuEXAMPLEsecretkey0000000000", region = "ap-guangzhou" },
}

cmk { id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", dialect = "huawei", alias = "app/data" }
cmk { id = "23e80852-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", alias = "app-data" }

-- Tencent
fault { dialect = "tencent", action = "DescribeKey", connection = "reset" }
fault { dialect = "tencent", action = "GenerateRandom", connection = "close" }
fault { dialect = "tencent", action = "ListKeys", connection = "truncate" }
fault { dialect = "tencent", action = "GetServiceStatus", connection = "malformed" }
fault { dialect = "tencent", action = "DescribeKeys", connection = { effect = "garbage", bytes = 64 } }
fault { dialect = "tencent", action = "Encrypt", connection = { effect = "drip", bytes = 64, every_ms = 20 } }
fault { dialect = "tencent", action = "GetKeyRotationStatus", connection = { effect = "hang", ms = 10000 } }

-- Huawei
fault { dialect = "huawei", action = "list-keys", connection = "reset" }
fault { dialect = "huawei", action = "gen-random", connection = "truncate" }
fault { dialect = "huawei", action = "describe-key", connection = "malformed" }
fault { dialect = "huawei", action = "encrypt-data", connection = { effect = "drip", bytes = 64, every_ms = 20 } }
