-- Every Tencent key usage and state, for the Tencent specs and SDK tests.
-- Same test credentials as scenarios/default.lua; ap-guangzhou is an SM
-- region (symmetric keys SM4), ap-singapore a FIPS one (AES-256).
seed "kmsemu-tencent"

credentials {
  tencent = {
    secret_id = "AKIDkmsemuEXAMPLE0000000000000000000",
    secret_key = "kmsemuEXAMPLEsecretkey0000000000",
    region = "ap-guangzhou",
    uin = "700001224419",
  },
}

local DAY = 86400
local T0 = 1730000000 -- creation times, so that listings have one order

-- Symmetric keys in every state.
cmk { id = "10000001-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", spec = "SM4",
      alias = "sym-enabled", description = "SM4, enabled", created = T0 + 1,
      tags = { env = "dev", team = "core" } }
cmk { id = "10000002-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", spec = "AES_256",
      alias = "sym-aes", description = "AES-256 in an SM region", created = T0 + 2,
      tags = { env = "prod" } }
cmk { id = "10000003-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", state = "disabled",
      alias = "sym-disabled", created = T0 + 3 }
cmk { id = "10000004-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", state = "pending_deletion",
      alias = "sym-pending-delete", created = T0 + 4, deletion_date = 4102444800 }
cmk { id = "10000005-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", state = "archived",
      alias = "sym-archived", created = T0 + 5 }
cmk { id = "10000006-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent",
      alias = "sym-rotating", created = T0 + 6,
      rotation = { enabled = true, interval_days = 30, versions = 2 } }
cmk { id = "10000007-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", managed_by = "cos",
      alias = "cos-managed", created = T0 + 7 }

-- EXTERNAL keys: one awaiting its material, one imported.
cmk { id = "20000001-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", state = "pending_import",
      origin = "external", alias = "ext-pending", created = T0 + 11 }
cmk { id = "20000002-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", origin = "external",
      material = "00112233445566778899aabbccddeeff", alias = "ext-imported", created = T0 + 12 }

-- One asymmetric key per KeyUsage, and a disabled one.
cmk { id = "30000001-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", spec = "RSA_2048",
      usage = "ENCRYPT_DECRYPT", alias = "rsa-decrypt", created = T0 + 21 }
cmk { id = "30000002-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", spec = "SM2",
      usage = "ENCRYPT_DECRYPT", alias = "sm2-decrypt", created = T0 + 22 }
cmk { id = "30000003-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", spec = "SM2",
      usage = "SIGN_VERIFY", alias = "sm2-sign", created = T0 + 23 }
cmk { id = "30000004-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", spec = "EC_P256",
      usage = "SIGN_VERIFY", alias = "ecc-sign", created = T0 + 24 }
cmk { id = "30000005-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", spec = "RSA_2048",
      usage = "SIGN_VERIFY", alias = "rsa2048-sign", created = T0 + 25 }
cmk { id = "30000006-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", spec = "EC_P384",
      usage = "SIGN_VERIFY", alias = "ecdsa384-sign", created = T0 + 26 }
cmk { id = "30000007-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", spec = "RSA_3072",
      usage = "SIGN_VERIFY", alias = "rsa3072-sign", created = T0 + 27 }
cmk { id = "30000008-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", spec = "EC_P256",
      usage = "SIGN_VERIFY", state = "disabled", alias = "ecc-disabled", created = T0 + 28 }

-- A FIPS region.
cmk { id = "40000001-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", spec = "AES_256",
      region = "ap-singapore", alias = "sg-data", created = T0 + 31 }
