-- Error faults: vendor codes in each cloud's envelope, neutral names
-- mapped per dialect, and a key whose state changes mid-run.
seed "faults-errors"

credentials {
  huawei = { ak = "HWAKEXAMPLE0000000000", sk = "HWSKEXAMPLEsecretkey0000000000000000000",
             project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9" },
  tencent = { secret_id = "AKIDkmsemuEXAMPLE0000000000000000000",
              secret_key = "kmsemuEXAMPLEsecretkey0000000000", region = "ap-guangzhou" },
}

cmk { id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", dialect = "huawei", alias = "app/data" }
cmk { id = "5f3c2a10-6b7d-4e8f-9a01-23456789abcd", dialect = "huawei", alias = "app/flips" }
cmk { id = "23e80852-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", alias = "app-data" }

-- The 3rd GenerateDataKey finds the CMK disabled, in Tencent's words.
fault { dialect = "tencent", action = "GenerateDataKey", nth = 3,
        error = "ResourceUnavailable.CmkDisabled" }

-- Huawei's decrypt-data fails with KMS.0101 (500) for the first 2 calls.
fault { dialect = "huawei", action = "decrypt", first = 2, error = "internal" }

-- A request the client marks fails as if its key were missing.
fault { action = "encrypt", error = "not_found",
        when = function(req) return req.headers["x-kmsemu-fail"] == "not-found" end }

-- The 2nd data key asked of this Huawei key finds it disabled, and so
-- does every call after it: the state change sticks.
fault { dialect = "huawei", action = "create-datakey",
        key_id = "5f3c2a10-6b7d-4e8f-9a01-23456789abcd", nth = 2, state = "disabled" }
