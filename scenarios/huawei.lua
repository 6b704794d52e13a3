-- Every Huawei key spec and state, the principals and tokens the Huawei
-- specs need. Test credentials only.
seed "kmsemu-huawei"

credentials {
  huawei = {
    ak = "HWAKEXAMPLE0000000000",
    sk = "HWSKEXAMPLEsecretkey0000000000000000000",
    project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    region = "cn-north-4",
    user = "owner", password = "owner-password", domain = "kmsemu-domain",
    user_id = "a1b2c3d4e5f60718293a4b5c6d7e8f90",
    domain_id = "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
    token = "MIIfixed-owner-token",
  },
}

-- A user of the same account with no permissions of its own: it reaches
-- keys only through grants.
huawei_user { name = "app", ak = "HWAKGRANTEE000000000", sk = "HWSKGRANTEEsecret000000000000000000000",
              password = "app-password", user_id = "b1b2b3b4b5b6b7b8b9babbbcbdbebfb0",
              grantee = true, token = "MIIfixed-grantee-token" }

local P = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

-- One enabled key per spec; asymmetric ones in each usage they allow.
cmk { id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", dialect = "huawei", spec = "AES_256", alias = "hw/aes" }
cmk { id = "5f3c2a10-6b7d-4e8f-9a01-23456789abcd", dialect = "huawei", spec = "SM4", alias = "hw/sm4" }
cmk { id = "a0000001-0000-4000-8000-000000000001", dialect = "huawei", spec = "RSA_2048", alias = "hw/rsa2048-sign" }
cmk { id = "a0000001-0000-4000-8000-000000000002", dialect = "huawei", spec = "RSA_2048",
      usage = "ENCRYPT_DECRYPT", alias = "hw/rsa2048-enc" }
cmk { id = "a0000001-0000-4000-8000-000000000003", dialect = "huawei", spec = "RSA_3072", alias = "hw/rsa3072" }
cmk { id = "a0000001-0000-4000-8000-000000000004", dialect = "huawei", spec = "RSA_4096", alias = "hw/rsa4096" }
cmk { id = "a0000001-0000-4000-8000-000000000005", dialect = "huawei", spec = "EC_P256", alias = "hw/p256" }
cmk { id = "a0000001-0000-4000-8000-000000000006", dialect = "huawei", spec = "EC_P384", alias = "hw/p384" }
cmk { id = "a0000001-0000-4000-8000-000000000007", dialect = "huawei", spec = "SECP256K1", alias = "hw/k1" }
cmk { id = "a0000001-0000-4000-8000-000000000008", dialect = "huawei", spec = "SM2", alias = "hw/sm2-sign" }
cmk { id = "a0000001-0000-4000-8000-000000000009", dialect = "huawei", spec = "SM2",
      usage = "ENCRYPT_DECRYPT", alias = "hw/sm2-enc" }
cmk { id = "a0000001-0000-4000-8000-00000000000a", dialect = "huawei", spec = "ED25519", alias = "hw/ed25519" }
cmk { id = "b0000001-0000-4000-8000-000000000256", dialect = "huawei", spec = "HMAC_256", alias = "hw/hmac256" }
cmk { id = "b0000001-0000-4000-8000-000000000384", dialect = "huawei", spec = "HMAC_384", alias = "hw/hmac384" }
cmk { id = "b0000001-0000-4000-8000-000000000512", dialect = "huawei", spec = "HMAC_512", alias = "hw/hmac512" }
cmk { id = "b0000001-0000-4000-8000-000000000003", dialect = "huawei", spec = "HMAC_SM3", alias = "hw/hmacsm3" }

-- Each state that is not enabled.
cmk { id = "7e1d2c3b-4a59-4687-9abc-def012345678", dialect = "huawei", state = "disabled", alias = "hw/disabled" }
cmk { id = "8a9b0c1d-2e3f-4051-8617-28394a5b6c7d", dialect = "huawei", state = "pending_deletion",
      alias = "hw/retired", deletion_date = 4102444800 }
cmk { id = "9b8a7c6d-5e4f-4321-8fed-cba987654321", dialect = "huawei", state = "pending_import",
      alias = "hw/byok" }

-- A service's default master key, and a key in another project.
cmk { id = "c0000001-0000-4000-8000-000000000001", dialect = "huawei", alias = "evs/default" }
cmk { id = "3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b", dialect = "huawei",
      project_id = "ffffffffffffffffffffffffffffffff", alias = "other/project" }

-- Tagged, and rotated twice already.
cmk { id = "d0000001-0000-4000-8000-000000000001", dialect = "huawei", alias = "hw/tagged",
      tags = { env = "prod", team = "pay" }, project_id = P }
cmk { id = "d0000001-0000-4000-8000-000000000002", dialect = "huawei", alias = "hw/rotated",
      rotation = { enabled = true, interval_days = 90, versions = 3 } }

-- A second region (multi-region keys replicate there) and two dedicated
-- keystores, one disabled.
huawei_region { name = "cn-east-3", project_id = "e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3" }
huawei_keystore { id = "f0000001-0000-4000-8000-000000000001", alias = "hw-dhsm", type = "DHSM",
                  hsm_cluster_id = "a5f4e3d2-c1b0-4a9f-8e7d-6c5b4a392817" }
huawei_keystore { id = "f0000001-0000-4000-8000-000000000002", alias = "hw-cdms", type = "CDMS",
                  cluster_id = "cdms-cluster-1", state = "disabled" }
