-- The default scenario: what `make run` serves and the SDK contract tests
-- run against. Test credentials only; they open nothing but this emulator.
seed "kmsemu-default"

credentials {
  huawei = {
    ak = "HWAKEXAMPLE0000000000",
    sk = "HWSKEXAMPLEsecretkey0000000000000000000",
    project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
  },
  tencent = {
    secret_id = "AKIDkmsemuEXAMPLE0000000000000000000",
    secret_key = "kmsemuEXAMPLEsecretkey0000000000",
    region = "ap-guangzhou",
  },
}

-- Huawei: one key per supported spec, one in each state that is not
-- enabled, and one in another project (invisible from the default one).
cmk { id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", dialect = "huawei", spec = "AES_256",
      alias = "app/data", description = "envelope encryption of application data" }
cmk { id = "5f3c2a10-6b7d-4e8f-9a01-23456789abcd", dialect = "huawei", spec = "SM4",
      alias = "app/sm4" }
cmk { id = "7e1d2c3b-4a59-4687-9abc-def012345678", dialect = "huawei", state = "disabled",
      alias = "app/disabled" }
cmk { id = "8a9b0c1d-2e3f-4051-8617-28394a5b6c7d", dialect = "huawei", state = "pending_deletion",
      alias = "app/retired" }
cmk { id = "9b8a7c6d-5e4f-4321-8fed-cba987654321", dialect = "huawei", state = "pending_import",
      alias = "app/byok" }
cmk { id = "3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b", dialect = "huawei",
      project_id = "ffffffffffffffffffffffffffffffff", alias = "other/project" }

-- Tencent: the same shape, keyed by region.
cmk { id = "23e80852-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", spec = "SM4",
      alias = "app-data" }
cmk { id = "6d4f5e70-1e38-11e9-b129-5cb9019b4b06", dialect = "tencent", spec = "AES_256",
      alias = "app-aes" }
cmk { id = "2f8d1a3e-1e38-11e9-b129-5cb9019b4b02", dialect = "tencent", state = "disabled",
      alias = "app-disabled" }
cmk { id = "3a7c2b4d-1e38-11e9-b129-5cb9019b4b03", dialect = "tencent", state = "pending_deletion",
      alias = "app-retired" }
cmk { id = "4b6d3c5e-1e38-11e9-b129-5cb9019b4b04", dialect = "tencent", state = "pending_import",
      alias = "app-byok" }
cmk { id = "5c5e4d6f-1e38-11e9-b129-5cb9019b4b05", dialect = "tencent", region = "ap-shanghai",
      alias = "shanghai-data" }
