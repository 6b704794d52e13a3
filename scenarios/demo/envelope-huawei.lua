-- Envelope encryption with Huawei Cloud KMS: create-datakey gives the data
-- key in the clear and sealed; decrypt-datakey opens the sealed one later.
-- Run it with
--   build/kmsemu run scenarios/demo/envelope-huawei.lua
seed "demo-envelope-huawei"

credentials {
  huawei = { ak = "HWAKEXAMPLE0000000000", sk = "HWSKEXAMPLEsecretkey0000000000000000000",
             project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9" },
}

local KEY = "3c2b1a09-8f7e-4d6c-9b5a-493827160504"
cmk { id = KEY, dialect = "huawei", spec = "AES_256", alias = "orders" }

local kept = {}

step("ask the CMK for a 512-bit data key", function(kms)
  local status, r = kms.huawei("create-datakey", { key_id = KEY, datakey_length = "512" })
  expect(status == 200, "create-datakey succeeds")
  expect(#r.plain_text == 128, "64 bytes of key, in hex")
  kept.plain, kept.sealed = r.plain_text, r.cipher_text
end)

step("open the sealed data key", function(kms)
  local status, r = kms.huawei("decrypt-datakey",
    { key_id = KEY, cipher_text = kept.sealed, datakey_cipher_length = "64" })
  expect(status == 200, "decrypt-datakey succeeds")
  expect(r.data_key == kept.plain, "the same data key comes back")
end)

step("a key scheduled for deletion refuses", function(kms)
  kms.huawei("disable-key", { key_id = KEY })
  kms.huawei("schedule-key-deletion", { key_id = KEY, pending_days = "7" })
  local status, r = kms.huawei("decrypt-datakey",
    { key_id = KEY, cipher_text = kept.sealed, datakey_cipher_length = "64" })
  expect(status == 400 and r.error.error_code == "KMS.0210", "decrypt-datakey is refused with KMS.0210")
end)
