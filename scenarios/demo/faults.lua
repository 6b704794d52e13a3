-- Fault injection, shown: a retry loop meets a throttle, the 3rd call
-- finds the key disabled, and the journal counts what happened. Run it with
--   build/kmsemu run scenarios/demo/faults.lua
seed "demo-faults"

credentials {
  tencent = { secret_id = "AKIDkmsemuEXAMPLE0000000000000000000",
              secret_key = "kmsemuEXAMPLEsecretkey0000000000", region = "ap-guangzhou" },
}

local KEY = "5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716"
cmk { id = KEY, dialect = "tencent", alias = "payments" }

fault { id = "throttle", action = "GenerateDataKey", first = 2, error = "throttled" }
fault { id = "disable", action = "Encrypt", nth = 3, state = "disabled" }

step("a client retries GenerateDataKey until the throttle lets go", function(kms)
  local tries, r = 0, nil
  repeat
    tries = tries + 1
    r = kms.tencent("GenerateDataKey", { KeyId = KEY, KeySpec = "AES_256" })
  until r.Error == nil or tries == 5
  expect(r.Error == nil, "the 3rd try succeeds")
  expect(journal.count { action = "GenerateDataKey", error = "RequestLimitExceeded" } == 2,
    "the journal saw two throttled calls")
end)

step("the 3rd Encrypt finds the key disabled", function(kms)
  local codes = {}
  for i = 1, 3 do
    local r = kms.tencent("Encrypt", { KeyId = KEY, Plaintext = "aGVsbG8=" })
    codes[i] = r.Error and r.Error.Code or "ok"
  end
  expect(codes[1] == "ok" and codes[2] == "ok", "two Encrypts pass")
  expect(codes[3] == "ResourceUnavailable.CmkDisabled", "the 3rd is refused")
end)
