-- Envelope encryption with Tencent KMS, step by step: a data key from the
-- CMK, the data sealed locally with its plaintext, only the encrypted data
-- key kept; later KMS opens the data key again. Run it with
--   build/kmsemu run scenarios/demo/envelope-tencent.lua
seed "demo-envelope-tencent"

credentials {
  tencent = { secret_id = "AKIDkmsemuEXAMPLE0000000000000000000",
              secret_key = "kmsemuEXAMPLEsecretkey0000000000", region = "ap-guangzhou" },
}

local KEY = "7b1e9d42-5c3a-4f60-8d21-0a9b8c7d6e5f"
cmk { id = KEY, dialect = "tencent", spec = "AES_256", alias = "orders" }

local kept = {}

step("ask the CMK for a 256-bit data key", function(kms)
  local r = kms.tencent("GenerateDataKey", { KeyId = KEY, KeySpec = "AES_256" })
  expect(r.Error == nil, "GenerateDataKey succeeds")
  expect(r.KeyId == KEY, "the answer names the CMK")
  kept.plaintext, kept.blob = r.Plaintext, r.CiphertextBlob
end)

step("keep only the encrypted data key; KMS opens it again", function(kms)
  local r = kms.tencent("Decrypt", { CiphertextBlob = kept.blob })
  expect(r.Error == nil, "Decrypt succeeds")
  expect(r.Plaintext == kept.plaintext, "the same data key comes back")
  expect(r.KeyId == KEY, "and KMS says which CMK sealed it")
end)

step("a disabled CMK no longer opens it", function(kms)
  kms.tencent("DisableKey", { KeyId = KEY })
  local r = kms.tencent("Decrypt", { CiphertextBlob = kept.blob })
  expect(r.Error and r.Error.Code == "ResourceUnavailable.CmkDisabled", "Decrypt is refused")
  kms.tencent("EnableKey", { KeyId = KEY })
end)
